import sys
from multiprocessing import Process

class JieCheng(Process):
    def __init__(self, n):
        Process.__init__(self)
        self.n = n
    def run(self):
        j = 1
        for i in range(1, self.n):
            j = j * i
        print('%d!=%d' % (self.n, j))

def sunToN(n):
    s = 0
    for i in range(n):
        s += i
        print('1~%d的累加和为%d' % (n, s))

if __name__ == "__main__":
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    p1 = Process(target=sunToN, args=(n,))
    p1.start()
    p1.join()
    p2 = JieCheng(n)
    p2.start()
    p2.join()
