# Prepended to every hostile cell of bench/hostile.py: the attack runs until DEADLINE (seconds since the
# epoch; bench/hostile.py replaces the line) and talks raw HTTP to the kernel's Unix sockets, as a cell
# that ignores the runtime's clients would.
import os
import socket
import time

DEADLINE = time.time() + 5.0  # bench/hostile.py sets the attack's end here
SERVICES = os.environ["SPATIALCLAW_SERVICES"]


def post(name, head, body=b""):
    """Send a raw request; the reply's status line and the end of its body (also when refused early)."""
    s = socket.socket(socket.AF_UNIX)
    s.settimeout(30)
    s.connect(SERVICES + "/" + name)
    try:
        try:
            s.sendall(head + body)
        except BrokenPipeError:
            pass  # refused before the body was read: the reply is there
        reply = b""
        while len(reply) < 65536:
            part = s.recv(65536)
            if not part:
                break
            reply += part
        status, _, rest = reply.partition(b"\r\n")
        return status.decode() + " " + rest.rpartition(b"\r\n\r\n")[2][-300:].decode("utf-8", "replace")
    except OSError as e:
        return f"{type(e).__name__}: {e}"
    finally:
        s.close()


def http(path, body, extra=""):
    return (f"POST {path} HTTP/1.1\r\nContent-Length: {len(body)}\r\n{extra}\r\n").encode(), body


seen = []
