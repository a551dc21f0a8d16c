/*
 * The process object (private to lib/).
 */
#ifndef MPROC__PROCESS_H
#define MPROC__PROCESS_H

#include "internal.h"
#include "platform.h"

typedef enum mproc__kind {
  MPROC__KIND_CHILD = 0, /* made by mproc_process_create */
  MPROC__KIND_CURRENT,   /* mproc_current_process() */
  MPROC__KIND_PARENT     /* mproc_parent_process() */
} mproc__kind_t;

struct mproc_process {
  mproc__kind_t kind;
  int refs; /* the caller's, plus the table's while started and unreaped */
  mproc_target_fn target;
  mproc_start_method_t method;
  char *name;
  int daemon;
  unsigned char *authkey;
  size_t authkey_len;
  int64_t *identity; /* numbers of the default name, e.g. {1, 3} */
  size_t identity_len;
  msgpack_sbuffer args;         /* encoded positional args (an array) */
  msgpack_sbuffer kwargs;       /* encoded kwargs (a map), empty for none */
  mproc__objlist_t objs;        /* objects in args/kwargs, until started */
  mproc__boot_obj_t *fork_objs; /* fork: what the child adopts */
  size_t fork_nobjs;
  long creator_pid; /* only this process may start/join it */
  long pid;         /* the parent object's pid */
  int started, closed, in_table, is_child;
  int default_method; /* created without a context: MPROC_START_METHOD */
  int exitcode;
  /* The failure message the child reports (see mproc__report_failure):
   * the read end of its report pipe until it is reaped, then the
   * message, if any. */
  intptr_t report_r, report_w;
  char *error;
  mproc__child_t *child;
  struct mproc_process *next; /* in the children table */
};

/* Child side: adopt name, authkey, identity and parent from @b. */
int mproc__become(mproc__boot_t *b);

#endif /* MPROC__PROCESS_H */
