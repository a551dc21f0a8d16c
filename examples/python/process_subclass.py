from multiprocessing import Process
import time

class MyProcess(Process):
    def run(self):
        print('hello bf girl')
        time.sleep(1)
        print('get out!')

if __name__ == '__main__':
    p = MyProcess()
    p.start()
    print('主')
