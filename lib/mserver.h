/*
 * The inside of a manager's server, shared by the server (mserver.c:
 * objects table, connections, requests) and the types it holds
 * (mtypes.c: dict, list, Queue, Namespace, Lock, Event, Value and their
 * methods). Private to lib/.
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
  /* Lock (locked), Event (set) */
  int flag;
  worker_t *owner; /* the connection holding the Lock */
  int owner_died;  /* it ended holding it: the next acquirer is told */
  blob_t *value;   /* Value */
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

/* Wake whoever waits on @o (with the server's lock held). */
void mproc__mobj_changed(sobj_t *o);

/* The methods of a type (ended by a NULL name), or NULL. */
const method_t *mproc__mobj_methods(int type);

/* Fill a new object of o->type from its constructor arguments (a list). */
int mproc__mobj_init(sobj_t *o, const msgpack_object *ctor);

/* Free an object and what it holds. NULL is a no-op. */
void mproc__mobj_free(sobj_t *o);

#endif /* MPROC__MSERVER_H */
