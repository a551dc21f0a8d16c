/*
 * What a manager's clients (manager.c) and its server (mserver.c) agree
 * on. Private to lib/.
 *
 * Every message is one Connection frame holding MessagePack:
 *   request  [id, "method", [args...]]   id 0 is the server itself
 *   reply    [0, value]                  success
 *            [status, "message"]         failure: a negative MPROC_E* code
 * Server methods (id 0): "create" [type, name|nil, [ctor args...]] gives
 * [id, type]; "shutdown" [] gives nil once the server has stopped
 * accepting.
 */
#ifndef MPROC__MANAGER_H
#define MPROC__MANAGER_H

#include "internal.h"

/* The registered name of the server's target. */
#define MPROC__MANAGER_TARGET "mproc.manager"

/* Serve on the listener described by the arguments: (o writer, z address,
 * z family, y# authkey). The address bound goes back through the writer
 * as [0, address, family] or [status, message]. */
int mproc__manager_serve(mproc_args_t *args);

/* Call @method of proxy @p (checked by the caller) with @args, already
 * one encoded msgpack array (proxies.c builds its requests this way). */
int mproc__proxy_call_raw(mproc_proxy_t *p, mproc_args_t **result,
                          const char *method, const void *args, size_t len);

/* Reply statuses the client accepts from a server (its own codes). */
#define MPROC__REPLY_MIN MPROC_EADDRINUSE

#endif /* MPROC__MANAGER_H */
