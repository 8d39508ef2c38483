"""Free loopback ports for test servers."""

import socket


def free_port(udp=False):
    kind = socket.SOCK_DGRAM if udp else socket.SOCK_STREAM
    s = socket.socket(socket.AF_INET, kind)
    try:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
    finally:
        s.close()


def free_port_tcp_and_udp(attempts=50):
    """A port free for both TCP and UDP (a DNS server binds both)."""
    for _ in range(attempts):
        port = free_port(udp=True)
        t = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            t.bind(("127.0.0.1", port))
            return port
        except OSError:
            continue
        finally:
            t.close()
    raise RuntimeError("no port free for both TCP and UDP")
