/* Seed 003: five processes take turns with one Lock around a global;
 * each has its own copy of the global, so every one of them sees a == 2
 * and succeeds. Python: examples/python/lock_global.py */
#include "common.h"

static int a = 2;

MPROC_TARGET(work)
{
  mproc_lock_t *lock;
  mproc_process_t *me = mproc_current_process();

  if (mproc_args_parse(args, "o", MPROC_KIND_LOCK, &lock) != 0)
    return 1;
  CHECK(mproc_lock_acquire(lock, MPROC_FOREVER));
  if (a > 0) {
    printf("%ld success %d\n", mproc_process_pid(me), a);
    fflush(stdout);
    a -= 1;
    mproc_sleep((rand() % 2) * 0.1); /* time.sleep(random.randrange(0, 2)) */
  } else {
    printf("%ld fail\n", mproc_process_pid(me));
  }
  CHECK(mproc_lock_release(lock));
  return 0;
}

int main(int argc, char **argv)
{
  mproc_lock_t *lock;
  mproc_process_t *p_obj[5];

  mproc_main(argc, argv);
  CHECK(mproc_lock_create(&lock));
  for (int i = 0; i < 5; i++) {
    CHECK(mproc_process_create(&p_obj[i], work, "o", lock));
    CHECK(mproc_process_start(p_obj[i]));
  }
  for (int i = 0; i < 5; i++) {
    CHECK(mproc_process_join(p_obj[i], MPROC_FOREVER));
    mproc_process_free(p_obj[i]);
  }
  mproc_lock_free(lock);
  return 0;
}
