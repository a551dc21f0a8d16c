from multiprocessing import Process, current_process, parent_process

def func():
    print('我是子进程，pid为%d,进程名为%s, 父进程pid为%d' % (
        current_process().pid, current_process().name, parent_process().pid))

def main():
    print('主进程 pid为%d, 进程名为%s' % (current_process().pid, current_process().name))
    p_list = []
    for i in range(3):
        p = Process(target=func, name='进程1')
        p.start()
        p_list.append(p)
    for v in p_list:
        v.join()
        if v.is_alive():
            v.terminate()

if __name__ == "__main__":
    main()
