# A hostile cell of bench/hostile.py, written as a hostile model would write it. It runs in a sandboxed
# kernel whose namespace predefines np, tools, vlm, frames and ReturnAnswer; bench/hostile.py prepends
# _prelude.py (DEADLINE, SERVICES, post(), http(), seen).
import time

line = "y" * (1 << 20)
n = 0
while time.time() < DEADLINE:
    print(line)
    n += 1
print("printed", n, "MiB")
