/*
 * Types a program registers for its managers (CPython's
 * BaseManager.register(typeid, callable)): a constructor, a destructor
 * and a table of methods over an object of the program's own. The
 * registry is filled before main() runs or before mproc_main() (so that
 * a server started by spawn, which re-executes the program, has it too);
 * the server looks a type up by its typeid when a client asks for one,
 * and calls its methods by name. A client needs no registration: it
 * names the typeid and the methods.
 */
#include <stdlib.h>
#include <string.h>

#include "mserver.h"
#include "object.h"

#define MAX_TYPEID 64

static const mproc_mtype_t **types;
static size_t ntypes;

static const mproc_mtype_t *find(const char *typeid, size_t len)
{
  for (size_t i = 0; i < ntypes; i++)
    if (strlen(types[i]->typeid) == len &&
        memcmp(types[i]->typeid, typeid, len) == 0)
      return types[i];
  return NULL;
}

static int check_type(const mproc_mtype_t *t)
{
  size_t len;

  if (t == NULL || t->typeid == NULL || t->methods == NULL)
    return mproc__err(MPROC_EINVAL, "manager register: a type needs a "
                                    "typeid and a method table");
  len = strlen(t->typeid);
  if (len == 0 || len >= MAX_TYPEID)
    return mproc__err(MPROC_EINVAL,
                      "manager register: typeid must be 1 to %d characters",
                      MAX_TYPEID - 1);
  for (const mproc_method_t *m = t->methods; m->name != NULL; m++)
    if (m->name[0] == '\0' || m->fn == NULL)
      return mproc__err(MPROC_EINVAL,
                        "manager register: type '%s' has a method without a "
                        "name or a function",
                        t->typeid);
  return 0;
}

int mproc_manager_register(const mproc_mtype_t *type)
{
  const mproc_mtype_t **more, *had;
  int rc = check_type(type);

  if (rc != 0)
    return rc;
  had = find(type->typeid, strlen(type->typeid));
  if (had == type)
    return 0;
  if (had != NULL)
    return mproc__err(MPROC_EINVAL,
                      "manager register: typeid '%s' is already registered "
                      "for another type",
                      type->typeid);
  if ((more = realloc(types, (ntypes + 1) * sizeof *types)) == NULL)
    return mproc__err(MPROC_ENOMEM, "out of memory");
  types = more;
  types[ntypes++] = type;
  return 0;
}

/* The arguments of a request as an argument list of their own. */
static int args_of(const msgpack_object *argv, uint32_t argc,
                   mproc_args_t **out)
{
  msgpack_sbuffer sb;
  msgpack_packer pk;
  msgpack_object list = {.type = MSGPACK_OBJECT_ARRAY};
  size_t len;

  list.via.array.size = argc;
  list.via.array.ptr = (msgpack_object *)argv;
  msgpack_sbuffer_init(&sb);
  msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
  if (msgpack_pack_object(&pk, list) != 0) {
    msgpack_sbuffer_destroy(&sb);
    return mproc__err(MPROC_ENOMEM, "out of memory");
  }
  /* The sbuffer's data is malloc'd: the args take it. */
  len = sb.size;
  return mproc__args_take(out, msgpack_sbuffer_release(&sb), len);
}

int mproc__mreg_init(call_t *x, sobj_t *o, const char *typeid, size_t len,
                     const msgpack_object *ctor)
{
  mproc_args_t *args = NULL;
  int rc;

  o->mt = find(typeid, len);
  if (o->mt == NULL)
    return mproc__err(MPROC_ENOTREG,
                      "type '%.*s' is not registered in the manager's "
                      "program (mproc_manager_register)",
                      (int)len, typeid);
  if (o->mt->create == NULL)
    return 0;
  if ((rc = args_of(ctor->via.array.ptr, ctor->via.array.size, &args)) != 0)
    return rc;
  (void)x;
  rc = o->mt->create(&o->self, args);
  mproc_args_free(args);
  if (rc > 0)
    rc = mproc__err(MPROC_ETASK, "%s(): its constructor returned %d",
                    o->mt->typeid, rc);
  if (rc != 0)
    o->mt = NULL; /* nothing to destroy */
  return rc;
}

/* ---- the reply a method gives ---- */

struct mproc_reply {
  msgpack_sbuffer value; /* one encoded value, once given */
  int given;
};

int mproc_reply(mproc_reply_t *r, const char *fmt, ...)
{
  msgpack_sbuffer list;
  va_list ap;
  const unsigned char *b;
  int rc;

  if (r == NULL)
    return mproc__err(MPROC_EINVAL, "mproc_reply: NULL reply");
  msgpack_sbuffer_init(&list);
  va_start(ap, fmt);
  rc = mproc__encode_args(&list, fmt, &ap);
  va_end(ap);
  if (rc == 0) {
    /* No unit gives None, one its value, several the list. */
    b = (const unsigned char *)list.data;
    msgpack_sbuffer_clear(&r->value);
    if (b[0] == 0x90)
      rc = msgpack_sbuffer_write(&r->value, "\xc0", 1);
    else if (b[0] == 0x91)
      rc = msgpack_sbuffer_write(&r->value, list.data + 1, list.size - 1);
    else
      rc = msgpack_sbuffer_write(&r->value, list.data, list.size);
    if (rc != 0)
      rc = mproc__err(MPROC_ENOMEM, "out of memory");
  }
  msgpack_sbuffer_destroy(&list);
  if (rc == 0)
    r->given = 1;
  return rc;
}

int mproc_reply_error(mproc_reply_t *r, int status, const char *fmt, ...)
{
  char msg[400];
  va_list ap;

  (void)r;
  if (status >= 0 || status < MPROC__REPLY_MIN)
    status = MPROC_ETASK;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt != NULL ? fmt : "", ap);
  va_end(ap);
  return mproc__err(status, "%s", msg);
}

/* Call the method of a registered type that @x names. */
int mproc__mreg_call(call_t *x)
{
  const mproc_mtype_t *t = x->o->mt;
  const mproc_method_t *m = t->methods;
  struct mproc_reply r = {.given = 0};
  mproc_args_t *args = NULL;
  int rc;

  for (; m->name != NULL && strcmp(m->name, x->method) != 0; m++)
    ;
  if (m->name == NULL)
    return mproc__err(MPROC_ENOMETHOD,
                      "method '%s' of %s object is not exposed", x->method,
                      t->typeid);
  if ((rc = args_of(x->argv, x->argc, &args)) != 0)
    return rc;
  msgpack_sbuffer_init(&r.value);
  mproc__err(0, "%s", "");
  rc = m->fn(x->o->self, args, &r);
  mproc_args_free(args);
  if (rc > 0 || (rc < 0 && rc < MPROC__REPLY_MIN))
    rc = mproc__err(MPROC_ETASK, "%s.%s() failed (returned %d)", t->typeid,
                    m->name, rc);
  else if (rc < 0 && strcmp(mproc_last_error(), "no error") == 0)
    rc = mproc__err(rc, "%s.%s() failed: %s", t->typeid, m->name,
                    mproc_strerror(rc));
  else if (rc == 0 && r.given)
    msgpack_sbuffer_write(x->out, r.value.data, r.value.size);
  else if (rc == 0)
    msgpack_pack_nil(&x->pk);
  msgpack_sbuffer_destroy(&r.value);
  return rc;
}
