# A hostile cell of bench/hostile.py, written as a hostile model would write it. It runs in a sandboxed
# kernel whose namespace predefines np, tools, vlm, frames and ReturnAnswer; bench/hostile.py prepends
# _prelude.py (DEADLINE, SERVICES, post(), http(), seen).
import base64
import json
import struct
import time
import zlib


def chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


row = b"\x00" + bytes(9000 * 3)
raw = zlib.compress(row * 9000, 9)
png = (
    b"\x89PNG\r\n\x1a\n"
    + chunk(b"IHDR", struct.pack(">IIBBBBB", 9000, 9000, 8, 2, 0, 0, 0))
    + chunk(b"IDAT", raw)
    + chunk(b"IEND", b"")
)
body = json.dumps({"question": "colour?", "images_png": [base64.b64encode(png).decode()] * 4}).encode()
while time.time() < DEADLINE:
    seen.append(post("vlm.sock", *http("/ask", body)))
print(len(png), "byte PNG;", seen[-1] if seen else "")
