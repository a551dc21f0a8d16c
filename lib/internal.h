/*
 * Internal declarations shared by the files of lib/ (never installed).
 * Portable: no platform #ifdef here; the OS is reached through platform.h.
 */
#ifndef MPROC__INTERNAL_H
#define MPROC__INTERNAL_H

#include <msgpack.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "mproc.h"

/* MinGW's C library names its own printf flavour (the build selects the
 * C99 one, which knows %zu); elsewhere it is plain printf. */
#if defined(__MINGW_PRINTF_FORMAT)
#define MPROC__PRINTF(a, b) __attribute__((format(__MINGW_PRINTF_FORMAT, a, b)))
#define MPROC__NORETURN __attribute__((noreturn))
#elif defined(__GNUC__)
#define MPROC__PRINTF(a, b) __attribute__((format(printf, a, b)))
#define MPROC__NORETURN __attribute__((noreturn))
#else
#define MPROC__PRINTF(a, b)
#define MPROC__NORETURN
#endif

/* ---- errors (error.c) ---- */

/* Record @code with a formatted detail message for this thread; returns
 * @code so that callers can write `return mproc__err(...)`. The
 * arguments may include mproc_last_error() (to add a prefix to it). */
int mproc__err(int code, const char *fmt, ...) MPROC__PRINTF(2, 3);

/* @fmt formatted into a new allocation, cut at @max bytes; NULL when out
 * of memory. */
char *mproc__vformat(size_t max, const char *fmt, va_list ap);
char *mproc__format(size_t max, const char *fmt, ...) MPROC__PRINTF(2, 3);

/* Record an OS failure: @call names the failing call, @oserr is the OS's
 * error number (errno / GetLastError), translated by the platform. */
int mproc__err_os(const char *call, long oserr);

/* ---- random bytes (random.c) ---- */

/* Fill @buf with @len bytes from the OS's CSPRNG (the one source of
 * randomness: authkeys, challenges, names). @return 0; MPROC_EOS. */
int mproc__random(void *buf, size_t len);

/* ---- logging (log.c) ---- */

/* The lowest level that is logged; INT_MAX while logging is off. */
extern atomic_int mproc__log_threshold;

/* Log a record at @level (MPROC_LOG_*), printf-style. The level is
 * compared before the arguments are evaluated, so a log line costs one
 * load and one compare while logging is off: call it anywhere, even on
 * hot paths, with arguments that cost something to compute. */
#define MPROC__LOG(level, ...)                                                 \
  do {                                                                         \
    if ((level) >=                                                             \
        atomic_load_explicit(&mproc__log_threshold, memory_order_relaxed))     \
      mproc__log_emit((level), __VA_ARGS__);                                   \
  } while (0)

void mproc__log_emit(int level, const char *fmt, ...) MPROC__PRINTF(2, 3);

/* The level a child started now should log to stderr at (0: none): the
 * parent's, when it logs to stderr (CPython passes log_to_stderr() to a
 * spawned child). A child applies it with mproc__log_inherit(). */
int mproc__log_child_level(void);
void mproc__log_inherit(int level);

/* ---- value codec (codec.c) ---- */

/* An object as a child receives it (see object.h): its kind, the
 * handles it inherited (values in the child), the bytes that describe it,
 * and once a target has parsed it, the imported object. */
#define MPROC__OBJ_MAX_HANDLES 8
#define MPROC__OBJ_MAX_EXTRA 256
#define MPROC__MAX_OBJS 64 /* objects per process's arguments */
typedef struct mproc__boot_obj {
  int kind;
  intptr_t handles[MPROC__OBJ_MAX_HANDLES];
  size_t nhandles;
  unsigned char extra[MPROC__OBJ_MAX_EXTRA];
  size_t extra_len;
  void *obj; /* the imported mproc__obj_t, or NULL */
} mproc__boot_obj_t;

/* The objects a process's arguments refer to, each referenced once (the
 * `o` unit packs an index into this list). */
typedef struct mproc__objlist {
  void **items; /* mproc__obj_t *, one reference each */
  size_t n, cap;
} mproc__objlist_t;

/* Drop the references and empty the list. */
void mproc__objlist_clear(mproc__objlist_t *l);

/* MessagePack extension type of an object reference (fixext 4: the
 * big-endian index into the process's object list). */
#define MPROC__EXT_OBJECT 77

/* MessagePack extension type of an object that is a value (a proxy): one
 * byte of kind, then the bytes its pack_value op gave. */
#define MPROC__EXT_VALUE_OBJ 78

/* Arguments as decoded in a child: a msgpack array and an optional map,
 * unpacked into one zone. mproc_value_t is a msgpack_object. */
struct mproc_args {
  msgpack_zone zone;
  msgpack_object pos;      /* always an array */
  msgpack_object kw;       /* a map, or nil when there are no kwargs */
  mproc__boot_obj_t *objs; /* owned; what `o` units refer to */
  size_t nobjs;
  int own_handles; /* close unimported handles when freed (not fork) */
  void **values;   /* value objects made by parsing (proxies), one ref each */
  size_t nvalues;
  void *buf; /* the encoded bytes, when decoded in place */
};

/* Decode one encoded argument list (a msgpack array) in place: @buf
 * (from malloc) becomes the args' and is freed with them, also on
 * failure. For messages from queues and connections: no copy. */
int mproc__args_take(mproc_args_t **out, void *buf, size_t len);

/* Room for @len encoded bytes with the args that will hold them, in one
 * allocation (NULL when out of memory). Fill it, then either decode it
 * with mproc__args_take_buffer (which owns it from then on, also on
 * failure) or drop it with mproc__args_buffer_free. */
void *mproc__args_buffer(size_t len);
void mproc__args_buffer_free(void *buf);
int mproc__args_take_buffer(mproc_args_t **out, void *buf, size_t len);

/* Hand @n objects received by a child to @a (ownership of the array
 * moves, whatever happens). */
void mproc__args_adopt_objs(mproc_args_t *a, mproc__boot_obj_t *objs, size_t n,
                            int own_handles);

/* Pack the units of @fmt (Py_BuildValue style, see mproc.h) as one
 * msgpack array into @out. A NULL or empty @fmt packs an empty array. */
int mproc__encode_args(msgpack_sbuffer *out, const char *fmt, va_list *ap);

/* Pack @fmt, which must be exactly one map unit with string keys, into
 * @out. */
int mproc__encode_kwargs(msgpack_sbuffer *out, const char *fmt, va_list *ap);

/* The same, for a process's arguments: `o` units are allowed and add
 * their objects to @objs (a reference each). The plain forms refuse `o`
 * (MPROC_ETYPE: objects travel only by inheritance). */
int mproc__encode_args_o(msgpack_sbuffer *out, const char *fmt, va_list *ap,
                         mproc__objlist_t *objs);
int mproc__encode_kwargs_o(msgpack_sbuffer *out, const char *fmt, va_list *ap,
                           mproc__objlist_t *objs);

/* mproc_args_parse() with a va_list; and a walk over the pointers @fmt
 * takes from @ap, without parsing anything (MPROC_EINVAL for a bad
 * format). */
int mproc__args_parsev(mproc_args_t *args, const char *fmt, va_list *ap);
int mproc__args_skip(const char *fmt, va_list *ap);

/* Decode encoded positional arguments (@pos, must be an array) and
 * keyword arguments (@kw, a map with string keys; @kwlen 0 for none) into
 * a new args object. The buffers are copied. MPROC_ECODEC when malformed. */
int mproc__args_new(mproc_args_t **out, const void *pos, size_t poslen,
                    const void *kw, size_t kwlen);
void mproc__args_free(mproc_args_t *args);

/* 0 when @data holds one complete MessagePack object whose containers
 * claim no more elements than the bytes can hold (checked before handing
 * untrusted bytes to msgpack-c, which allocates by the claimed counts). */
int mproc__msgpack_bounded(const void *data, size_t len);

/* The length of the first MessagePack object of @data (checked as
 * mproc__msgpack_bounded checks it), or 0 when it is not complete. */
size_t mproc__msgpack_len(const void *data, size_t len);

/* ---- bootstrap message (bootstrap.c) ---- */

#define MPROC__BOOT_MAGIC "MPB1"
#define MPROC__BOOT_HDR 12 /* magic (4) + big-endian u64 payload length */
#define MPROC__BOOT_MAX ((uint64_t)1 << 34) /* refuse absurd lengths */

/* Everything a child needs to become the process object the parent
 * created. Decoded strings are NUL-terminated and owned by the struct. */
typedef struct mproc__boot {
  char *target; /* registered name of the target */
  char *name;   /* the process's name */
  unsigned char *authkey;
  size_t authkey_len;
  int64_t *identity; /* e.g. {1, 3} for "Process-1:3" */
  size_t identity_len;
  long parent_pid;
  char *parent_name;
  int daemon;
  int method; /* mproc_start_method_t the child was started with */
  void *args; /* encoded positional args (msgpack array) */
  size_t args_len;
  void *kwargs; /* encoded kwargs (msgpack map), may be empty */
  size_t kwargs_len;
  mproc__boot_obj_t *objs; /* objects in the arguments, by index */
  size_t nobjs;
  int has_report;  /* whether the child has a report pipe: */
  intptr_t report; /* its end of it, in the child */
  int log_level;   /* log to stderr at this level (0: as the child is) */
  /* Not encoded: under fork the child calls the function itself, which
   * need not be registered. NULL after a decode. */
  mproc_target_fn fn;
} mproc__boot_t;

/* Encode @b with its header into @out. */
int mproc__boot_encode(const mproc__boot_t *b, msgpack_sbuffer *out);

/* Read a header: checks the magic, gives the payload length. */
int mproc__boot_header(const unsigned char hdr[MPROC__BOOT_HDR], uint64_t *len);

/* Decode a payload (without header) into @out (zeroed first). On error
 * @out is left cleared and the message says what is wrong. */
int mproc__boot_decode(const void *payload, size_t len, mproc__boot_t *out);

/* Free what a decode allocated; leaves @b zeroed. */
void mproc__boot_clear(mproc__boot_t *b);

/* ---- queues (queues.c) ---- */

/* A SimpleQueue whose ring holds @cap bytes (larger items stream). */
int mproc__simple_queue_create_ring(mproc_queue_t **out, size_t cap);

/* Put @len bytes that already are one encoded argument list (a msgpack
 * array): what get() gives back decoded. */
int mproc__queue_put_raw(mproc_queue_t *q, double timeout, const void *data,
                         size_t len);

/* One part of a message put without copying it together first. */
typedef struct mproc__iov {
  const void *base;
  size_t len;
} mproc__iov_t;

/* Put one message made of the @n parts of @iov, in order (any bytes:
 * only mproc__queue_get_raw reads such a queue). */
int mproc__queue_put_iov(mproc_queue_t *q, double timeout,
                         const mproc__iov_t *iov, size_t n);

/* Take the next message's bytes as they were put: *@buf comes from
 * mproc__args_buffer() (free it with mproc__args_buffer_free(), or decode
 * it with mproc__args_take_buffer()). MPROC_EEMPTY at the timeout. */
int mproc__queue_get_raw(mproc_queue_t *q, double timeout, void **buf,
                         size_t *len);

/* Hand every message waiting in @q to @fn, oldest first, taking the
 * read lock once: @msg is valid during the call only (it may point into
 * the ring). The number handed out, or an error. */
typedef void (*mproc__drain_fn)(void *ctx, const void *msg, size_t len);
int mproc__queue_drain(mproc_queue_t *q, mproc__drain_fn fn, void *ctx);

/* Bytes the queue's ring holds now (the ring's size in *@cap). */
uint64_t mproc__queue_bytes(mproc_queue_t *q, uint64_t *cap);

/* ---- named shared memory (shmem.c) ---- */

/* When [@p, @p + @len) lies inside a SharedMemory block this process has
 * open: 0, its name (NUL-terminated, @cap bytes) and the offset of @p in
 * its buffer; MPROC_ENOTFOUND otherwise. */
int mproc__shm_locate(const void *p, size_t len, char *name, size_t cap,
                      size_t *offset);

/* ---- connections, listeners, authentication (conn.c, listener.c) ---- */

/* A new duplex Connection over connected handle @h (ownership moves,
 * also on failure). */
int mproc__conn_wrap(mproc_conn_t **out, intptr_t h);

/* Make reads of @c fail with MPROC_ETIMEDOUT (and the connection
 * unusable) once @deadline passes; MPROC__NEVER lifts it. */
void mproc__conn_set_deadline(mproc_conn_t *c, double deadline);

/* Accept a peer without the handshake (a server that authenticates in
 * the peer's own thread, so that a slow peer holds up nobody). */
int mproc__listener_accept_raw(mproc_listener_t *l, mproc_conn_t **out,
                               double timeout);

/* Serving a listener: an accept loop that gives each peer a thread of
 * its own (acceptor.c), so that no peer holds up another. @serve(@arg,
 * c) runs in the peer's thread; it returns 1 when it took @c (ownership
 * moves), 0 to have the acceptor close it. At most @max peers are served
 * at once; more wait in the backlog. */
typedef struct mproc__acceptor mproc__acceptor_t;
int mproc__acceptor_create(mproc__acceptor_t **out, mproc_listener_t *l,
                           size_t max, int (*serve)(void *arg, mproc_conn_t *c),
                           void *arg);
/* From @c's serve function, before it hands @c to another thread (which
 * may free it at once): the acceptor forgets @c, and will neither wake
 * nor close it; serve then returns 1. */
void mproc__acceptor_disown(mproc__acceptor_t *a, mproc_conn_t *c);
/* Accept until stopped (or the listener is closed: MPROC_ECLOSED), in
 * the calling thread. */
int mproc__acceptor_run(mproc__acceptor_t *a);
/* From any thread: make run() return soon. The peers' threads go on. */
void mproc__acceptor_stop(mproc__acceptor_t *a);
/* Once run() has returned: wake the peers' threads still serving (their
 * reads end as at EOF), join them and free. NULL is a no-op. */
void mproc__acceptor_free(mproc__acceptor_t *a);

/* The server's half of the handshake (deliver, then answer), every
 * failure reported as MPROC_EAUTH with the reason. A refusal is logged
 * (warning "handshake refused: <reason>", then @refused unless NULL)
 * before the peer is told of it, so the lines precede anything the peer
 * does next. */
int mproc__auth_server(mproc_conn_t *c, const void *key, size_t len,
                       double timeout, const char *refused);

/* Split an AF_INET address "host:port" at the last ':' into @host (@cap
 * bytes; may be empty) and @port (@port_cap bytes, digits, at most
 * 65535), for the backends. MPROC_EINVAL says what is wrong. */
int mproc__split_host_port(const char *address, char *host, size_t cap,
                           char *port, size_t port_cap);

/* Parse a family name (NULL: deduce from @address, or the default) into
 * MPROC__AF_*; MPROC_EINVAL / MPROC_ENOSYS. */
int mproc__family_parse(const char *family, const char *address, int *out);

/* ---- the entry table (registry.c) ---- */

mproc_target_fn mproc__target_lookup(const char *name);

/* ---- process core (process.c, main.c) ---- */

/* Set once mproc_main() has run in this process. */
extern int mproc__main_called;

/* Run in a freshly started child, on every start method, after the
 * bootstrap data is known: becomes the process described by @b (takes
 * ownership of its fields), runs the target, exits. */
MPROC__NORETURN void mproc__child_run(mproc__boot_t *b);

/* Read a framed bootstrap message through @read_all (the backend's reader
 * of the inherited pipe/handle: 0, or -1 at an early end), or take one
 * from memory (the forkserver's children), decode it and run the child.
 * On any failure print why on stderr and exit with MPROC_EXIT_BOOTSTRAP. */
MPROC__NORETURN void
mproc__boot_from_reader(int (*read_all)(void *ctx, void *buf, size_t len),
                        void *ctx);
MPROC__NORETURN void mproc__boot_from_mem(const void *buf, size_t len);

/* The most of a child's failure message that reaches its parent (the
 * child's stderr has all of it): less than the 4 KiB a pipe always holds,
 * so that the child's one write into the empty pipe never blocks. */
#define MPROC__REPORT_MAX 4000

/* In a child: report @msg as the reason the process fails, on stderr as
 * "Process NAME: <msg>" and to the parent through the report pipe, so
 * that mproc_process_error() gives it there. */
void mproc__report_failure(const char *msg);

/* The failure message mproc_fail() left for the calling thread's running
 * target, or NULL (pool.c). */
const char *mproc__current_failure(void);

/* Print "bootstrap message <why>: <last error>" and exit with
 * MPROC_EXIT_BOOTSTRAP. */
MPROC__NORETURN void mproc__boot_fail(const char *why);

/* Value of string key @key in msgpack map @map, or NULL (not a map, or
 * absent). */
const msgpack_object *mproc__map_get(const msgpack_object *map,
                                     const char *key);

/* 0, or MPROC_EINVAL when the default start method came from an
 * MPROC_START_METHOD that names no method (the message says which and
 * lists the valid ones). Checked by every start that uses the default. */
int mproc__default_method_check(void);

/* In a child: the start method it was started with becomes its default
 * (CPython's spawn and forkserver children set it, force=True). */
void mproc__context_adopt(mproc_start_method_t method);

/* Terminate daemonic children, join the others (CPython's _exit_function). */
void mproc__exit_cleanup(void);

/* Lazily initialised library state (APR, main-process identity). */
int mproc__init(void);

#endif /* MPROC__INTERNAL_H */
