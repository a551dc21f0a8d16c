"""CPython's multiprocessing.connection.Client against an mproc Listener
(tests/test_listener.c).

usage: interop_client.py FAMILY ADDRESS HEXKEY|-
exit: 0 the conversation went as expected; 3 AuthenticationError;
      4 a message was not what mproc should have sent; 1 anything else.
"""

import sys
from multiprocessing import AuthenticationError
from multiprocessing.connection import Client

import interop_common as common


def main():
    common.limit_run_time()
    family, address, key = sys.argv[1:4]
    try:
        conn = Client(common.parse_address(family, address), family=family,
                      authkey=common.parse_key(key))
    except AuthenticationError as e:
        print('interop_client.py: %s' % e, file=sys.stderr)
        return common.AUTH_FAILED
    with conn:
        return common.converse(conn)


if __name__ == '__main__':
    sys.exit(main())
