/*
 * The inside of a manager's server, shared by the server (mserver.c:
 * objects table, connections, requests) and the types it holds
 * (mtypes.c: dict, list, Queue, Namespace, Value, Array; msync.c: Lock,
 * RLock, Semaphore, BoundedSemaphore, Condition, Event, Barrier;
 * mregistered.c: the types a program registers). Private to lib/.
 */
#ifndef MPROC__MSERVER_H
#define MPROC__MSERVER_H

#include <stdatomic.h>

#include <apr_hash.h>
#include <apr_pools.h>
#include <apr_thread_cond.h>
#include <apr_thread_mutex.h>
#include <apr_thread_proc.h>

#include "manager.h"

typedef struct blob {
  size_t len;
  unsigned char data[];
} blob_t;

/* A dict entry; entries form a list in insertion order. */
typedef struct entry {
  blob_t *key, *val;
  struct entry *prev, *next;
} entry_t;

typedef struct worker worker_t;

/* A thread in Condition.wait(), in its server thread's stack. */
typedef struct cwait {
  int notified;
  struct cwait *next;
} cwait_t;

typedef struct sobj {
  int type;
  apr_thread_cond_t *cv; /* signalled when the object changes */
  /* dict and Namespace */
  apr_hash_t *map; /* key bytes -> entry_t */
  entry_t *head, *tail;
  /* list, and Queue as a ring starting at @first */
  blob_t **items;
  size_t n, cap, first;
  long maxsize, unfinished;
  /* Lock and RLock (locked), Event (set), Barrier (broken) */
  int flag;
  worker_t *owner; /* the connection holding the Lock or RLock */
  int owner_died;  /* it ended holding it: the next acquirer is told */
  blob_t *value;   /* Value */
  /* RLock: depth; Semaphore: value; Barrier: parties arrived */
  long count;
  long bound; /* BoundedSemaphore: its initial value; Barrier: parties */
  /* Condition: its lock (a Lock or RLock of the server) and waiters */
  struct sobj *lock;
  cwait_t *waiters;
  /* Barrier: passes completed (and one reset() cut short), default
   * timeout (< 0: none) */
  unsigned gen, aborted_gen;
  int has_aborted;
  double timeout;
  char typecode; /* Array: its array-module typecode */
  /* a registered type: its description and the object */
  const struct mproc_mtype *mt;
  void *self;
} sobj_t;

typedef struct server {
  apr_pool_t *pool;
  apr_thread_mutex_t *mu;
  sobj_t **objs; /* id - 1 -> object */
  size_t nobjs, cap;
  apr_hash_t *names; /* name -> id */
  mproc_listener_t *lsn;
  const unsigned char *key;
  size_t keylen;
  mproc__acceptor_t *acc; /* a thread per connection */
} server_t;

/* A connection being served (its thread's own). */
struct worker {
  server_t *s;
  mproc_conn_t *c;
};

/* One request being answered. */
struct mproc_reply;
typedef struct call {
  server_t *s;
  worker_t *w;
  sobj_t *o;
  const char *method;
  const msgpack_object *argv;
  uint32_t argc;
  msgpack_sbuffer *out;
  msgpack_packer pk;
} call_t;

typedef struct method {
  const char *name;
  int (*fn)(call_t *);
  uint8_t min, max; /* argument counts */
} method_t;

/* An int value (either MessagePack integer kind) into @v: 0, or -1 when
 * @o is not an int that fits. */
int mproc__mobj_int(const msgpack_object *o, int64_t *v);

/* Arguments of a call: argument @i as an int, as a truth value (bool,
 * int or nil), as a timeout in seconds (absent or nil: -1, none), and as
 * a deadline (a timeout from now; absent or nil: @dflt seconds, < 0 for
 * none). Each gives a status with CPython's message. */
int mproc__marg_int(call_t *x, uint32_t i, int64_t *v);
int mproc__marg_bool(call_t *x, uint32_t i, int *v);
int mproc__marg_timeout(call_t *x, uint32_t i, double *t);
int mproc__marg_deadline(call_t *x, uint32_t i, double dflt, double *deadline);

/* Wait on @o's condition until @ready(@o) or @deadline (with the server's
 * lock held): 0, or MPROC_ETIMEDOUT. */
int mproc__mwait(call_t *x, sobj_t *o, int (*ready)(const sobj_t *),
                 double deadline);

/* Wake whoever waits on @o (with the server's lock held). */
void mproc__mobj_changed(sobj_t *o);

/* Values as stored (their MessagePack bytes): make one, compare two, and
 * pack a stored one, a decoded one or a bool into the reply. */
int mproc__mblob_of(const msgpack_object *o, blob_t **out);
int mproc__mblob_eq(const blob_t *a, const blob_t *b);
void mproc__mput_blob(call_t *x, const blob_t *b);
void mproc__mput_obj(call_t *x, const msgpack_object *o);
void mproc__mput_bool(call_t *x, int v);

/* The methods of a type (ended by a NULL name), or NULL. */
const method_t *mproc__mobj_methods(int type);

/* Fill a new object of o->type from its constructor arguments (a list). */
int mproc__mobj_init(call_t *x, sobj_t *o, const msgpack_object *ctor);

/* mserver.c: a new object of @type in the server's table, made from
 * @ctor (a list), as id @*id. */
int mproc__mobj_new(call_t *x, int type, const msgpack_object *ctor,
                    size_t *id);

/* Free an object and what it holds. NULL is a no-op. */
void mproc__mobj_free(sobj_t *o);

/* The object of this server that proxy value @v refers to, or NULL (not
 * a proxy, or one to another server or to no object). */
sobj_t *mproc__mobj_from_proxy(call_t *x, const msgpack_object *v);

/* mlist.c: list and Array. */
extern const method_t mproc__mlist_methods[], mproc__marray_methods[];
int mproc__mlist_extend(sobj_t *o, const msgpack_object *l, const char *what);
void mproc__mlist_clear(sobj_t *o);
int mproc__marray_init(call_t *x, sobj_t *o, const msgpack_object *a,
                       uint32_t n);

/* msync.c: the synchronisation types. */
extern const method_t mproc__mlock_methods[], mproc__mrlock_methods[],
    mproc__msem_methods[], mproc__mcond_methods[], mproc__mevent_methods[],
    mproc__mbarrier_methods[];
int mproc__msync_init(call_t *x, sobj_t *o, const msgpack_object *a,
                      uint32_t n);
/* A connection ended: release what it holds (with the server's lock). */
void mproc__msync_gone(sobj_t *o, worker_t *w);

/* mregistered.c: the types a program registers. */
int mproc__mreg_init(call_t *x, sobj_t *o, const char *typeid, size_t len,
                     const msgpack_object *ctor);
int mproc__mreg_call(call_t *x);

#endif /* MPROC__MSERVER_H */
