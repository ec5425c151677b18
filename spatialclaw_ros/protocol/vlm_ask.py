"""The ``vlm.ask`` wire between a kernel and its host: one isolated VLM question over a Unix socket.

The host listens on ``<services dir>/vlm.sock`` (``SOCKET_NAME``) while a query runs. The kernel
posts ``{"question": str, "images_png": [base64 PNG, …]}`` (1 to ``MAX_IMAGES`` images) to
``ASK_PATH``; the host answers ``{"answer": str}`` (200) or ``{"error": str}`` with an HTTP error
status. Headers past ``MAX_HEADER_BYTES`` and bodies past ``MAX_BODY_BYTES`` are refused.
"""

from __future__ import annotations

SOCKET_NAME = "vlm.sock"
ASK_PATH = "/ask"
MAX_IMAGES = 8
MAX_BODY_BYTES = 64 * 1024 * 1024
MAX_HEADER_BYTES = 16 * 1024
