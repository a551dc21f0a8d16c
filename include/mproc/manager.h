/**
 * @file mproc/manager.h
 * @brief Managers.
 *
 * Part of the public API; include <mproc.h>, which includes every part.
 */
#ifndef MPROC_MANAGER_H
#define MPROC_MANAGER_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include "mproc/listener.h"
#include "mproc/object.h"

#ifdef __cplusplus
extern "C" {
#endif

/**
 * @defgroup mproc-manager Managers and proxies
 * @brief Server processes that hold shared objects, and proxies to them
 * (CPython's Manager(), BaseManager, SyncManager, BaseProxy).
 * @{
 */

/**
 * A manager (CPython's BaseManager / SyncManager): a server process that
 * owns shared objects and hands out proxies to them. A proxy works from
 * any process it is passed to (as `o`, in process or pool arguments,
 * queue items, or a manager's own dict and list); each call is one
 * authenticated request to the server.
 */
typedef struct mproc_manager mproc_manager_t;

/** A proxy to an object a manager holds. */
typedef struct mproc_proxy mproc_proxy_t;

/** Options of mproc_manager_create(); zero-filled is CPython's Manager(). */
typedef struct mproc_manager_options {
  /** Where the server listens, or NULL: a private address of the default
   *  family. "host:port" serves over TCP (a remote manager). */
  const char *address;
  const char *family; /**< NULL: deduced, as for Listener */
  /** The key clients must know; NULL: the current process's authkey. */
  const void *authkey;
  size_t authkey_len; /**< the length of authkey */
  /** Start method of the server process; NULL: the default. */
  const mproc_context_t *context;
  /** Seconds shutdown waits at each step (ask, terminate, kill); 0: 1.0,
   *  as CPython. */
  double shutdown_timeout;
} mproc_manager_options_t;

/**
 * A manager, not started (CPython's BaseManager(address, authkey)):
 * start it, or connect to one already serving at @p opts->address.
 * @param[out] out the manager (free with mproc_manager_free()).
 * @param opts the options, or NULL for the defaults (copied).
 * @return 0; MPROC_EINVAL; MPROC_ENOMEM.
 */
int mproc_manager_create(mproc_manager_t **out,
                         const mproc_manager_options_t *opts);

/**
 * Start the server process (CPython's start()), daemonic: it dies with
 * the program even when the program is killed.
 * @param m the manager.
 * @return 0; MPROC_ESTATE when already started, connected or shut down;
 *         MPROC_EADDRINUSE; whatever mproc_process_start() returns.
 */
int mproc_manager_start(mproc_manager_t *m);

/**
 * Use the server already serving at the options' address with their
 * authkey (CPython's connect()), e.g. one started by another program.
 * @param m the manager.
 * @return 0; MPROC_EAUTH; MPROC_ENOTFOUND; MPROC_ETIMEDOUT; MPROC_ESTATE.
 */
int mproc_manager_connect(mproc_manager_t *m);

/**
 * Stop the server: ask it to exit, then terminate it, then kill it, each
 * after shutdown_timeout (CPython's shutdown()). Proxies of a stopped
 * server give MPROC_EBROKEN. A connected (not started) manager asks the
 * server to exit.
 * @param m the manager.
 * @return 0; MPROC_ESTATE when not started or already shut down.
 */
int mproc_manager_shutdown(mproc_manager_t *m);

/**
 * The server's address.
 * @param m the manager.
 * @return the address (valid while @p m lives), or NULL before start.
 */
const char *mproc_manager_address(const mproc_manager_t *m);

/**
 * The server process.
 * @param m the manager.
 * @return the process (owned by @p m); NULL unless started by
 *         mproc_manager_start().
 */
mproc_process_t *mproc_manager_process(mproc_manager_t *m);

/**
 * Shut down a started server, then free. NULL is a no-op.
 * @param m the manager, or NULL.
 */
void mproc_manager_free(mproc_manager_t *m);

/**
 * CPython's Manager(): create and start with the default options.
 * @param[out] out the manager (free with mproc_manager_free()).
 * @return as mproc_manager_create() and mproc_manager_start().
 */
int mproc_manager(mproc_manager_t **out);

/** Types of objects a manager holds, and their methods (CPython's names
 *  and arguments, all positional). */
typedef enum mproc_managed {
  /** dict: __getitem__(k) (MPROC_ENOTFOUND, "KeyError"), __setitem__(k, v),
   *  __delitem__(k), __contains__(k), __len__(), get(k[, default]),
   *  setdefault(k[, default]), pop(k[, default]), popitem(), keys(),
   *  values(), items() (a list of [k, v]), update(map), clear(), copy()
   *  (a map). Keys are any value; insertion order is kept. */
  MPROC_MANAGED_DICT = 1,
  /** list: __getitem__(i), __setitem__(i, v), __delitem__(i) (negative
   *  indexes count from the end; MPROC_ERANGE, "IndexError"), __len__(),
   *  __contains__(v), append(v), extend(list), insert(i, v), pop([i]),
   *  remove(v), index(v), count(v), reverse(), clear(), copy(),
   *  sort([reverse]) (numbers, strings, bytes or lists, ordered as
   *  Python orders them, stable; others are MPROC_ETYPE, "TypeError",
   *  and leave the list as it was; no key), __add__(list) (a new list),
   *  __iadd__(list) (+=, as extend), __mul__(n), __rmul__(n) (a new
   *  list), __imul__(n) (*=). A slice is an index given as a list
   *  [start, stop] or [start, stop, step], nil for an omitted bound
   *  (CPython's slice(start, stop, step): l[2:7] is "__getitem__" with
   *  "[ii]", 2, 7; l[::-1] is "[NNi]", -1): __getitem__ gives a new list,
   *  __setitem__ replaces it by a list (of the same length when step is
   *  not 1, else MPROC_EINVAL), __delitem__ removes it. */
  MPROC_MANAGED_LIST,
  /** queue.Queue([maxsize]): put(v[, block[, timeout]]), get([block[,
   *  timeout]]) (MPROC_EEMPTY / MPROC_EFULL), put_nowait(v), get_nowait(),
   *  qsize(), empty(), full(), task_done(), join(). */
  MPROC_MANAGED_QUEUE,
  /** Namespace: __getattribute__(name) (MPROC_ENOTFOUND,
   *  "AttributeError"), __setattr__(name, v), __delattr__(name), and
   *  __dict__() (a map of every attribute). */
  MPROC_MANAGED_NAMESPACE,
  /** threading.Lock: acquire([blocking[, timeout]]) (true/false, as
   *  CPython), release() (MPROC_ESTATE when unlocked), locked(). When the
   *  connection holding it ends (its process died), the lock is released
   *  and the next acquire returns MPROC_EOWNERDEAD with the lock acquired
   *  (CPython's stays locked forever). */
  MPROC_MANAGED_LOCK,
  /** threading.Event: set(), clear(), is_set(), wait([timeout]) (true /
   *  false). */
  MPROC_MANAGED_EVENT,
  /** Value: get(), set(v) (CPython's ValueProxy .value). */
  MPROC_MANAGED_VALUE,
  /** threading.RLock: acquire([blocking[, timeout]]), release()
   *  (MPROC_EPERM, "cannot release un-acquired lock", from a connection
   *  that does not hold it). Owned by the connection, which is the
   *  calling thread's (proxies share one per thread); released, with
   *  MPROC_EOWNERDEAD for the next acquirer, when that connection ends. */
  MPROC_MANAGED_RLOCK,
  /** threading.Semaphore([value]): acquire([blocking[, timeout]]),
   *  release([n]), get_value() (CPython's _value). */
  MPROC_MANAGED_SEMAPHORE,
  /** threading.BoundedSemaphore([value]): as Semaphore; a release above
   *  the initial value is MPROC_EINVAL ("ValueError: Semaphore released
   *  too many times"). */
  MPROC_MANAGED_BOUNDED_SEMAPHORE,
  /** threading.Condition([lock]) (lock: a proxy to a Lock or RLock of the
   *  same manager; none: a new RLock): acquire([blocking[, timeout]]),
   *  release(), wait([timeout]) (true when notified), notify([n]),
   *  notify_all(). A notify wakes only those already waiting. wait_for
   *  is a loop over wait in the caller, as in CPython's proxy. */
  MPROC_MANAGED_CONDITION,
  /** threading.Barrier(parties[, action[, timeout]]) (action must be nil:
   *  the server cannot call a client's function, MPROC_ENOSYS):
   *  wait([timeout]) (the arrival index; MPROC_EBROKEN), abort(),
   *  reset(), __getattribute__(name) for "parties", "n_waiting" and
   *  "broken". */
  MPROC_MANAGED_BARRIER,
  /** array.array(typecode, sequence) behind CPython's Array(typecode,
   *  sequence[, lock]) (typecodes b B h H i I l L q Q f d; the lock
   *  argument is unused, as in CPython): __len__(), __getitem__(i or
   *  slice), __setitem__(i or slice, v); an element of the wrong type is
   *  MPROC_ETYPE, one out of the type's range MPROC_ERANGE. */
  MPROC_MANAGED_ARRAY,
  /** A type the program registered (mproc_manager_register()); see
   *  mproc_proxy_typeid() for which. */
  MPROC_MANAGED_REGISTERED = 64
} mproc_managed_t;

/**
 * Name of a managed type.
 * @param type an mproc_managed_t.
 * @return "dict", "list", "Queue", ..., "registered" for
 *         MPROC_MANAGED_REGISTERED; NULL for another value.
 */
const char *mproc_managed_name(int type);

/** What a method of a registered type gives back (see mproc_mtype_t). */
typedef struct mproc_reply mproc_reply_t;

/**
 * The method's result, built from @p fmt as mproc_process_create()'s
 * arguments are: no unit gives None (nil), one unit its value, several a
 * list. A later call replaces an earlier one; a method that never calls
 * it returns None.
 * @param r the reply the method was given.
 * @param fmt the result's format (NULL or "": None).
 * @param ... the values.
 * @return 0; MPROC_EINVAL / MPROC_ETYPE for a bad format
 * or an object (`o` other than a proxy).
 */
int mproc_reply(mproc_reply_t *r, const char *fmt, ...);

/**
 * Fail the call (the C form of raising): the caller's
 * mproc_proxy_call() returns @p status (an MPROC_E* code; any other
 * gives MPROC_ETASK) with the message. `return mproc_reply_error(r,
 * MPROC_ENOTFOUND, "KeyError: %s", k);`
 * @param r the reply the method was given (NULL in a constructor).
 * @param status the error.
 * @param fmt the message's printf format.
 * @param ... its values.
 * @return @p status.
 */
int mproc_reply_error(mproc_reply_t *r, int status, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

/** A method of a registered type: @p self is the object (what the
 *  type's create made), @p args the call's arguments (parse them with
 *  mproc_args_parse()). @return 0, or mproc_reply_error()'s status. */
typedef struct mproc_method {
  const char *name; /**< as clients call it; NULL ends a table */
  /** The method: works on @p self, answers through @p reply. */
  int (*fn)(void *self, mproc_args_t *args, mproc_reply_t *reply);
} mproc_method_t;

/**
 * A managed type of the program's own (CPython's
 * BaseManager.register(typeid, callable)): a server then owns
 * application objects, which clients use through proxies by method
 * name. Methods run in the server one at a time (its lock held): they
 * must not block waiting for another client.
 */
typedef struct mproc_mtype {
  const char *typeid; /**< the name clients ask for (1..63 characters) */
  /** The callable: make the object from the constructor arguments into
   *  *@p self. NULL: no constructor (self is NULL). @return 0, or
   *  mproc_reply_error()'s status (with a NULL reply). */
  int (*create)(void **self, mproc_args_t *args);
  /** Free an object (when the server ends). NULL: nothing to free. */
  void (*destroy)(void *self);
  /** The exposed methods, ended by {NULL, NULL}. */
  const mproc_method_t *methods;
} mproc_mtype_t;

/**
 * Register @p type (kept by pointer: give a static one) for managers
 * that this program serves. Register before mproc_main() runs (or with
 * MPROC_MANAGED_TYPE, before main()), as MPROC_TARGET does, so that a
 * server started by spawn or forkserver, which runs the program anew,
 * knows it. Clients, in this program or another, need not register it.
 * @param type the type.
 * @return 0 (also when already registered); MPROC_EINVAL for a bad
 *         description or a typeid registered for another type;
 *         MPROC_ENOMEM.
 */
int mproc_manager_register(const mproc_mtype_t *type);

/** Register the static mproc_mtype_t @p var before main() runs.
 *  @param var the type (a static mproc_mtype_t). */
#define MPROC_MANAGED_TYPE(var)                                                \
  MPROC__CTOR(mproc__register_mtype_##var)                                     \
  {                                                                            \
    (void)mproc_manager_register(&(var));                                      \
  }

/**
 * A new object of @p type held by the server (CPython's manager.dict(),
 * manager.Queue(), ...), and a proxy to it. With a @p name, the object
 * registered under that name, created on first use: every client of the
 * server asking for the same name gets the same object (CPython's
 * register('get_queue', callable=lambda: queue)); asking for it with
 * another type is MPROC_ETYPE. Objects live as long as the server
 * (Differs from CPython, which frees one with its last proxy).
 * @param m the manager, started or connected.
 * @param[out] out the proxy (free with mproc_proxy_free()).
 * @param type an mproc_managed_t.
 * @param name the object's name, or NULL for a new unnamed object.
 * @return 0; MPROC_ESTATE when the manager is not started or connected;
 *         MPROC_EINVAL for an unknown type; MPROC_EBROKEN when the server
 *         is gone.
 */
int mproc_manager_object(mproc_manager_t *m, mproc_proxy_t **out, int type,
                         const char *name);

/**
 * mproc_manager_object() with constructor arguments built from @p fmt
 * (NULL: none), as CPython's manager.dict(mapping), manager.list(seq),
 * manager.Queue(maxsize), manager.Namespace(**attrs) (a map),
 * manager.Value(typecode, value) (here only the value). Ignored when
 * @p name already exists.
 * @param m the manager, started or connected.
 * @param[out] out the proxy.
 * @param type an mproc_managed_t.
 * @param name the object's name, or NULL.
 * @param fmt the constructor's arguments' format, or NULL.
 * @param ... the arguments.
 * @return as mproc_manager_object(); MPROC_EINVAL / MPROC_ETYPE for bad
 *         constructor arguments.
 */
int mproc_manager_object_args(mproc_manager_t *m, mproc_proxy_t **out, int type,
                              const char *name, const char *fmt, ...);

/**
 * A new object of the registered type @p typeid held by the server, and
 * a proxy to it (CPython's manager.TYPEID(*args) after
 * register(typeid, callable)); @p name, @p fmt as for
 * mproc_manager_object_args(). The type must be registered in the
 * server's program; the caller's need not.
 * @param m the manager, started or connected.
 * @param[out] out the proxy (free with mproc_proxy_free()).
 * @param typeid the registered type's typeid.
 * @param name the object's name, or NULL for a new unnamed object.
 * @param fmt the constructor's arguments' format, or NULL.
 * @param ... the arguments.
 * @return 0; MPROC_ENOTREG when the server does not know @p typeid;
 *         MPROC_ETYPE when @p name is an object of another type; the
 *         constructor's status; as mproc_manager_object() otherwise.
 */
int mproc_manager_instance(mproc_manager_t *m, mproc_proxy_t **out,
                           const char *typeid, const char *name,
                           const char *fmt, ...);

/**
 * Call @p method of the proxy's object with the arguments built from
 * @p fmt (Py_BuildValue style), as CPython's proxy._callmethod(). The
 * result, when @p result is not NULL, is a list of one value (nil for
 * None): free it with mproc_args_free().
 * @param p the proxy.
 * @param[out] result the result, or NULL to drop it.
 * @param method the method's name.
 * @param fmt its arguments' format (NULL or "": none).
 * @param ... the arguments.
 * @return 0; MPROC_ENOMETHOD for a method the type does not expose; the
 *         server's error for the call (MPROC_ENOTFOUND for KeyError,
 *         MPROC_ERANGE for IndexError, MPROC_EEMPTY, MPROC_EFULL,
 *         MPROC_EINVAL for a wrong number of arguments, MPROC_ETYPE for
 *         an argument of the wrong type, each with the server's message);
 *         MPROC_EBROKEN when the server is gone (never a hang);
 *         MPROC_EAUTH when this process's authkey is not the server's.
 */
int mproc_proxy_call(mproc_proxy_t *p, mproc_args_t **result,
                     const char *method, const char *fmt, ...);
/**
 * The va_list form of mproc_proxy_call().
 * @param p the proxy.
 * @param[out] result the result, or NULL.
 * @param method the method's name.
 * @param fmt its arguments' format.
 * @param ap the arguments.
 * @return as mproc_proxy_call().
 */
int mproc_proxy_callv(mproc_proxy_t *p, mproc_args_t **result,
                      const char *method, const char *fmt, va_list ap);

/**
 * @brief Call and parse in one statement: `n = q.qsize()` is
 * `mproc_proxy_invoke(q, "qsize", "l", &n, NULL)`, `item = q.get(True,
 * 5.0)` is `mproc_proxy_invoke(q, "get", "s", &item, "pd", 1, 5.0)`.
 *
 * The variable arguments are first the pointers @p retfmt parses the
 * result into (as mproc_args_parse(); @p retfmt NULL drops the result),
 * then the arguments' format (NULL: none) and its arguments, or
 * MPROC_ARGS(...). Strings and bytes (`s`, `z`, `s#`, `z#`, `y#`) are
 * copies: free each with mproc_free(). `O` and `o` are refused (the reply
 * is gone when the call returns): use mproc_proxy_call() for those.
 *
 * @param p the proxy.
 * @param method the method's name.
 * @param retfmt how to parse the result (mproc_args_parse() units), or
 *        NULL to drop it.
 * @param ... the result's pointers, then the arguments' format and its
 *        arguments.
 * @return as mproc_proxy_call(); MPROC_ETYPE / MPROC_ERANGE when the
 *         result does not parse (the string outputs are then NULL);
 *         MPROC_EINVAL for a bad format.
 */
int mproc_proxy_invoke(mproc_proxy_t *p, const char *method, const char *retfmt,
                       ...);

/**
 * @name Typed helpers for the everyday methods
 * Each checks the proxy's type first (MPROC_ETYPE names both types), so
 * a method name is never mistyped. A value is built from a format of one
 * unit or MPROC_ARGS(value); a result is parsed with a format of one unit
 * into the pointer that follows it, strings as copies to mproc_free()
 * (see mproc_proxy_invoke()). Timeouts are as mproc_queue_get()'s:
 * MPROC_FOREVER blocks, 0 does not block, other values wait that long.
 */
/**@{*/
/**
 * `d[key]` into the pointer(s) after @p fmt: `mproc_proxy_dict_get(d,
 * "age", "i", &age)`.
 * @param d a dict proxy.
 * @param key the key.
 * @param fmt one unit, parsing the value into the pointer(s) that follow.
 * @return 0; MPROC_ENOTFOUND (KeyError); as mproc_proxy_invoke().
 */
int mproc_proxy_dict_get(mproc_proxy_t *d, const char *key, const char *fmt,
                         ...);
/**
 * `d[key] = value`: `mproc_proxy_dict_set(d, "age", "i", 18)`.
 * @param d a dict proxy.
 * @param key the key.
 * @param fmt one unit building the value from the argument(s) that follow,
 *        or MPROC_ARGS(value).
 * @return 0; as mproc_proxy_invoke().
 */
int mproc_proxy_dict_set(mproc_proxy_t *d, const char *key, const char *fmt,
                         ...);
/**
 * `l.append(value)`.
 * @param l a list proxy.
 * @param fmt one unit building the value, or MPROC_ARGS(value).
 * @return 0; as mproc_proxy_invoke().
 */
int mproc_proxy_list_append(mproc_proxy_t *l, const char *fmt, ...);
/**
 * `l[index]` (negative counts from the end).
 * @param l a list proxy.
 * @param index the index.
 * @param fmt one unit, parsing the value into the pointer(s) that follow.
 * @return 0; MPROC_ERANGE (IndexError); as mproc_proxy_invoke().
 */
int mproc_proxy_list_get(mproc_proxy_t *l, long index, const char *fmt, ...);
/**
 * `len(x)` of a dict or list proxy.
 * @param p a dict or list proxy.
 * @return the length (>= 0), or a negative status as mproc_proxy_invoke().
 */
long mproc_proxy_len(mproc_proxy_t *p);
/**
 * `q.put(value, True, timeout)`.
 * @param q a Queue proxy.
 * @param timeout seconds to wait for room (0: put_nowait).
 * @param fmt one unit building the value, or MPROC_ARGS(value).
 * @return 0; MPROC_EFULL (queue.Full); as mproc_proxy_invoke().
 */
int mproc_proxy_queue_put(mproc_proxy_t *q, double timeout, const char *fmt,
                          ...);
/**
 * `q.get(True, timeout)`.
 * @param q a Queue proxy.
 * @param timeout seconds to wait for an item (0: get_nowait).
 * @param fmt one unit, parsing the item into the pointer(s) that follow.
 * @return 0; MPROC_EEMPTY (queue.Empty); as mproc_proxy_invoke().
 */
int mproc_proxy_queue_get(mproc_proxy_t *q, double timeout, const char *fmt,
                          ...);
/**
 * `q.qsize()`.
 * @param q a Queue proxy.
 * @return the size (>= 0), or a negative status as mproc_proxy_invoke().
 */
long mproc_proxy_queue_qsize(mproc_proxy_t *q);
/**
 * `v.value` (CPython's ValueProxy).
 * @param v a Value proxy.
 * @param fmt one unit, parsing the value into the pointer(s) that follow.
 * @return 0; as mproc_proxy_invoke().
 */
int mproc_proxy_value_get(mproc_proxy_t *v, const char *fmt, ...);
/**
 * `v.value = value`.
 * @param v a Value proxy.
 * @param fmt one unit building the value, or MPROC_ARGS(value).
 * @return 0; as mproc_proxy_invoke().
 */
int mproc_proxy_value_set(mproc_proxy_t *v, const char *fmt, ...);
/**
 * `l.acquire(True, timeout)`.
 * @param l a Lock proxy.
 * @param timeout seconds to wait (MPROC_FOREVER: no limit).
 * @return 0 acquired; MPROC_ETIMEDOUT not acquired in time (CPython's
 *         False); MPROC_EOWNERDEAD acquired, its previous holder's process
 *         died; as mproc_proxy_invoke().
 */
int mproc_proxy_lock_acquire(mproc_proxy_t *l, double timeout);
/**
 * `l.release()`.
 * @param l a Lock proxy.
 * @return 0; MPROC_ESTATE when not locked; as mproc_proxy_invoke().
 */
int mproc_proxy_lock_release(mproc_proxy_t *l);
/**@}*/

/**
 * The type of the proxy's object.
 * @param p the proxy.
 * @return its mproc_managed_t; 0 when @p p is not a proxy.
 */
int mproc_proxy_type(const mproc_proxy_t *p);

/**
 * The typeid of the proxy's object.
 * @param p the proxy.
 * @return a registered type's typeid, or the name of a built-in type
 *         ("dict", ...); NULL for a non-proxy.
 */
const char *mproc_proxy_typeid(const mproc_proxy_t *p);

/**
 * Free the proxy (the object stays with the server). NULL is a no-op.
 * @param p the proxy, or NULL.
 */
void mproc_proxy_free(mproc_proxy_t *p);

/** @} */

#ifdef __cplusplus
}
#endif

#endif /* MPROC_MANAGER_H */
