import time
from multiprocessing import Process

def son1():
    while True:
        print('is alive')
        time.sleep(0.5)

if __name__ == '__main__':
    p = Process(target=son1)
    p.start()
    print(p.is_alive())
    time.sleep(1)
    p.terminate()
    print(p.is_alive())
    p.join()
    print(p.is_alive())
    print('exitcode', p.exitcode)
