"""Images for the model: JPEG, long side at most the configured size (never upscaled), base64 once.

Bytes from a kernel are decoded only once their header passed
:func:`~spatialclaw_ros.protocol.images.check_image` (PNG or JPEG, pixel count and size bounded), and
:class:`ImageWorkers` runs that decoding in warm processes with their own address-space limit, off
the event loop that serves every query.
"""

from __future__ import annotations

import asyncio
import base64
import os
import queue
import re
import resource
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from spatialclaw_ros.protocol.images import ImageFormatError, check_image

# Address space a worker may add to what it maps once its imports are done, bytes: the largest image
# allowed (48 MiB as 8-bit RGB) a few times over, with the request that carried it.
WORKER_MEMORY_BYTES = 512 * 1024 * 1024
# Longest time one call may take in a worker, seconds; past it the worker is killed and replaced.
WORKER_TIMEOUT_S = 20.0
# Longest time a fresh worker may take to import and report ready, seconds (not part of a call's time).
WORKER_START_TIMEOUT_S = 60.0
WORKER_COUNT = 2
# A fresh interpreter, not a fork: the node has threads (ROS, the event loop) that a fork would copy
# mid-flight, and multiprocessing's spawn would run the node's main module again.
_WORKER_CODE = "from spatialclaw_ros.agent._images import _worker_main; _worker_main({fd}, {memory_bytes})"


class ImageDecodeError(ValueError):
    """Bytes that should hold an image could not be decoded."""


class WorkerError(RuntimeError):
    """A worker process gave no result: it ran past its time limit or ended."""


@dataclass(frozen=True)
class EncodedImage:
    """One image ready for a chat request: JPEG bytes, its data URL (built once), size and label."""

    jpeg: bytes = field(repr=False)
    width: int
    height: int
    label: str
    data_url: str = field(repr=False, default="")

    def __post_init__(self) -> None:
        """Build the data URL once; every request of the query reuses it."""
        if not self.data_url:
            url = "data:image/jpeg;base64," + base64.b64encode(self.jpeg).decode("ascii")
            object.__setattr__(self, "data_url", url)


def encode_rgb(rgb: np.ndarray, label: str, max_side_px: int, quality: int) -> EncodedImage:
    """Encode an H×W×3 RGB (or H×W grey) uint8 image as JPEG, downscaled to ``max_side_px``."""
    if rgb.dtype != np.uint8 or rgb.ndim not in (2, 3) or (rgb.ndim == 3 and rgb.shape[2] != 3):
        raise ImageDecodeError(f"need an H×W×3 or H×W uint8 image, got {rgb.dtype} {rgb.shape}")
    height, width = rgb.shape[:2]
    scale = max_side_px / max(height, width)
    if scale < 1.0:
        size = (max(1, round(width * scale)), max(1, round(height * scale)))
        rgb = cv2.resize(rgb, size, interpolation=cv2.INTER_AREA)
    bgr = cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR) if rgb.ndim == 3 else rgb
    ok, buffer = cv2.imencode(".jpg", bgr, [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:
        raise ImageDecodeError("JPEG encoding failed")
    return EncodedImage(jpeg=buffer.tobytes(), width=bgr.shape[1], height=bgr.shape[0], label=label)


def encode_bytes(data: bytes, label: str, max_side_px: int, quality: int) -> EncodedImage:
    """Decode PNG/JPEG bytes (e.g. from a kernel display) and re-encode them for the model.

    The header is checked first (:func:`~spatialclaw_ros.protocol.images.check_image`): other formats
    and images over its pixel or byte limits are refused without being decoded.
    """
    try:
        check_image(data)
    except ImageFormatError as error:
        raise ImageDecodeError(f"image {label!r} refused: {error}") from None
    try:
        array = np.frombuffer(data, dtype=np.uint8)
        decoded = cv2.imdecode(array, cv2.IMREAD_COLOR) if array.size else None
        if decoded is None:
            raise ImageDecodeError(f"cannot decode image {label!r} ({len(data)} bytes)")
        return encode_rgb(cv2.cvtColor(decoded, cv2.COLOR_BGR2RGB), label, max_side_px, quality)
    except cv2.error as error:  # OpenCV's own failures, allocation included
        raise ImageDecodeError(f"cannot decode image {label!r}: {error}") from None


def image_tokens(image: EncodedImage) -> int:
    """A conservative estimate of the prompt tokens one image costs (28 px patches, as Qwen2.5-VL)."""
    return -(-image.width // 28) * -(-image.height // 28) + 16


class ImageWorkers:
    """``count`` warm processes that run ``function(payload, *args)`` under their own memory bound.

    Each process limits its address space (``RLIMIT_AS``) to what it mapped after its imports plus
    ``memory_bytes``, and a call that takes longer than ``timeout_s`` seconds kills it (the next call
    starts a fresh one). Calls wait in line for a free process on threads of their own, so the event
    loop that awaits :meth:`run` never blocks.
    """

    def __init__(
        self,
        count: int = WORKER_COUNT,
        memory_bytes: int = WORKER_MEMORY_BYTES,
        timeout_s: float = WORKER_TIMEOUT_S,
    ) -> None:
        """Nothing starts until :meth:`warm` or the first :meth:`run`."""
        self._timeout_s = timeout_s
        self._threads = ThreadPoolExecutor(count, thread_name_prefix="image-worker")
        self._workers = [_Worker(memory_bytes) for _ in range(count)]
        self._idle: queue.SimpleQueue[_Worker] = queue.SimpleQueue()
        for worker in self._workers:
            self._idle.put(worker)

    def warm(self) -> None:
        """Start the processes that are not running; returns at once (they import in the background)."""
        for worker in self._workers:
            worker.warm()

    async def run(self, function: Callable[..., Any], payload: bytes | bytearray, *args: Any) -> Any:
        """``function(payload, *args)`` in a worker; what it returns or raises (both must pickle).

        ``function`` must be importable by name (a module-level function). ``payload`` is sent as
        raw bytes, without a pickled copy.

        Raises:
            WorkerError: the call ran past ``timeout_s`` or its process ended (both are replaced).
        """
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._threads, self._call, function, payload, args)

    def close(self) -> None:
        """Stop the processes once their calls ended; no call may come after."""
        self._threads.shutdown(wait=True)
        for worker in self._workers:
            worker.stop()

    def _call(self, function: Callable[..., Any], payload: bytes | bytearray, args: tuple[Any, ...]) -> Any:
        # As many threads as workers: a free worker is always there for the thread that runs this.
        worker = self._idle.get()
        try:
            return worker.call(function, payload, args, self._timeout_s)
        finally:
            self._idle.put(worker)


class _Worker:
    """One worker process and the parent's end of its pipe; used by one thread at a time."""

    def __init__(self, memory_bytes: int) -> None:
        self._memory_bytes = memory_bytes
        self._process: subprocess.Popen[bytes] | None = None
        self._connection: Connection | None = None
        self._ready = False
        self._busy = threading.Lock()

    def warm(self) -> None:
        """Start the process unless it runs, or a call (which starts it itself) holds it."""
        if self._busy.acquire(blocking=False):
            try:
                self.start()
            finally:
                self._busy.release()

    def start(self) -> None:
        if self._process is not None and self._process.poll() is None:
            return
        self.stop()
        parent, child = socket.socketpair()
        code = _WORKER_CODE.format(fd=child.fileno(), memory_bytes=self._memory_bytes)
        # The worker finds this package where this process does.
        environment = {**os.environ, "PYTHONPATH": os.pathsep.join(path for path in sys.path if path)}
        with child:
            self._process = subprocess.Popen(
                [sys.executable, "-c", code],
                stdin=subprocess.DEVNULL,
                pass_fds=[child.fileno()],
                env=environment,
            )
        self._connection, self._ready = Connection(parent.detach()), False

    def stop(self) -> None:
        if self._connection is not None:
            self._connection.close()
        if self._process is not None:
            self._process.kill()
            self._process.wait()
        self._process = self._connection = None

    def call(
        self,
        function: Callable[..., Any],
        payload: bytes | bytearray,
        args: tuple[Any, ...],
        timeout_s: float,
    ) -> Any:
        with self._busy:
            self.start()
            connection = self._connection
            assert connection is not None
            try:
                if not self._ready:
                    if not connection.poll(WORKER_START_TIMEOUT_S):
                        self.stop()
                        raise WorkerError(
                            f"the image worker did not start within {WORKER_START_TIMEOUT_S:g} s"
                        )
                    self._ready = connection.recv()
                connection.send((function, args))
                connection.send_bytes(payload)
                if not connection.poll(timeout_s):
                    self.stop()
                    raise WorkerError(f"the image worker took longer than {timeout_s:g} s and was stopped")
                succeeded, value = connection.recv()
            except (EOFError, OSError):
                self.stop()
                raise WorkerError(
                    "the image worker process ended (its memory limit, or a decoder crash)"
                ) from None
        if not succeeded:
            raise value
        return value


def _worker_main(fd: int, memory_bytes: int) -> None:
    """A worker's life: bound its memory, then answer calls on socket ``fd`` until the parent closes it."""
    connection = Connection(fd)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # a Ctrl-C of the node's terminal is the node's to handle
    cv2.setNumThreads(0)  # no thread pool: one decode at a time, in this thread
    _, hard = resource.getrlimit(resource.RLIMIT_AS)
    limit = _mapped_bytes() + memory_bytes
    resource.setrlimit(
        resource.RLIMIT_AS, (limit if hard == resource.RLIM_INFINITY else min(limit, hard), hard)
    )
    connection.send(True)  # ready: a call's time limit starts counting from here
    while True:
        try:
            function, args = connection.recv()
        except EOFError:
            return
        try:
            reply = (True, function(connection.recv_bytes(), *args))
        except Exception as error:  # everything goes back to the caller, MemoryError included
            reply = (False, error)
        try:
            connection.send(reply)
        except Exception as error:  # a result or error that does not pickle
            connection.send((False, WorkerError(f"the image worker could not send its result: {error}")))


def _mapped_bytes() -> int:
    """The address space this process maps now (``VmSize``), bytes."""
    status = Path("/proc/self/status").read_text()
    match = re.search(r"^VmSize:\s+(\d+) kB", status, re.MULTILINE)
    assert match is not None, "Linux reports VmSize in /proc/self/status"
    return int(match.group(1)) * 1024


#: The workers this process shares (vlm.ask requests and ``show()`` images); they start on first use.
WORKERS = ImageWorkers()
