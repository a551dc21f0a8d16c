/*
 * The registered-entry table: maps target names to functions so that a
 * re-executed child (spawn) can find the function its parent named.
 *
 * Entries are added by constructors (MPROC_TARGET) before main() runs, so
 * the table is a plain growing array; registration after threads exist is
 * rare and is serialised by the caller's program order (documented).
 */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

typedef struct entry {
  char *name;
  mproc_target_fn fn;
} entry_t;

static entry_t *entries;
static size_t n_entries, cap_entries;

static entry_t *find_by_name(const char *name)
{
  for (size_t i = 0; i < n_entries; i++)
    if (strcmp(entries[i].name, name) == 0)
      return &entries[i];
  return NULL;
}

int mproc_register(const char *name, mproc_target_fn fn)
{
  entry_t *e;
  char *copy;

  if (name == NULL || name[0] == '\0' || fn == NULL)
    return mproc__err(MPROC_EINVAL, "mproc_register: name and function "
                                    "must be given");
  e = find_by_name(name);
  if (e != NULL) {
    if (e->fn == fn)
      return 0;
    return mproc__err(MPROC_EINVAL,
                      "target name '%s' is already registered for another "
                      "function",
                      name);
  }
  if (n_entries == cap_entries) {
    size_t cap = cap_entries ? cap_entries * 2 : 32;
    entry_t *grown = realloc(entries, cap * sizeof *grown);
    if (grown == NULL)
      return mproc__err(MPROC_ENOMEM, "mproc_register: out of memory");
    entries = grown;
    cap_entries = cap;
  }
  copy = strdup(name);
  if (copy == NULL)
    return mproc__err(MPROC_ENOMEM, "mproc_register: out of memory");
  entries[n_entries].name = copy;
  entries[n_entries].fn = fn;
  n_entries++;
  return 0;
}

const char *mproc_target_name(mproc_target_fn fn)
{
  for (size_t i = 0; i < n_entries; i++)
    if (entries[i].fn == fn)
      return entries[i].name;
  return NULL;
}

mproc_target_fn mproc__target_lookup(const char *name)
{
  entry_t *e = find_by_name(name);
  return e ? e->fn : NULL;
}

size_t mproc__target_names(const char **names, size_t cap)
{
  for (size_t i = 0; i < n_entries && i < cap; i++)
    names[i] = entries[i].name;
  return n_entries;
}
