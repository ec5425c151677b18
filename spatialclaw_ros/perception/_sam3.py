"""SAM3 text-prompted instance segmentation through transformers (``Sam3Model``, ``Sam3Processor``).

transformers (>= 5) needs fewer dependencies than the ``sam3`` package, which hard-codes CUDA. The
weights (``facebook/sam3``, gated: accept the SAM licence on its Hugging Face page, then
``hf download facebook/sam3``) are read from a local directory or the Hugging Face cache.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from spatialclaw_ros.perception._types import Instances, InvalidRequestError, PerceptionUnavailableError
from spatialclaw_ros.perception._weights import resolve_device, resolve_model_dir

REQUIRED_FILES = ("config.json", "model.safetensors", "processor_config.json", "tokenizer.json")
LICENCE_NOTE = (
    "facebook/sam3 is gated: accept its licence on the Hugging Face page and `hf auth login` first."
)


class Sam3Segmenter:
    """Segmenter backed by SAM3; loads its model once, at construction."""

    name = "sam3"

    def __init__(self, model: str, device: str, mask_threshold: float, cache_dir: str = "") -> None:
        """Load ``model`` (directory or id) onto ``device``; PerceptionUnavailableError without weights."""
        directory = resolve_model_dir(model, REQUIRED_FILES, cache_dir, LICENCE_NOTE)
        import torch

        try:
            from transformers import Sam3Model, Sam3Processor
        except (ImportError, RuntimeError) as error:
            raise PerceptionUnavailableError(
                f"transformers' SAM3 does not import ({error}); it needs transformers>=5 and a torchvision "
                f"built for this torch {torch.__version__}"
            ) from error

        self._torch = torch
        self._device = torch.device(resolve_device(device))
        self._processor = Sam3Processor.from_pretrained(str(directory), local_files_only=True)
        self._model = Sam3Model.from_pretrained(str(directory), local_files_only=True).to(self._device).eval()
        self._mask_threshold = mask_threshold

    def segment(
        self,
        image: np.ndarray,
        prompt: str,
        min_score: float,
        labels: np.ndarray | None,
        label_map: Mapping[int, str] | None = None,
    ) -> Instances:
        """Instances of ``prompt`` in ``image`` (``labels`` and ``label_map`` are not used), best first."""
        if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
            raise InvalidRequestError(f"image must be (H, W, 3) uint8, got {image.dtype} {image.shape}")
        torch = self._torch
        inputs = self._processor(images=image, text=prompt, return_tensors="pt").to(self._device)
        with torch.inference_mode():
            outputs = self._model(**inputs)
        result = self._processor.post_process_instance_segmentation(
            outputs,
            threshold=min_score,
            mask_threshold=self._mask_threshold,
            target_sizes=[tuple(image.shape[:2])],
        )[0]
        scores = result["scores"].float().cpu().numpy()
        order = np.argsort(-scores, kind="stable")
        masks = result["masks"].cpu().numpy().astype(bool)[order]
        return Instances(
            masks=masks.reshape(len(order), *image.shape[:2]),
            scores=scores[order].astype(np.float32),
            boxes=result["boxes"].float().cpu().numpy()[order].astype(np.float32).reshape(-1, 4),
            labels=(prompt,) * len(order),
        )
