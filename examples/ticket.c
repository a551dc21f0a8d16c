/* Seed 004, 9.5 (and seed 003): ten users look up the tickets left in a
 * JSON file, then buy one under a Lock, so exactly as many buy as there
 * were tickets. Python: examples/python/ticket.py */
#include <string.h>

#include "common.h"

/* The file holds {"count": N}, as json.dump writes it. */
static int load_count(const char *path)
{
  FILE *f = fopen(path, "r");
  int n = -1;

  if (f == NULL || fscanf(f, " { \"count\" : %d }", &n) != 1) {
    fprintf(stderr, "cannot read %s\n", path);
    exit(1);
  }
  fclose(f);
  return n;
}

static void dump_count(const char *path, int n)
{
  FILE *f = fopen(path, "w");

  if (f == NULL || fprintf(f, "{\"count\": %d}", n) < 0 || fclose(f) != 0) {
    fprintf(stderr, "cannot write %s\n", path);
    exit(1);
  }
}

static void search_ticket(const char *path, const char *user)
{
  printf("%s查询结果 : %d张余票\n", user, load_count(path));
  fflush(stdout);
}

static void buy_ticket(const char *path, const char *user)
{
  int count;

  mproc_sleep(0.02);
  count = load_count(path);
  if (count > 0) {
    printf("%s买到票了\n", user);
    count -= 1;
  } else {
    printf("%s没买到票\n", user);
  }
  fflush(stdout);
  mproc_sleep(0.02);
  dump_count(path, count);
}

MPROC_TARGET(task)
{
  const char *path, *user;
  mproc_lock_t *lock;
  int st;

  if (mproc_args_parse(args, "sso", &path, &user, MPROC_KIND_LOCK, &lock) != 0)
    return 1;
  search_ticket(path, user);
  MPROC_WITH_LOCK(lock, st) /* with lock: */
  {
    buy_ticket(path, user);
  }
  return st == 0 ? 0 : 1;
}

int main(int argc, char **argv)
{
  mproc_lock_t *lock;
  mproc_process_t *p[10];
  char path[64], user[16];

  mproc_main(argc, argv);
  snprintf(path, sizeof path, "ticket_count.%ld", mproc_getpid());
  dump_count(path, 3);
  CHECK(mproc_lock_create(&lock));
  for (int i = 0; i < 10; i++) {
    snprintf(user, sizeof user, "user%d", i);
    CHECK(mproc_process_create(&p[i], task, MPROC_ARGS(path, user, lock)));
    CHECK(mproc_process_start(p[i]));
  }
  for (int i = 0; i < 10; i++) {
    CHECK(mproc_process_join(p[i], MPROC_FOREVER));
    mproc_process_free(p[i]);
  }
  printf("余票: %d\n", load_count(path));
  remove(path);
  mproc_lock_free(lock);
  return 0;
}
