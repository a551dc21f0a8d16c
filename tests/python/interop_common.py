"""What CPython says to mproc in the interop tests of tests/test_listener.c
(python_conversation() there is the other side)."""

import signal

# Exit codes the C side checks.
OK = 0
AUTH_FAILED = 3  # multiprocessing.AuthenticationError
WRONG_CONTENT = 4

BIG = bytes(range(256)) * 400


def limit_run_time(seconds=30):
    """Never outlive a test that failed on the C side."""
    signal.alarm(seconds)


def parse_address(family, text):
    """mproc's "host:port" is CPython's (host, port); its "@name" a Linux
    abstract address, CPython's "\0name"."""
    if family == 'AF_INET':
        host, port = text.rsplit(':', 1)
        return (host, int(port))
    if family == 'AF_UNIX' and text.startswith('@'):
        return '\0' + text[1:]
    return text


def format_address(family, address):
    if family == 'AF_INET':
        return '%s:%d' % address
    if family == 'AF_UNIX' and address.startswith('\0'):
        return '@' + address[1:]
    return address


def parse_key(text):
    """A hex key, or '-' for none."""
    return None if text == '-' else bytes.fromhex(text)


def converse(conn):
    """Three messages of ours, each answered with b'mproc:' before it; one
    of mproc's, answered with b'cpython:' before it."""
    for msg in (b'hello from CPython', BIG, b''):
        conn.send_bytes(msg)
        if conn.recv_bytes() != b'mproc:' + msg:
            return WRONG_CONTENT
    msg = conn.recv_bytes()
    if msg != b'hello from mproc':
        return WRONG_CONTENT
    conn.send_bytes(b'cpython:' + msg)
    return OK
