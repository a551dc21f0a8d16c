/*
 * Start methods: the static contexts, the program's default, and the
 * MPROC_START_METHOD override.
 */
#include <stdio.h>
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

/* Set when the default came with MPROC_START_METHOD naming no method of
 * this platform: every start that relies on the default then fails with
 * a message saying so, instead of silently using another method. */
static int env_invalid;
static char env_value[48];

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
  env_invalid = env != NULL && env[0] != '\0' && lookup(env, &ctx) != 0;
  if (env_invalid)
    snprintf(env_value, sizeof env_value, "%s", env);
  if (ctx != NULL)
    default_method = ctx->method;
  else
    default_method = mproc__plat_has_method(MPROC_FORKSERVER) ? MPROC_FORKSERVER
                                                              : MPROC_SPAWN;
  return default_method;
}

int mproc__default_method_check(void)
{
  const char *const *all = mproc_all_start_methods();
  char valid[64] = "";

  (void)mproc_get_start_method();
  if (!env_invalid)
    return 0;
  for (size_t i = 0; all[i] != NULL; i++)
    snprintf(valid + strlen(valid), sizeof valid - strlen(valid), "%s%s",
             i ? ", " : "", all[i]);
  return mproc__err(MPROC_EINVAL,
                    "environment variable MPROC_START_METHOD='%s' is not a "
                    "start method of this platform (valid: %s)",
                    env_value, valid);
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
    env_invalid = 0;
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
  if (!force && env != NULL && env[0] != '\0') {
    /* The environment decides, and a bad value in it is still an error
     * at the first start. */
    default_method = 0;
    (void)mproc_get_start_method();
    if (env_invalid)
      default_method = ctx->method;
    return 0;
  }
  /* A forced choice ignores the environment by design. */
  env_invalid = 0;
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
    return mproc__default_method_check() == 0
               ? &contexts[mproc_get_start_method() - 1]
               : NULL;
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
