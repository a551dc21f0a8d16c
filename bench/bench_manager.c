/*
 * Manager round-trip latency, side by side in one run with CPython's
 * multiprocessing.Manager() (bench_manager.py) and the raw OS floor:
 *
 *   dict set   d[k] = v     us per op   vs CPython's DictProxy
 *   dict get   d[k]         us per op   vs CPython's DictProxy
 *
 * Every call is one request to the manager's server process and one
 * reply, so the floor is the same exchange with no manager: a small
 * message echoed by another process over a unix-domain socket pair. A
 * second row echoes over an mproc Listener/Client connection, the
 * transport the manager's proxies use, to show what the Connection layer
 * adds before any manager code runs.
 *
 * Usage: bench_manager [fork|spawn|forkserver]   (default: the default
 * start method). Each figure is the median of 5 runs; CPython runs fewer
 * operations per run (its calls are slower), same median.
 *
 * A round trip costs two wake-ups, and what a wake-up costs depends on
 * where the scheduler puts the two processes: on one CPU it is a context
 * switch, across two an inter-processor interrupt (several times dearer
 * on a VM). Unpinned, runs jump between the two; `taskset -c 0
 * bench_manager` puts every process, CPython's included, on one CPU and
 * gives figures that repeat.
 */
#include <mproc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench.h"

#define RUNS 5
#define N 10000
#define PY_N 2000
#define KEYS 1000
/* About a __setitem__ request's size (array, id, method name, key and
 * value), framing excluded. */
#define MSG 24

static void check(int rc, const char *what)
{
  if (rc != 0) {
    fprintf(stderr, "bench_manager: %s: %s\n", what, mproc_last_error());
    exit(1);
  }
}

/* ---- mproc ---- */

static double dict_set_us(mproc_proxy_t *d, int n)
{
  double t0 = now();

  for (int i = 0; i < n; i++)
    check(mproc_proxy_call(d, NULL, "__setitem__", "ii", i % KEYS, i),
          "d[k] = v");
  return (now() - t0) / n * 1e6;
}

static double dict_get_us(mproc_proxy_t *d, int n)
{
  mproc_args_t *r;
  double t0 = now();
  int v;

  for (int i = 0; i < n; i++) {
    check(mproc_proxy_call(d, &r, "__getitem__", "i", i % KEYS), "d[k]");
    check(mproc_args_parse(r, "i", &v), "d[k]'s value");
    mproc_args_free(r);
  }
  return (now() - t0) / n * 1e6;
}

/* ---- floors ---- */

/* Connect to the listener at the address given and echo until it
 * closes. */
MPROC_TARGET(echo_client)
{
  const char *address;
  mproc_conn_t *c;
  char buf[64];
  size_t len;

  if (mproc_args_parse(args, "s", &address) != 0 ||
      mproc_client(&c, address, NULL, NULL, 0, MPROC_FOREVER) != 0)
    return 1;
  while (mproc_conn_recv_bytes_into(c, buf, sizeof buf, 0, &len) == 0 &&
         mproc_conn_send_bytes(c, buf, len, 0, MPROC_ALL) == 0)
    ;
  mproc_conn_free(c);
  return 0;
}

static double listener_rtt_us(const mproc_context_t *ctx, int n)
{
  mproc_listener_t *l;
  mproc_process_t *p;
  mproc_conn_t *c;
  char buf[64] = {0};
  size_t len;
  double t0, dt;

  check(mproc_listener_create(&l, NULL, "AF_UNIX", 1, NULL, 0), "Listener");
  check(mproc_context_process(ctx, &p, echo_client, "s",
                              mproc_listener_address(l)),
        "Process");
  check(mproc_process_start(p), "start");
  check(mproc_listener_accept(l, &c, MPROC_FOREVER), "accept");
  check(mproc_conn_send_bytes(c, buf, MSG, 0, MPROC_ALL), "send");
  check(mproc_conn_recv_bytes_into(c, buf, sizeof buf, 0, &len), "recv");
  t0 = now();
  for (int i = 0; i < n; i++) {
    mproc_conn_send_bytes(c, buf, MSG, 0, MPROC_ALL);
    mproc_conn_recv_bytes_into(c, buf, sizeof buf, 0, &len);
  }
  dt = now() - t0;
  mproc_conn_free(c); /* the child sees EOF and returns */
  check(mproc_process_join(p, MPROC_FOREVER), "join");
  mproc_process_free(p);
  mproc_listener_free(l);
  return dt / n * 1e6;
}

static double raw_socketpair_rtt_us(int n)
{
  char buf[MSG] = {0};
  double t0, dt;
  int sv[2];
  pid_t pid;

  if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0)
    return 0;
  pid = fork();
  if (pid == 0) {
    close(sv[0]);
    for (int i = 0; i <= n; i++)
      if (read(sv[1], buf, MSG) != MSG || write(sv[1], buf, MSG) != MSG)
        _exit(1);
    _exit(0);
  }
  close(sv[1]);
  /* One exchange first: the child runs. */
  if (write(sv[0], buf, MSG) != MSG || read(sv[0], buf, MSG) != MSG)
    return 0;
  t0 = now();
  for (int i = 0; i < n; i++)
    if (write(sv[0], buf, MSG) != MSG || read(sv[0], buf, MSG) != MSG)
      break;
  dt = now() - t0;
  close(sv[0]);
  waitpid(pid, NULL, 0);
  return dt / n * 1e6;
}

/* ---- CPython ---- */

typedef struct py {
  double set_us, get_us;
  int ok;
} py_t;

static py_t cpython(const char *method)
{
  static const char *const names[] = {"dict_set_us", "dict_get_us"};
  double v[2] = {0};
  char arg[64];
  py_t r;

  snprintf(arg, sizeof arg, "%s %d %d", method, PY_N, RUNS);
  r.ok = cpython_values(MPROC_BENCH_MANAGER_PY, arg, names, v, 2);
  r.set_us = v[0];
  r.get_us = v[1];
  return r;
}

static void row(const char *name, double us, double raw, double py, int py_ok)
{
  printf("%-24s %9.2f us %9.2f us %9.2f us   %5.1fx %6.2fx\n", name, us, raw,
         py, py_ok ? py / us : 0, us / raw);
}

int main(int argc, char **argv)
{
  const char *method;
  const mproc_context_t *ctx;
  mproc_manager_options_t opts = {0};
  mproc_manager_t *m;
  mproc_proxy_t *d;
  double set[RUNS], get[RUNS], lrtt[RUNS], raw[RUNS], after;
  py_t py;

  mproc_main(argc, argv);
  method =
      argc > 1 ? argv[1] : mproc_start_method_name(mproc_get_start_method());
  ctx = mproc_get_context(method);
  check(ctx == NULL, method);
  opts.context = ctx;
  check(mproc_manager_create(&m, &opts), "Manager");
  check(mproc_manager_start(m), "start");
  check(mproc_manager_object(m, &d, MPROC_MANAGED_DICT, NULL), "dict");
  /* Every key present before timing: gets never miss, and sets after the
   * first run replace values as they do in every later one. */
  dict_set_us(d, KEYS);
  /* One run of each in turn: the scheduler's mood on a shared machine
   * (same CPU or not, a neighbour's load) then weighs on all alike. */
  for (int i = 0; i < RUNS; i++) {
    raw[i] = raw_socketpair_rtt_us(N);
    set[i] = dict_set_us(d, N);
    get[i] = dict_get_us(d, N);
    lrtt[i] = listener_rtt_us(ctx, N);
  }
  mproc_proxy_free(d);
  mproc_manager_free(m);
  py = cpython(method);
  /* The floor again, right after CPython's run: were the conditions it
   * ran in those of the rows it is compared with? */
  after = raw_socketpair_rtt_us(N);

  printf("bench_manager, start method %s, median of %d runs "
         "(mproc %d ops, CPython %d ops each)\n\n",
         method, RUNS, N, PY_N);
  printf("%-24s %12s %12s %12s   %6s %7s\n", "", "mproc", "raw floor",
         "CPython", "Py/mp", "mp/raw");
  row("dict set  d[k] = v", median(set, RUNS), median(raw, RUNS), py.set_us,
      py.ok);
  row("dict get  d[k]", median(get, RUNS), median(raw, RUNS), py.get_us, py.ok);
  printf("%-24s %9.2f us %12s %12s   %6s %6.2fx\n", "Listener/Client echo",
         median(lrtt, RUNS), "", "", "",
         median(lrtt, RUNS) / median(raw, RUNS));
  printf("\nraw floor: a %d-byte message echoed by another process over a "
         "unix socketpair\n(%.2f us when measured again after CPython's "
         "run)\ntarget: CPython/mproc >= 10x\n",
         MSG, after);
  if (!py.ok)
    printf("(CPython's numbers are missing: python3 failed)\n");
  return 0;
}
