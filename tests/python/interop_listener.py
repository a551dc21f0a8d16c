"""An mproc Client against CPython's multiprocessing.connection.Listener
(tests/test_listener.c).

usage: interop_listener.py FAMILY HEXKEY|- ADDRESS_FILE
Listens on a fresh address of FAMILY, writes it ("host:port" for AF_INET)
to ADDRESS_FILE (atomically), accepts one client and converses with it.
exit: 0 the conversation went as expected; 3 AuthenticationError;
      4 a message was not what mproc should have sent; 1 anything else.
"""

import os
import sys
from multiprocessing import AuthenticationError
from multiprocessing.connection import Listener

import interop_common as common


def publish(path, text):
    with open(path + '.part', 'w') as f:
        f.write(text)
    os.replace(path + '.part', path)


def main():
    common.limit_run_time()
    family, key, address_file = sys.argv[1:4]
    address = ('127.0.0.1', 0) if family == 'AF_INET' else None
    with Listener(address, family=family,
                  authkey=common.parse_key(key)) as listener:
        publish(address_file, common.format_address(family, listener.address))
        try:
            conn = listener.accept()
        except AuthenticationError as e:
            print('interop_listener.py: %s' % e, file=sys.stderr)
            return common.AUTH_FAILED
        with conn:
            return common.converse(conn)


if __name__ == '__main__':
    sys.exit(main())
