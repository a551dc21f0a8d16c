from multiprocessing import Process
import time

def task(name):
    print('%s总管正在活着' % name)
    time.sleep(3)
    print('%s总管正在死亡' % name)

if __name__ == '__main__':
    p = Process(target=task, args=('egon',))
    p.daemon = True
    p.start()
    time.sleep(0.5)
    print('皇帝jason寿终正寝')
