"""Where a model loads from (local directory or Hugging Face cache, never a download) and on which device."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from spatialclaw_ros.perception._types import PerceptionUnavailableError


def resolve_model_dir(model: str, required: Sequence[str], cache_dir: str = "", note: str = "") -> Path:
    """The directory holding ``required`` files of ``model`` (a local directory or a Hugging Face id).

    Raises PerceptionUnavailableError naming the first missing file and how to get it; ``note`` is added
    to that message (licence, gating).
    """
    local = Path(model).expanduser()
    if local.is_dir():
        return _check(local, required, model, note)
    if model.startswith(("/", ".", "~")) or model.count("/") != 1:
        raise PerceptionUnavailableError(
            f"model directory {model} does not exist; download it with `hf download <model-id> "
            f"--local-dir {model}` or give a Hugging Face model id such as facebook/sam3. {note}".strip()
        )
    from huggingface_hub import snapshot_download
    from huggingface_hub.errors import LocalEntryNotFoundError

    try:
        snapshot = snapshot_download(model, local_files_only=True, cache_dir=cache_dir or None)
    except LocalEntryNotFoundError as error:
        raise PerceptionUnavailableError(
            f"{model}/{required[0]} is not in the Hugging Face cache ({cache_dir or 'HF_HOME'}); "
            f"get it with `hf download {model}`, or set the model setting to a local directory. "
            f"{note}".strip()
        ) from error
    return _check(Path(snapshot), required, model, note)


def _check(directory: Path, required: Sequence[str], model: str, note: str) -> Path:
    model_id = "<model-id>" if Path(model).is_dir() else model
    for name in required:
        if not (directory / name).is_file():
            raise PerceptionUnavailableError(
                f"{directory / name} is missing (model {model}); get the full model with "
                f"`hf download {model_id} --local-dir {directory}`. "
                f"{note}".strip()
            )
    return directory


def resolve_device(device: str) -> str:
    """``auto`` → ``cuda`` when torch sees a GPU, else ``cpu``; other values unchanged."""
    if device != "auto":
        return device
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"
