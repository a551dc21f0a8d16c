/*
 * Process objects: creation, start, join, signals, close, and the table
 * of children that guarantees every started child is reaped.
 *
 * Ownership: a process object has one reference held by the caller (until
 * mproc_process_free) and one held by the children table from start until
 * the child is reaped. Whoever drops the last reference destroys it, so a
 * caller may free a running process and the child is still reaped later.
 */
#include <apr_general.h>
#include <apr_thread_mutex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "object.h"
#include "platform.h"
#include "process.h"

#define AUTHKEY_LEN 32

static apr_pool_t *global_pool;
static apr_thread_mutex_t *lock;

/* The children table: started, not yet reaped, in start order. */
static mproc_process_t *children;

/* Next number for a default name ("Process-N"); restarts in each child. */
static int64_t process_counter;

/* This process and its parent as process objects. */
static mproc_process_t current = {.kind = MPROC__KIND_CURRENT,
                                  .exitcode = MPROC_EXITCODE_NONE};
static mproc_process_t parent = {.kind = MPROC__KIND_PARENT,
                                 .exitcode = MPROC_EXITCODE_NONE};
static int have_parent;

static int ensure_authkey(mproc_process_t *p);

/* Runs before main(), single-threaded: APR, the lock and the authkey must
 * exist before any thread can race to create them. (A spawned child
 * replaces the key with its parent's.) */
MPROC__CTOR(mproc__library_init)
{
  if (apr_initialize() != APR_SUCCESS ||
      apr_pool_create(&global_pool, NULL) != APR_SUCCESS ||
      apr_thread_mutex_create(&lock, APR_THREAD_MUTEX_DEFAULT, global_pool) !=
          APR_SUCCESS)
    lock = NULL;
  current.name = strdup("MainProcess");
  (void)ensure_authkey(&current);
}

static void table_lock(void)
{
  if (lock != NULL)
    apr_thread_mutex_lock(lock);
}

static void table_unlock(void)
{
  if (lock != NULL)
    apr_thread_mutex_unlock(lock);
}

int mproc__init(void)
{
  if (lock == NULL || current.name == NULL)
    return mproc__err(MPROC_ENOMEM, "mproc could not initialise APR");
  return 0;
}

/* 32 random bytes, made once (at load, or later if that failed). */
static int ensure_authkey(mproc_process_t *p)
{
  unsigned char key[AUTHKEY_LEN];

  if (p->authkey != NULL)
    return 0;
  if (mproc__random(key, sizeof key) != 0)
    return mproc__err(MPROC_EOS, "no random bytes for the authkey");
  p->authkey = malloc(sizeof key);
  if (p->authkey == NULL)
    return mproc__err(MPROC_ENOMEM, "out of memory");
  memcpy(p->authkey, key, sizeof key);
  p->authkey_len = sizeof key;
  return 0;
}

static int set_bytes(unsigned char **dst, size_t *dst_len, const void *src,
                     size_t len)
{
  unsigned char *copy = malloc(len ? len : 1);

  if (copy == NULL)
    return mproc__err(MPROC_ENOMEM, "out of memory");
  if (len)
    memcpy(copy, src, len);
  free(*dst);
  *dst = copy;
  *dst_len = len;
  return 0;
}

/* "Process-1:3" from the identity {1, 3}. */
static char *identity_name(const int64_t *ident, size_t n)
{
  size_t cap = 16 + n * 21;
  char *name = malloc(cap);
  size_t used;

  if (name == NULL)
    return NULL;
  used = (size_t)snprintf(name, cap, "Process");
  for (size_t i = 0; i < n; i++)
    used += (size_t)snprintf(name + used, cap - used, "%c%lld", i ? ':' : '-',
                             (long long)ident[i]);
  return name;
}

static int init_identity(mproc_process_t *p)
{
  size_t n = current.identity_len + 1;

  p->identity = malloc(n * sizeof *p->identity);
  if (p->identity == NULL)
    return mproc__err(MPROC_ENOMEM, "out of memory");
  if (current.identity_len)
    memcpy(p->identity, current.identity,
           current.identity_len * sizeof *p->identity);
  table_lock();
  p->identity[n - 1] = ++process_counter;
  table_unlock();
  p->identity_len = n;
  p->name = identity_name(p->identity, n);
  return p->name ? 0 : mproc__err(MPROC_ENOMEM, "out of memory");
}

static void report_close(mproc_process_t *p)
{
  if (p->report_r != -1)
    mproc__plat_handle_close(p->report_r);
  if (p->report_w != -1)
    mproc__plat_handle_close(p->report_w);
  p->report_r = p->report_w = -1;
}

static void destroy(mproc_process_t *p)
{
  report_close(p);
  free(p->error);
  if (p->child != NULL)
    mproc__plat_child_free(p->child);
  msgpack_sbuffer_destroy(&p->args);
  msgpack_sbuffer_destroy(&p->kwargs);
  mproc__objlist_clear(&p->objs);
  free(p->identity);
  free(p->authkey);
  free(p->name);
  free(p);
}

/* Drop one reference; the caller must not hold the table lock. */
static void unref(mproc_process_t *p)
{
  int last;

  table_lock();
  last = --p->refs == 0;
  table_unlock();
  if (last)
    destroy(p);
}

int mproc_context_processv(const mproc_context_t *ctx, mproc_process_t **out,
                           mproc_target_fn target, const char *argfmt,
                           va_list ap)
{
  mproc_process_t *p = NULL;
  va_list copy;
  int rc;

  if (out == NULL || target == NULL)
    return mproc__err(MPROC_EINVAL, "a process needs a target function");
  *out = NULL;
  rc = mproc__init();
  if (rc != 0)
    return rc;
  p = calloc(1, sizeof *p);
  if (p == NULL)
    return mproc__err(MPROC_ENOMEM, "out of memory");
  p->kind = MPROC__KIND_CHILD;
  p->refs = 1;
  p->target = target;
  p->method = mproc_context_method(ctx);
  p->default_method = ctx == NULL;
  p->daemon = current.daemon;
  p->creator_pid = mproc__plat_getpid();
  p->exitcode = MPROC_EXITCODE_NONE;
  p->report_r = p->report_w = -1;
  msgpack_sbuffer_init(&p->args);
  msgpack_sbuffer_init(&p->kwargs);
  rc = init_identity(p);
  if (rc == 0)
    rc = ensure_authkey(&current);
  if (rc == 0)
    rc = set_bytes(&p->authkey, &p->authkey_len, current.authkey,
                   current.authkey_len);
  if (rc == 0) {
    va_copy(copy, ap);
    rc = mproc__encode_args_o(&p->args, argfmt, &copy, &p->objs);
    va_end(copy);
  }
  if (rc != 0) {
    destroy(p);
    return rc;
  }
  *out = p;
  return 0;
}

int mproc_context_process(const mproc_context_t *ctx, mproc_process_t **out,
                          mproc_target_fn target, const char *argfmt, ...)
{
  va_list ap;
  int rc;

  va_start(ap, argfmt);
  rc = mproc_context_processv(ctx, out, target, argfmt, ap);
  va_end(ap);
  return rc;
}

int mproc_process_create(mproc_process_t **out, mproc_target_fn target,
                         const char *argfmt, ...)
{
  va_list ap;
  int rc;

  va_start(ap, argfmt);
  rc = mproc_context_processv(NULL, out, target, argfmt, ap);
  va_end(ap);
  return rc;
}

/* Common checks of operations on a child process object. */
static int check_usable(const mproc_process_t *p, const char *what)
{
  if (p == NULL)
    return mproc__err(MPROC_EINVAL, "%s: process is NULL", what);
  if (p->closed)
    return mproc__err(MPROC_ECLOSED, "%s: process object is closed", what);
  return 0;
}

int mproc_process_set_kwargs(mproc_process_t *p, const char *mapfmt, ...)
{
  msgpack_sbuffer buf;
  va_list ap;
  int rc = check_usable(p, "set_kwargs");

  if (rc != 0)
    return rc;
  if (p->kind != MPROC__KIND_CHILD || p->child != NULL)
    return mproc__err(MPROC_ESTATE, "set_kwargs: process has already "
                                    "started");
  msgpack_sbuffer_init(&buf);
  va_start(ap, mapfmt);
  rc = mproc__encode_kwargs_o(&buf, mapfmt, &ap, &p->objs);
  va_end(ap);
  if (rc != 0) {
    msgpack_sbuffer_destroy(&buf);
    return rc;
  }
  msgpack_sbuffer_destroy(&p->kwargs);
  p->kwargs = buf;
  return 0;
}

/* In a forked child, right after fork(): become the process described by
 * the parent's object, without encoding anything. */
static void fork_child(void *arg)
{
  mproc_process_t *p = arg;
  mproc__boot_t b = {0};

  mproc__plat_after_fork_child();
  b.name = p->name;
  b.target = (char *)mproc_target_name(p->target);
  b.fn = p->target;
  b.authkey = p->authkey;
  b.authkey_len = p->authkey_len;
  b.identity = p->identity;
  b.identity_len = p->identity_len;
  b.parent_pid = p->creator_pid;
  b.parent_name = current.name;
  b.daemon = p->daemon;
  b.method = MPROC_FORK;
  b.args = p->args.data;
  b.args_len = p->args.size;
  b.kwargs = p->kwargs.data;
  b.kwargs_len = p->kwargs.size;
  b.objs = p->fork_objs;
  b.nobjs = p->fork_nobjs;
  b.has_report = 1;
  b.report = p->report_w;
  b.log_level = mproc__log_child_level();
  mproc__child_run(&b);
}

/* The objects of @p's arguments as its child will receive them, and the
 * flat list of handles the child must inherit (values in this process).
 * The handles stay owned by the objects, which @p references. */
typedef struct exported {
  mproc__boot_obj_t *objs;
  size_t nobjs;
  intptr_t *handles;
  size_t nhandles;
} exported_t;

static void exported_free(exported_t *e)
{
  free(e->objs);
  free(e->handles);
  memset(e, 0, sizeof *e);
}

static int export_one(mproc_process_t *p, mproc__obj_t *o,
                      mproc__boot_obj_t *bo, exported_t *e)
{
  mproc__export_t ex;
  int rc;

  memset(&ex, 0, sizeof ex);
  rc = o->ops->export_obj(o, &ex);
  if (rc != 0)
    return rc;
  if (ex.nhandles > MPROC__OBJ_MAX_HANDLES ||
      ex.extra_len > MPROC__OBJ_MAX_EXTRA)
    return mproc__err(MPROC_EINVAL, "%s: exported too much",
                      mproc_kind_name(o->ops->kind));
  /* SCM_RIGHTS carries at most 253 descriptors per message. */
  if (e->nhandles + ex.nhandles > 200)
    return mproc__err(MPROC_EINVAL, "the objects in a process's arguments "
                                    "need more than 200 handles");
  bo->kind = o->ops->kind;
  for (size_t j = 0; j < ex.nhandles; j++) {
    bo->handles[j] =
        mproc__plat_child_handle(p->method, e->nhandles, ex.handles[j]);
    e->handles[e->nhandles++] = ex.handles[j];
  }
  bo->nhandles = ex.nhandles;
  memcpy(bo->extra, ex.extra, ex.extra_len);
  bo->extra_len = ex.extra_len;
  return 0;
}

static int export_objects(mproc_process_t *p, exported_t *e)
{
  size_t n = p->objs.n;
  int rc = 0;

  memset(e, 0, sizeof *e);
  if (n == 0)
    return 0;
  e->objs = calloc(n, sizeof *e->objs);
  e->handles = calloc(n * MPROC__OBJ_MAX_HANDLES, sizeof *e->handles);
  if (e->objs == NULL || e->handles == NULL)
    rc = mproc__err(MPROC_ENOMEM, "out of memory");
  for (size_t i = 0; i < n && rc == 0; i++)
    rc = export_one(p, p->objs.items[i], &e->objs[i], e);
  e->nobjs = n;
  if (rc != 0)
    exported_free(e);
  return rc;
}

static int encode_boot(mproc_process_t *p, const char *target,
                       const exported_t *e, msgpack_sbuffer *out)
{
  mproc__boot_t b = {0};

  b.objs = e->objs;
  b.nobjs = e->nobjs;

  b.target = (char *)target;
  b.name = p->name;
  b.authkey = p->authkey;
  b.authkey_len = p->authkey_len;
  b.identity = p->identity;
  b.identity_len = p->identity_len;
  b.parent_pid = p->creator_pid;
  b.parent_name = current.name;
  b.daemon = p->daemon;
  b.method = (int)p->method;
  b.args = p->args.data;
  b.args_len = p->args.size;
  b.kwargs = p->kwargs.data;
  b.kwargs_len = p->kwargs.size;
  b.has_report = 1;
  b.report = mproc__plat_child_handle(p->method, e->nhandles, p->report_w);
  b.log_level = mproc__log_child_level();
  return mproc__boot_encode(&b, out);
}

static int check_startable(mproc_process_t *p)
{
  int rc = check_usable(p, "start");

  if (rc != 0)
    return rc;
  if (p->kind != MPROC__KIND_CHILD)
    return mproc__err(MPROC_ESTATE, "only a child process can be started");
  if (p->child != NULL || p->started)
    return mproc__err(MPROC_ESTATE, "cannot start a process twice");
  if (p->creator_pid != mproc__plat_getpid())
    return mproc__err(MPROC_ESTATE, "can only start a process object "
                                    "created by current process");
  if (p->default_method && (rc = mproc__default_method_check()) != 0)
    return rc;
  if (current.daemon)
    return mproc__err(MPROC_EDAEMON,
                      "daemonic processes are not allowed to have children");
  /* The fork-bomb guard: code before mproc_main() runs again in every
   * spawned child, exactly like module-level code under Python's spawn. */
  if (mproc__plat_is_spawned_child() && !mproc__main_called)
    return mproc__err(MPROC_EBOOTSTRAP,
                      "an attempt has been made to start a new process "
                      "before the current process has finished its "
                      "bootstrapping phase: call mproc_main(argc, argv) "
                      "first in main(), and start processes after it");
  if (p->method != MPROC_FORK && !mproc__main_called)
    return mproc__err(MPROC_EBOOTSTRAP,
                      "start method '%s' re-executes the program: main() "
                      "must call mproc_main(argc, argv) first",
                      mproc_start_method_name(p->method));
  return 0;
}

static void at_exit(void)
{
  mproc__exit_cleanup();
}

/* The report pipe: a child whose target fails writes its message into
 * the write end before it exits (mproc__report_failure); the parent reads
 * it once the child is reaped. The write end is the last handle the
 * child inherits, after the objects'. */
static int open_report(mproc_process_t *p, exported_t *e)
{
  intptr_t *grown;
  int rc = mproc__plat_pipe(0, &p->report_r, &p->report_w);

  if (rc != 0) {
    p->report_r = p->report_w = -1;
    return rc;
  }
  grown = realloc(e->handles, (e->nhandles + 1) * sizeof *grown);
  if (grown == NULL)
    return mproc__err(MPROC_ENOMEM, "out of memory");
  e->handles = grown;
  e->handles[e->nhandles] = p->report_w;
  return 0;
}

static int launch(mproc_process_t *p)
{
  mproc__launch_t l = {0};
  msgpack_sbuffer boot;
  const char *target = mproc_target_name(p->target);
  exported_t e;
  int rc;

  msgpack_sbuffer_init(&boot);
  rc = export_objects(p, &e);
  if (rc == 0)
    rc = open_report(p, &e);
  if (rc != 0)
    goto out;
  l.method = p->method;
  l.daemon = p->daemon;
  l.handles = e.handles;
  l.nhandles = e.nhandles + 1;
  if (p->method == MPROC_FORK) {
    l.fork_child = fork_child;
    l.fork_arg = p;
    p->fork_objs = e.objs;
    p->fork_nobjs = e.nobjs;
  } else {
    if (target == NULL) {
      rc = mproc__err(MPROC_ENOTREG,
                      "target function %p is not registered, and start "
                      "method '%s' needs its name: define it with "
                      "MPROC_TARGET(name) or call mproc_register(\"name\", "
                      "fn) before starting it",
                      (void *)(uintptr_t)p->target,
                      mproc_start_method_name(p->method));
      goto out;
    }
    rc = encode_boot(p, target, &e, &boot);
    if (rc != 0)
      goto out;
    l.boot = boot.data;
    l.boot_len = boot.size;
  }
  /* As CPython's Popen does: what this process printed before the start
   * comes out before anything the child prints (and, under fork, is not
   * printed twice). */
  fflush(stdout);
  fflush(stderr);
  rc = mproc__plat_start(&l, &p->child);
  /* The child has its own handles now: the objects may go. */
  if (rc == 0)
    mproc__objlist_clear(&p->objs);
out:
  /* The parent keeps only the read end; without a child, nothing. */
  if (p->report_w != -1)
    mproc__plat_handle_close(p->report_w);
  p->report_w = -1;
  if (rc != 0)
    report_close(p);
  p->fork_objs = NULL;
  p->fork_nobjs = 0;
  exported_free(&e);
  msgpack_sbuffer_destroy(&boot);
  return rc;
}

/* What the child reported before it ended, read without blocking (it has
 * ended: whatever it wrote is in the pipe), at most MPROC__REPORT_MAX bytes
 * whatever it wrote. */
static void collect_report(mproc_process_t *p)
{
  char buf[MPROC__REPORT_MAX + 1];
  size_t len = 0, got = 1;
  int ready = 0, is_pipe = 1;

  while (len < MPROC__REPORT_MAX && got > 0 &&
         mproc__plat_wait_handles(&p->report_r, &is_pipe, 1, 0, &ready) > 0 &&
         mproc__plat_pipe_read(p->report_r, buf + len, MPROC__REPORT_MAX - len,
                               &got) == 0)
    len += got;
  report_close(p);
  if (len == 0)
    return;
  buf[len] = '\0';
  free(p->error);
  p->error = strdup(buf);
}

/* The child has been reaped: keep what it reported, say how it ended. */
static void child_ended(mproc_process_t *p)
{
  collect_report(p);
  if (p->exitcode < 0 && p->exitcode > -64)
    MPROC__LOG(MPROC_LOG_DEBUG, "%s (pid %ld) ended by signal %d", p->name,
               p->child ? mproc__plat_child_pid(p->child) : 0L, -p->exitcode);
  else
    MPROC__LOG(MPROC_LOG_DEBUG, "%s (pid %ld) exited with exitcode %d%s%s",
               p->name, p->child ? mproc__plat_child_pid(p->child) : 0L,
               p->exitcode, p->error ? ": " : "", p->error ? p->error : "");
}

/* Reap ended children of the table (CPython's _cleanup()). Called with
 * the lock held; returns the objects whose last reference was the table's,
 * chained through next, for the caller to destroy after unlocking. */
static mproc_process_t *reap_ended_locked(void)
{
  mproc_process_t **link = &children, *dead = NULL;

  while (*link != NULL) {
    mproc_process_t *p = *link;
    if (mproc__plat_reap(p->child, &p->exitcode) != 0) {
      link = &p->next;
      continue;
    }
    *link = p->next;
    p->in_table = 0;
    child_ended(p);
    if (--p->refs == 0) {
      p->next = dead;
      dead = p;
    }
  }
  return dead;
}

static void destroy_chain(mproc_process_t *dead)
{
  while (dead != NULL) {
    mproc_process_t *next = dead->next;
    destroy(dead);
    dead = next;
  }
}

/* Append @p to the children table; the table takes a reference. Called
 * with the lock held. */
static void table_add_locked(mproc_process_t *p)
{
  mproc_process_t **link = &children;

  while (*link != NULL)
    link = &(*link)->next;
  p->next = NULL;
  *link = p;
  p->refs++;
  p->in_table = 1;
}

int mproc_process_start(mproc_process_t *p)
{
  static int exit_hook;
  mproc_process_t *dead;
  int claimed, rc = check_startable(p);

  if (rc != 0)
    return rc;
  /* Claimed under the lock, so that two threads starting the same object
   * cannot both launch it. */
  table_lock();
  claimed = !p->started;
  p->started = 1;
  dead = reap_ended_locked();
  table_unlock();
  destroy_chain(dead);
  if (!claimed)
    return mproc__err(MPROC_ESTATE, "cannot start a process twice");
  rc = launch(p);
  if (rc == 0)
    MPROC__LOG(MPROC_LOG_DEBUG, "started %s (pid %ld, method %s)", p->name,
               mproc__plat_child_pid(p->child),
               mproc_start_method_name(p->method));
  else
    MPROC__LOG(MPROC_LOG_DEBUG, "could not start %s: %s", p->name,
               mproc_last_error());
  table_lock();
  if (rc == 0)
    table_add_locked(p);
  else
    p->started = 0; /* nothing started: the object may be started again */
  /* Every process with children gets the exit hook, children too: a
   * target that calls exit() still terminates its daemonic children and
   * joins the others (mproc_exit() and returning do so directly). */
  if (rc == 0 && !exit_hook) {
    exit_hook = 1;
    atexit(at_exit);
  }
  table_unlock();
  return rc;
}

/* Remove @p from the table and drop the table's reference; the caller
 * holds one too, so it is never the last. Called with the lock held. */
static void table_unlink_locked(mproc_process_t *p)
{
  mproc_process_t **link = &children;

  while (*link != p)
    link = &(*link)->next;
  *link = p->next;
  p->in_table = 0;
  p->refs--;
}

/* Reap @p if it has ended; removes it from the table. Returns 1 when it
 * has ended. */
static int try_reap(mproc_process_t *p)
{
  int ended, reaped = 0;

  table_lock();
  if (p->in_table && mproc__plat_reap(p->child, &p->exitcode) == 0) {
    table_unlink_locked(p);
    child_ended(p);
    reaped = 1;
  }
  ended = !p->in_table;
  table_unlock();
  /* The child may have left named shared memory blocks with no user
   * alive (it crashed, or ended without closing them). */
  if (reaped)
    mproc__plat_named_sweep();
  return ended;
}

static int check_child_op(const mproc_process_t *p, const char *what)
{
  int rc = check_usable(p, what);

  if (rc != 0)
    return rc;
  if (p->kind != MPROC__KIND_CHILD || p->creator_pid != mproc__plat_getpid())
    return mproc__err(MPROC_ENOTCHILD, "%s: can only %s a child process", what,
                      what);
  if (!p->started)
    return mproc__err(MPROC_ESTATE, "%s: can only %s a started process", what,
                      what);
  return 0;
}

/* CPython's parent_process().join(timeout): wait for the parent to end. */
static int join_parent(mproc_process_t *p, double timeout)
{
  int rc = mproc__plat_parent_wait(current.method, p->pid, timeout);

  if (rc == MPROC_ETIMEDOUT)
    return mproc__err(rc, "join: parent process %s still runs", p->name);
  return rc;
}

int mproc_process_join(mproc_process_t *p, double timeout)
{
  int rc;

  if (p != NULL && p->kind == MPROC__KIND_PARENT)
    return join_parent(p, timeout);
  if ((rc = check_child_op(p, "join")) != 0)
    return rc;
  if (try_reap(p))
    return 0;
  rc = mproc__plat_wait(p->child, timeout);
  if (rc != 0)
    return rc == MPROC_ETIMEDOUT
               ? mproc__err(rc, "join: process %s still runs", p->name)
               : rc;
  (void)try_reap(p);
  return 0;
}

int mproc_process_is_alive(mproc_process_t *p)
{
  int rc = check_usable(p, "is_alive");

  if (rc != 0)
    return rc;
  if (p->kind == MPROC__KIND_CURRENT)
    return 1;
  if (p->kind == MPROC__KIND_PARENT)
    return mproc__plat_parent_wait(current.method, p->pid, 0) ==
           MPROC_ETIMEDOUT;
  if (p->creator_pid != mproc__plat_getpid())
    return mproc__err(MPROC_ENOTCHILD, "can only test a child process");
  if (!p->started)
    return 0;
  return !try_reap(p);
}

static int send_signal(mproc_process_t *p, int hard)
{
  const char *what = hard ? "kill" : "terminate";
  int rc = check_usable(p, what);

  if (rc != 0)
    return rc;
  if (p->kind != MPROC__KIND_CHILD || !p->started)
    return mproc__err(MPROC_ESTATE, "%s: process has not been started", what);
  if (p->creator_pid != mproc__plat_getpid())
    return mproc__err(MPROC_ENOTCHILD, "%s: not a child of this process", what);
  if (try_reap(p))
    return 0;
  return mproc__plat_signal(p->child, hard);
}

int mproc_process_terminate(mproc_process_t *p)
{
  return send_signal(p, 0);
}

int mproc_process_kill(mproc_process_t *p)
{
  return send_signal(p, 1);
}

int mproc_process_close(mproc_process_t *p)
{
  if (p == NULL)
    return mproc__err(MPROC_EINVAL, "close: process is NULL");
  if (p->closed)
    return 0;
  if (p->kind != MPROC__KIND_CHILD)
    return mproc__err(MPROC_ESTATE, "close: only a child process object "
                                    "can be closed");
  if (p->started && !try_reap(p))
    return mproc__err(MPROC_ESTATE,
                      "Cannot close a process while it is still running. "
                      "You should first call join() or terminate().");
  if (p->child != NULL) {
    mproc__plat_child_free(p->child);
    p->child = NULL;
  }
  p->closed = 1;
  return 0;
}

void mproc_process_free(mproc_process_t *p)
{
  if (p == NULL || p->kind != MPROC__KIND_CHILD)
    return;
  /* A running child keeps the table's reference: it is reaped later. */
  if (p->started && !p->closed)
    (void)try_reap(p);
  unref(p);
}

const char *mproc_process_name(const mproc_process_t *p)
{
  return p && p->name ? p->name : "";
}

int mproc_process_set_name(mproc_process_t *p, const char *name)
{
  char *copy;

  if (p == NULL || name == NULL)
    return mproc__err(MPROC_EINVAL, "set_name: name must be a string");
  copy = strdup(name);
  if (copy == NULL)
    return mproc__err(MPROC_ENOMEM, "out of memory");
  free(p->name);
  p->name = copy;
  return 0;
}

int mproc_process_daemon(const mproc_process_t *p)
{
  return p ? p->daemon : 0;
}

int mproc_process_set_daemon(mproc_process_t *p, int daemonic)
{
  if (p == NULL)
    return mproc__err(MPROC_EINVAL, "set_daemon: process is NULL");
  if (p->kind == MPROC__KIND_PARENT ||
      (p->kind == MPROC__KIND_CHILD && (p->started || p->closed)))
    return mproc__err(MPROC_ESTATE, "process has already started");
  p->daemon = daemonic != 0;
  return 0;
}

long mproc_process_pid(const mproc_process_t *p)
{
  if (p == NULL)
    return mproc__err(MPROC_EINVAL, "pid: process is NULL");
  if (p->closed)
    return mproc__err(MPROC_ECLOSED, "pid: process object is closed");
  if (p->kind == MPROC__KIND_CURRENT)
    return mproc__plat_getpid();
  if (p->kind == MPROC__KIND_PARENT)
    return p->pid;
  return p->child ? mproc__plat_child_pid(p->child) : 0;
}

int mproc_process_exitcode(mproc_process_t *p, int *code)
{
  int rc = check_usable(p, "exitcode");

  if (rc != 0)
    return rc;
  if (code == NULL)
    return mproc__err(MPROC_EINVAL, "exitcode: code pointer is NULL");
  if (p->kind == MPROC__KIND_CHILD && p->started &&
      p->creator_pid == mproc__plat_getpid())
    (void)try_reap(p);
  *code = p->exitcode;
  return 0;
}

const char *mproc_process_error(mproc_process_t *p)
{
  if (p == NULL || p->kind != MPROC__KIND_CHILD || p->closed)
    return NULL;
  if (p->started && p->creator_pid == mproc__plat_getpid())
    (void)try_reap(p);
  return p->error;
}

int mproc_process_authkey(const mproc_process_t *p, const unsigned char **key,
                          size_t *len)
{
  if (p == NULL || key == NULL || len == NULL)
    return mproc__err(MPROC_EINVAL, "authkey: NULL argument");
  if (p->kind == MPROC__KIND_CURRENT) {
    int rc = ensure_authkey((mproc_process_t *)p);
    if (rc != 0)
      return rc;
  }
  if (p->authkey == NULL)
    return mproc__err(MPROC_ESTATE, "authkey: the parent's authkey is not "
                                    "known");
  *key = p->authkey;
  *len = p->authkey_len;
  return 0;
}

int mproc_process_set_authkey(mproc_process_t *p, const void *key, size_t len)
{
  if (p == NULL || key == NULL)
    return mproc__err(MPROC_EINVAL, "set_authkey: NULL argument");
  if (p->kind == MPROC__KIND_PARENT)
    return mproc__err(MPROC_ESTATE, "set_authkey: not on the parent");
  return set_bytes(&p->authkey, &p->authkey_len, key, len);
}

int mproc_process_sentinel(const mproc_process_t *p, mproc_sentinel_t *out)
{
  int rc = check_usable(p, "sentinel");

  if (rc != 0)
    return rc;
  if (out == NULL)
    return mproc__err(MPROC_EINVAL, "sentinel: out pointer is NULL");
  if (p->child == NULL)
    return mproc__err(MPROC_ESTATE, "sentinel: process not started");
  *out = mproc__plat_sentinel(p->child);
  return 0;
}

mproc_start_method_t mproc_process_start_method(const mproc_process_t *p)
{
  return p && p->method ? p->method : mproc_get_start_method();
}

mproc_process_t *mproc_current_process(void)
{
  if (current.authkey == NULL)
    (void)ensure_authkey(&current);
  return &current;
}

mproc_process_t *mproc_parent_process(void)
{
  return have_parent ? &parent : NULL;
}

int mproc_active_children(mproc_process_t **out, size_t cap)
{
  mproc_process_t *dead;
  size_t listed = 0;
  int live = 0;

  table_lock();
  dead = reap_ended_locked();
  for (mproc_process_t *p = children; p != NULL; p = p->next) {
    live++;
    /* refs == 1 means only the table holds it: the caller freed it. */
    if (out != NULL && listed < cap && p->refs > 1)
      out[listed++] = p;
  }
  table_unlock();
  destroy_chain(dead);
  return live;
}

int mproc_cpu_count(void)
{
  int n = mproc__plat_cpu_count();
  return n > 0 ? n : 1;
}

/* Take @p out of the table without reaping it: only when the OS cannot
 * tell us its end, so that exiting never waits forever on it. */
static void table_drop(mproc_process_t *p)
{
  table_lock();
  if (p->in_table)
    table_unlink_locked(p);
  table_unlock();
}

void mproc__exit_cleanup(void)
{
  mproc_process_t *p, *dead;

  /* CPython's _exit_function: terminate daemonic children, then join
   * every child. The table keeps each object alive while we use it. */
  MPROC__LOG(MPROC_LOG_INFO, "process shutting down");
  table_lock();
  dead = reap_ended_locked();
  for (p = children; p != NULL; p = p->next)
    if (p->daemon) {
      MPROC__LOG(MPROC_LOG_INFO, "calling terminate() for daemon %s", p->name);
      (void)mproc__plat_signal(p->child, 0);
    }
  table_unlock();
  destroy_chain(dead);
  for (;;) {
    table_lock();
    p = children;
    if (p != NULL)
      p->refs++;
    table_unlock();
    if (p == NULL)
      break;
    MPROC__LOG(MPROC_LOG_INFO, "calling join() for process %s", p->name);
    if (mproc__plat_wait(p->child, MPROC_FOREVER) != 0 || !try_reap(p))
      table_drop(p);
    unref(p);
  }
}

/* Become the process the bootstrap data describes (child side). */
int mproc__become(mproc__boot_t *b)
{
  /* A forked child inherits the parent's table and, possibly, a lock
   * another thread held at fork(): start over with fresh ones. The old
   * objects belong to the parent; their memory is simply abandoned. */
  if (apr_thread_mutex_create(&lock, APR_THREAD_MUTEX_DEFAULT, global_pool) !=
      APR_SUCCESS)
    lock = NULL;
  children = NULL;
  process_counter = 0;
  /* Under fork, b->parent_name is this process's inherited name: copy
   * it before the name is replaced. */
  parent.pid = b->parent_pid;
  free(parent.name); /* a forked grandchild's copy of its parent's */
  parent.name = strdup(b->parent_name ? b->parent_name : "");
  parent.daemon = 0;
  current.is_child = 1;
  current.daemon = b->daemon;
  current.method = (mproc_start_method_t)b->method;
  mproc__context_adopt(current.method);
  free(current.name);
  current.name = strdup(b->name);
  if (set_bytes(&current.authkey, &current.authkey_len, b->authkey,
                b->authkey_len) != 0)
    return MPROC_ENOMEM;
  free(current.identity);
  current.identity = malloc((b->identity_len + 1) * sizeof(int64_t));
  if (current.name == NULL || current.identity == NULL)
    return mproc__err(MPROC_ENOMEM, "out of memory");
  if (b->identity_len)
    memcpy(current.identity, b->identity, b->identity_len * sizeof(int64_t));
  current.identity_len = b->identity_len;
  if (parent.name == NULL)
    return mproc__err(MPROC_ENOMEM, "out of memory");
  have_parent = 1;
  return 0;
}
