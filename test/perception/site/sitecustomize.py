"""Test-only: make PyPI's torchvision (a CUDA build) importable beside the CPU torch wheel.

PyPI's only torchvision for torch 2.13 ships C++ ops linked against CUDA; beside the CPU torch its
import fails with "operator torchvision::nms does not exist". When its extension cannot load, this
registers pure-torch ``torchvision::nms``/``qnms`` before the import and lets ``roi_align`` use its
eager fallback. Python imports this file at start-up when its directory is on PYTHONPATH; production
installs use a torchvision that matches their torch and never see it.
"""

import importlib.util
from pathlib import Path


def _extension_loads() -> bool:
    import torch

    spec = importlib.util.find_spec("torchvision")
    if spec is None or not spec.submodule_search_locations:
        return True
    candidates = sorted(Path(spec.submodule_search_locations[0]).glob("_C*.so"))
    try:
        for candidate in candidates:
            torch.ops.load_library(str(candidate))
    except (OSError, RuntimeError):
        return False
    return bool(candidates)


def _nms(dets, scores, iou_threshold):
    import torch

    x1, y1, x2, y2 = dets.unbind(1)
    area = (x2 - x1).clamp(min=0) * (y2 - y1).clamp(min=0)
    suppressed = torch.zeros(dets.shape[0], dtype=torch.bool, device=dets.device)
    keep = []
    for i in scores.argsort(descending=True).tolist():
        if suppressed[i]:
            continue
        keep.append(i)
        width = (torch.minimum(x2[i], x2) - torch.maximum(x1[i], x1)).clamp(min=0)
        height = (torch.minimum(y2[i], y2) - torch.maximum(y1[i], y1)).clamp(min=0)
        inter = width * height
        suppressed |= inter / (area[i] + area - inter).clamp(min=1e-12) > iou_threshold
    return torch.tensor(keep, dtype=torch.int64, device=dets.device)


def _install() -> None:
    if importlib.util.find_spec("torchvision") is None or importlib.util.find_spec("torch") is None:
        return
    if _extension_loads():
        return
    import torch

    library = torch.library.Library("torchvision", "DEF")
    for name in ("nms", "qnms"):
        library.define(f"{name}(Tensor dets, Tensor scores, float iou_threshold) -> Tensor")
        library.impl(name, _nms, "CompositeExplicitAutograd")
    globals()["_library"] = library
    import torchvision.ops.boxes

    torchvision.ops.boxes._assert_has_ops = lambda: None


_install()
