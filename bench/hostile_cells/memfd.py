# A hostile cell of bench/hostile.py, written as a hostile model would write it. It runs in a sandboxed
# kernel whose namespace predefines np, tools, vlm, frames and ReturnAnswer; bench/hostile.py prepends
# _prelude.py (DEADLINE, SERVICES, post(), http(), seen).
import os
import time

try:
    fd = os.memfd_create("x")
    block = bytes(1 << 20)
    for _ in range(640):
        os.write(fd, block)
    print("memfd held 640 MiB")
except OSError as e:
    print(type(e).__name__, e)
time.sleep(max(0.0, DEADLINE - time.time()))
