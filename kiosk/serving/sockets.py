"""This process's own TCP sockets, found through /proc (Linux), for the serving layer's socket options."""

import os
import socket


def own_tcp_sockets(matches):
    """This process's TCP sockets for which MATCHES(sock) is true, each through a duplicate of its
    descriptor (closing it leaves the server's own open; shutting it down shuts the connection).

    MATCHES may raise OSError (a listening socket has no peer): such a socket does not match.
    """
    try:
        descriptors = os.listdir("/proc/self/fd")
    except OSError:  # not Linux: nothing to find
        return
    for name in descriptors:
        try:
            if not os.readlink(f"/proc/self/fd/{name}").startswith("socket:"):
                continue
            sock = socket.socket(fileno=os.dup(int(name)))
        except OSError:
            continue
        try:
            if sock.type == socket.SOCK_STREAM and sock.family in (socket.AF_INET, socket.AF_INET6) and matches(sock):
                yield sock
                continue
        except OSError:
            pass
        sock.close()
