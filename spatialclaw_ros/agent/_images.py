"""Images for the model: JPEG, long side at most the configured size (never upscaled), base64 once."""

from __future__ import annotations

import base64
from dataclasses import dataclass, field

import cv2
import numpy as np


class ImageDecodeError(ValueError):
    """Bytes that should hold an image could not be decoded."""


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
    """Decode PNG/JPEG bytes (e.g. from a kernel display) and re-encode them for the model."""
    array = np.frombuffer(data, dtype=np.uint8)
    decoded = cv2.imdecode(array, cv2.IMREAD_COLOR) if array.size else None
    if decoded is None:
        raise ImageDecodeError(f"cannot decode image {label!r} ({len(data)} bytes)")
    return encode_rgb(cv2.cvtColor(decoded, cv2.COLOR_BGR2RGB), label, max_side_px, quality)


def image_tokens(image: EncodedImage) -> int:
    """A conservative estimate of the prompt tokens one image costs (28 px patches, as Qwen2.5-VL)."""
    return -(-image.width // 28) * -(-image.height // 28) + 16
