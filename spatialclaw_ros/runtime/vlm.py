"""``vlm.ask(images, question)``: an isolated vision-language question, served by the host.

The kernel holds no key and has no network: it sends the images (PNG) and the question over HTTP on
a Unix socket that the host created for this kernel, and the host makes one VLM call with no
conversation history. Standard library only (``http.client`` over ``AF_UNIX``).
"""

from __future__ import annotations

import base64
import contextlib
import http.client
import json
from typing import Any

from spatialclaw_ros.protocol._unix_http import UnixHTTPConnection
from spatialclaw_ros.protocol.images import ImageFormatError, check_image
from spatialclaw_ros.protocol.vlm_ask import ASK_PATH, MAX_BODY_BYTES, MAX_IMAGES, MAX_QUESTION_CHARS
from spatialclaw_ros.runtime._images import to_png


class VLMError(RuntimeError):
    """The host could not answer a ``vlm.ask`` question (model unreachable, bad input, budget spent)."""


class VLM:
    """Client for the host's ``vlm.ask`` endpoint; the kernel namespace holds one as ``vlm``."""

    def __init__(self, socket_path: str, timeout_s: float = 120.0, max_side_px: int = 1024) -> None:
        """Talk to the host over the Unix socket at ``socket_path`` (a path inside the kernel)."""
        self._socket_path = socket_path
        self._timeout_s = timeout_s
        self._max_side_px = max_side_px

    def __repr__(self) -> str:
        """Say what the object is for."""
        return "<vlm: call vlm.ask(images, question) for an isolated visual judgement>"

    def ask(self, images: Any, question: str) -> str:
        """Ask the VLM one question about some images, with no conversation history.

        Args:
            images: one image or a list of images (arrays, ``Frame`` objects, matplotlib figures),
                at most 8; each is downscaled to 1024 px on its long side.
            question: what to ask, in natural language (at most 16 000 characters).

        Returns:
            The model's answer text.

        Raises:
            VLMError: the host could not get an answer.
        """
        if not isinstance(question, str) or not question.strip():
            raise VLMError("vlm.ask needs a non-empty question string")
        if len(question) > MAX_QUESTION_CHARS:
            raise VLMError(
                f"the question has {len(question)} characters; vlm.ask takes at most {MAX_QUESTION_CHARS}"
            )
        items = list(images) if isinstance(images, (list, tuple)) else [images]
        if not items or len(items) > MAX_IMAGES:
            raise VLMError(f"vlm.ask takes 1 to {MAX_IMAGES} images, got {len(items)}")
        encoded = [base64.b64encode(self._png(item, k + 1)).decode("ascii") for k, item in enumerate(items)]
        body = json.dumps({"question": question, "images_png": encoded}).encode("utf-8")
        if len(body) > MAX_BODY_BYTES:
            raise VLMError(
                f"the request is {len(body)} bytes, over the limit of {MAX_BODY_BYTES}: "
                "send fewer or smaller images"
            )
        reply = self._post(body)
        answer = reply.get("answer")
        if not isinstance(answer, str):
            raise VLMError(str(reply.get("error", "the host sent no answer")))
        return answer

    def _png(self, item: Any, number: int) -> bytes:
        png = to_png(item, self._max_side_px)[0]
        try:
            check_image(png)
        except ImageFormatError as error:
            raise VLMError(f"image {number} cannot be sent: {error}; downscale it") from None
        return png

    def _post(self, body: bytes) -> dict[str, Any]:
        connection = UnixHTTPConnection(self._socket_path, self._timeout_s)
        try:
            # The host may refuse a request (429, 413) before reading its body and close: its answer is
            # still there to read after the write failed.
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                connection.request("POST", ASK_PATH, body=body, headers={"Content-Type": "application/json"})
            response = connection.getresponse()
            raw = response.read()
        except (OSError, http.client.HTTPException) as error:
            raise VLMError(f"the vlm.ask service is not reachable: {error}") from None
        finally:
            connection.close()
        try:
            reply = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError):
            raise VLMError(f"the vlm.ask service sent HTTP {response.status} without JSON") from None
        if response.status != 200 or not isinstance(reply, dict):
            message = reply.get("error") if isinstance(reply, dict) else None
            raise VLMError(str(message or f"the vlm.ask service answered HTTP {response.status}"))
        return reply
