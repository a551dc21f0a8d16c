import time
import json
import os
from multiprocessing import Process, Lock

def search_ticket(path, user):
    with open(path) as f:
        dic = json.load(f)
    print('%s查询结果 : %s张余票' % (user, dic['count']))

def buy_ticket(path, user):
    time.sleep(0.02)
    with open(path) as f:
        dic = json.load(f)
    if dic['count'] > 0:
        print('%s买到票了' % (user))
        dic['count'] -= 1
    else:
        print('%s没买到票' % (user))
    time.sleep(0.02)
    with open(path, 'w') as f:
        json.dump(dic, f)

def task(path, user, lock):
    search_ticket(path, user)
    with lock:
        buy_ticket(path, user)

if __name__ == '__main__':
    path = 'ticket_count.%d' % os.getpid()
    with open(path, 'w') as f:
        json.dump({'count': 3}, f)
    lock = Lock()
    ps = []
    for i in range(10):
        p = Process(target=task, args=(path, 'user%s' % i, lock))
        p.start()
        ps.append(p)
    for p in ps:
        p.join()
    with open(path) as f:
        print('余票: %s' % json.load(f)['count'])
    os.remove(path)
