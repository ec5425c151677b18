# A hostile cell of bench/hostile.py, written as a hostile model would write it. It runs in a sandboxed
# kernel whose namespace predefines np, tools, vlm, frames and ReturnAnswer; bench/hostile.py prepends
# _prelude.py (DEADLINE, SERVICES, post(), http(), seen).
import threading
import time
import types

lab = np.zeros((2000, 2000), np.uint16)
lab[::7, ::5] = 1
frame = types.SimpleNamespace(index=0, image=np.zeros((2000, 2000, 3), np.uint8), labels=lab)


def flood(k):
    while time.time() < DEADLINE:
        try:
            tools.segment(frame, "chair " + str(k) + str(time.time()))
        except Exception as e:
            seen.append(repr(e)[:200])


for k in range(16):
    threading.Thread(target=flood, args=(k,), daemon=True).start()
time.sleep(max(0.0, DEADLINE - time.time()) / 2)
print("ending with work in flight;", seen[-1] if seen else "")
