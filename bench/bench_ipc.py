"""CPython's side of bench_ipc: the same four measurements with
multiprocessing, printed as `name value` lines (values: items/s, MB/s,
microseconds, nanoseconds)."""
import multiprocessing as mp
import sys
import time


def producer(q, n, size):
    item = b"x" * size
    for _ in range(n):
        q.put(item)


def echo(conn):
    while True:
        b = conn.recv_bytes()
        if b == b"STOP":
            return
        conn.send_bytes(b)


def queue_rate(ctx, n, size):
    q = ctx.Queue()
    p = ctx.Process(target=producer, args=(q, n, size))
    p.start()
    q.get()  # the child is running: time the rest
    t0 = time.perf_counter()
    for _ in range(n - 1):
        q.get()
    dt = time.perf_counter() - t0
    p.join()
    return dt / (n - 1)


def conn_rtt(ctx, n):
    a, b = ctx.Pipe()
    p = ctx.Process(target=echo, args=(b,))
    p.start()
    msg = b"12345678"
    a.send_bytes(msg)
    a.recv_bytes()
    t0 = time.perf_counter()
    for _ in range(n):
        a.send_bytes(msg)
        a.recv_bytes()
    dt = time.perf_counter() - t0
    a.send_bytes(b"STOP")
    p.join()
    return dt / n


def lock_ns(ctx, n):
    lock = ctx.Lock()
    t0 = time.perf_counter()
    for _ in range(n):
        lock.acquire()
        lock.release()
    return (time.perf_counter() - t0) / n


def main():
    method = sys.argv[1] if len(sys.argv) > 1 else "forkserver"
    ctx = mp.get_context(method)
    small = queue_rate(ctx, 20000, 8)
    print("queue_small_per_s", 1.0 / small)
    big = queue_rate(ctx, 200, 1 << 20)
    print("queue_1mib_mb_s", (1 << 20) / big / 1e6)
    print("conn_rtt_us", conn_rtt(ctx, 5000) * 1e6)
    print("lock_ns", lock_ns(ctx, 200000) * 1e9)


if __name__ == "__main__":
    main()
