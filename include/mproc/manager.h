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
   *  remove(v), index(v), count(v), reverse(), clear(), copy(). */
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
  MPROC_MANAGED_VALUE
} mproc_managed_t;

/**
 * Name of a managed type.
 * @param type an mproc_managed_t.
 * @return "dict", "list", "Queue", ...; NULL for another value.
 */
const char *mproc_managed_name(int type);

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
 * The type of the proxy's object.
 * @param p the proxy.
 * @return its mproc_managed_t; 0 when @p p is not a proxy.
 */
int mproc_proxy_type(const mproc_proxy_t *p);

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
