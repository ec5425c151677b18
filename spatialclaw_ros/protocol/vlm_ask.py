"""The ``vlm.ask`` wire between a kernel and its host: one isolated VLM question over a Unix socket.

The host listens on ``<services dir>/vlm.sock`` (``SOCKET_NAME``) while a query runs. The kernel
posts ``{"question": str, "images_png": [base64 PNG, …]}`` (1 to ``MAX_IMAGES`` images, each PNG or
JPEG within :mod:`~spatialclaw_ros.protocol.images`' limits; a question of at most
``MAX_QUESTION_CHARS`` characters) to ``ASK_PATH`` with a ``Content-Length``; the host answers
``{"answer": str}`` (200) or ``{"error": str}`` with an HTTP error status. Headers past
``MAX_HEADER_BYTES`` (431), bodies past ``MAX_BODY_BYTES`` or without a length (413, 411) and more
than ``MAX_CONNECTIONS`` connections open at once (429) are refused before any body is read.
"""

from __future__ import annotations

SOCKET_NAME = "vlm.sock"
ASK_PATH = "/ask"
MAX_IMAGES = 8
# Eight 1024 px camera PNGs (about 2 MiB each, 4/3 of that in base64) with room to spare.
MAX_BODY_BYTES = 24 * 1024 * 1024
MAX_HEADER_BYTES = 16 * 1024
# About 4000 tokens: a question, not a document.
MAX_QUESTION_CHARS = 16_000
# Connections one kernel may hold open at once; the host serves one request at a time per kernel.
MAX_CONNECTIONS = 2
