"""``show()``: attach images (arrays, frames, figures) to the observation the model sees next.

Each image is downscaled to the step's long-side limit, encoded as PNG and published at once as a
Jupyter display with ``image/png`` data and the label in its metadata, so that images shown before
a later error or timeout still reach the host. At most ``max_per_step`` images leave one cell; the
rest are dropped with a note on stderr (the host keeps its own per-step and per-query budgets).
"""

from __future__ import annotations

import base64
import sys
from typing import Any

from spatialclaw_ros.protocol.images import ImageFormatError, check_image
from spatialclaw_ros.runtime._images import ImageError, to_png

METADATA_KEY = "spatialclaw"


class _ShowState:
    def __init__(self) -> None:
        self.publish: Any = None
        self.max_per_step = 4
        self.max_side_px = 1024
        self.shown_this_step = 0


_state = _ShowState()


def configure(publish: Any, max_per_step: int, max_side_px: int) -> None:
    """Set the display publisher (``shell.display_pub.publish``) and the limits (done at bootstrap)."""
    _state.publish = publish
    _state.max_per_step = max_per_step
    _state.max_side_px = max_side_px


def new_step() -> None:
    """Reset the per-step image count (called before every cell)."""
    _state.shown_this_step = 0


def show(*images: Any, label: str = "") -> None:
    """Attach images to the next observation.

    Args:
        *images: H×W or H×W×3 arrays (uint8 RGB, float, bool masks, depth in metres: scaled to
            min..max), ``Frame`` objects (their ``.image``) or matplotlib figures/axes.
        label: a caption shown with every image of this call (numbered when there are several).

    Raises:
        ImageError: an argument cannot be turned into an image, or its PNG is over the host's limits.
    """
    if _state.publish is None:
        raise RuntimeError("show() is not connected to a kernel display")
    if not isinstance(label, str):
        raise ImageError(f"label must be a string, got {type(label).__name__}")
    encoded = [_png(image) for image in images]
    for k, (png, width, height) in enumerate(encoded):
        caption = f"{label} [{k + 1}/{len(encoded)}]" if len(encoded) > 1 else label
        if _state.shown_this_step >= _state.max_per_step:
            print(
                f"show(): at most {_state.max_per_step} images per step; dropped {caption or 'an image'!r}",
                file=sys.stderr,
            )
            continue
        _state.shown_this_step += 1
        _state.publish(
            data={"image/png": base64.b64encode(png).decode("ascii"), "text/plain": f"<image {caption}>"},
            metadata={METADATA_KEY: {"label": caption, "width": width, "height": height}},
        )


def _png(image: Any) -> tuple[bytes, int, int]:
    """``to_png`` of the image, checked against the limits the host applies to what it decodes."""
    png, width, height = to_png(image, _state.max_side_px)
    try:
        check_image(png)
    except ImageFormatError as error:
        raise ImageError(f"cannot show a {width}×{height} px image: {error}; downscale it") from None
    return png, width, height
