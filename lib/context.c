/*
 * Start methods: the static contexts, the program's default, and the
 * MPROC_START_METHOD override.
 */
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "platform.h"

struct mproc_context {
  mproc_start_method_t method;
  const char *name;
};

static const mproc_context_t contexts[] = {
    {MPROC_FORK, "fork"},
    {MPROC_SPAWN, "spawn"},
    {MPROC_FORKSERVER, "forkserver"},
};

/* 0 until the default is decided (by the program, the environment, or
 * the platform's choice when first needed). */
static mproc_start_method_t default_method;
static int default_set_by_program;

static const mproc_context_t *by_name(const char *name)
{
  for (size_t i = 0; i < sizeof contexts / sizeof contexts[0]; i++)
    if (strcmp(contexts[i].name, name) == 0)
      return &contexts[i];
  return NULL;
}

/* Look up @name and check that this platform has it. */
static int lookup(const char *name, const mproc_context_t **out)
{
  const mproc_context_t *ctx = by_name(name);

  if (ctx == NULL)
    return mproc__err(MPROC_EINVAL,
                      "cannot find context for '%s' (use fork, spawn or "
                      "forkserver)",
                      name);
  if (!mproc__plat_has_method(ctx->method))
    return mproc__err(MPROC_ENOSYS,
                      "start method '%s' is not available on this platform",
                      name);
  *out = ctx;
  return 0;
}

const char *mproc_start_method_name(mproc_start_method_t method)
{
  if (method >= MPROC_FORK && method <= MPROC_FORKSERVER)
    return contexts[method - 1].name;
  return "unknown";
}

mproc_start_method_t mproc_get_start_method(void)
{
  const mproc_context_t *ctx = NULL;
  const char *env;

  if (default_method != 0)
    return default_method;
  /* The environment wins over the platform default, so that a whole
   * program or suite can be run under another method unchanged. */
  env = getenv("MPROC_START_METHOD");
  if (env != NULL && env[0] != '\0' && lookup(env, &ctx) == 0)
    default_method = ctx->method;
  else
    default_method = mproc__plat_has_method(MPROC_FORKSERVER) ? MPROC_FORKSERVER
                                                              : MPROC_SPAWN;
  return default_method;
}

int mproc_set_start_method(const char *method, int force)
{
  const mproc_context_t *ctx = NULL;
  const char *env;
  int rc;

  if (method == NULL && force) {
    /* CPython's set_start_method(None, force=True): back to the default. */
    default_method = 0;
    default_set_by_program = 0;
    return 0;
  }
  if (method == NULL)
    method = mproc_start_method_name(mproc_get_start_method());
  rc = lookup(method, &ctx);
  if (rc != 0)
    return rc;
  if (default_set_by_program && !force)
    return mproc__err(MPROC_ESTATE, "context has already been set");
  default_set_by_program = 1;
  /* MPROC_START_METHOD still overrides what the program chose, unless
   * the program insists (force). */
  env = getenv("MPROC_START_METHOD");
  if (!force && env != NULL && env[0] != '\0' && by_name(env) != NULL) {
    default_method = 0;
    (void)mproc_get_start_method();
    return 0;
  }
  default_method = ctx->method;
  return 0;
}

void mproc__context_adopt(mproc_start_method_t method)
{
  default_method = method;
  default_set_by_program = 1;
}

const mproc_context_t *mproc_get_context(const char *method)
{
  const mproc_context_t *ctx = NULL;

  if (method == NULL)
    return &contexts[mproc_get_start_method() - 1];
  return lookup(method, &ctx) == 0 ? ctx : NULL;
}

mproc_start_method_t mproc_context_method(const mproc_context_t *ctx)
{
  return ctx ? ctx->method : mproc_get_start_method();
}

const char *const *mproc_all_start_methods(void)
{
  static const char *posix[] = {"fork", "spawn", "forkserver", NULL};
  static const char *spawn_only[] = {"spawn", NULL};

  return mproc__plat_has_method(MPROC_FORK) ? posix : spawn_only;
}
