"""HTTP/1.1 over a Unix socket with the standard library (``http.client``), for kernels and hosts alike."""

from __future__ import annotations

import http.client
import socket


class UnixHTTPConnection(http.client.HTTPConnection):
    """An ``http.client`` connection whose transport is the Unix socket at ``socket_path``."""

    def __init__(self, socket_path: str, timeout_s: float) -> None:
        """Connect on the first request (or :meth:`connect`); blocking calls end after ``timeout_s``."""
        super().__init__("localhost", timeout=timeout_s)
        self._socket_path = socket_path

    def connect(self) -> None:
        """Open the socket (closed again when the connection fails)."""
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(self.timeout)
        try:
            sock.connect(self._socket_path)
        except OSError:
            sock.close()
            raise
        self.sock = sock
