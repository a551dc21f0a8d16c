/* Seed 000, 5 and seed 001, 2: current_process().pid / .name, the parent's
 * pid, and children all named '进程1'. Python:
 * examples/python/current_process.py */
#include "common.h"

MPROC_TARGET(func)
{
  mproc_process_t *me = mproc_current_process();

  (void)args;
  printf("我是子进程，pid为%ld,进程名为%s, 父进程pid为%ld\n",
         mproc_process_pid(me), mproc_process_name(me),
         mproc_process_pid(mproc_parent_process()));
  return 0;
}

int main(int argc, char **argv)
{
  mproc_process_t *p_list[3];
  mproc_process_t *me;

  mproc_main(argc, argv);
  me = mproc_current_process();
  printf("主进程 pid为%ld, 进程名为%s\n", mproc_process_pid(me),
         mproc_process_name(me));
  for (int i = 0; i < 3; i++) {
    CHECK(mproc_process_create(&p_list[i], func, NULL));
    CHECK(mproc_process_set_name(p_list[i], "进程1"));
    CHECK(mproc_process_start(p_list[i]));
  }
  for (int i = 0; i < 3; i++) {
    CHECK(mproc_process_join(p_list[i], MPROC_FOREVER));
    if (mproc_process_is_alive(p_list[i]) == 1)
      CHECK(mproc_process_terminate(p_list[i]));
    mproc_process_free(p_list[i]);
  }
  return 0;
}
