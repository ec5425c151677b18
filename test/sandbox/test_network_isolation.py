import os
import socket
import threading

import pytest

pytestmark = pytest.mark.sandbox


class _Listener:
    """A host listener that records every connection or datagram it receives."""

    def __init__(self, kind: int, address: str | tuple[str, int], family: int = socket.AF_INET) -> None:
        self.sock = socket.socket(family, kind)
        self.sock.bind(address)
        self.sock.settimeout(0.2)
        if kind == socket.SOCK_STREAM:
            self.sock.listen(8)
        self.received: list[object] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, args=(kind,), daemon=True)
        self._thread.start()

    def _serve(self, kind: int) -> None:
        while not self._stop.is_set():
            try:
                if kind == socket.SOCK_STREAM:
                    conn, peer = self.sock.accept()
                    self.received.append(peer)
                    conn.close()
                else:
                    self.received.append(self.sock.recvfrom(65536))
            except (TimeoutError, OSError):
                continue

    def close(self) -> list[object]:
        self._stop.set()
        self._thread.join()
        self.sock.close()
        return self.received


def test_tcp_to_host_listener_gets_nothing(kernel):
    listener = _Listener(socket.SOCK_STREAM, ("127.0.0.1", 0))
    port = listener.sock.getsockname()[1]
    result = kernel.execute(f"import socket\nsocket.create_connection(('127.0.0.1', {port}), timeout=2)")
    assert listener.close() == []
    assert result.error.ename == "ConnectionRefusedError"


def test_udp_to_host_listener_gets_nothing(kernel):
    listener = _Listener(socket.SOCK_DGRAM, ("127.0.0.1", 0))
    port = listener.sock.getsockname()[1]
    code = f"""
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for _ in range(20):
    s.sendto(b'x', ('127.0.0.1', {port}))
print('sent')
"""
    result = kernel.execute(code)
    assert result.stdout.strip() == "sent"
    assert listener.close() == []


def test_dns_resolution_fails(kernel):
    result = kernel.execute("import socket\nsocket.getaddrinfo('example.com', 443)", timeout_s=30)
    assert result.error.ename == "gaierror"


def test_external_address_is_unreachable(kernel):
    result = kernel.execute("import socket\nsocket.create_connection(('1.1.1.1', 443), timeout=3)")
    assert result.error.ename == "OSError" and "unreachable" in result.error.evalue


def test_only_loopback_interface_exists(kernel):
    result = kernel.execute("import socket\nprint([name for _, name in socket.if_nameindex()])")
    assert result.stdout.strip() == "['lo']"


def test_host_abstract_unix_socket_is_unreachable(kernel):
    name = f"\0spatialclaw-test-{os.getpid()}"
    listener = _Listener(socket.SOCK_STREAM, name, family=socket.AF_UNIX)
    result = kernel.execute(f"import socket\ns = socket.socket(socket.AF_UNIX)\ns.connect({name!r})")
    assert listener.close() == []
    assert result.error.ename == "ConnectionRefusedError"
