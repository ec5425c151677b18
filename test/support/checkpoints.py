"""Randomly initialised checkpoints in the published layouts, for tests and benchmarks (no download).

SAM3 is saved as transformers saves ``facebook/sam3`` (``save_pretrained`` of model and processor),
with the real CLIP tokenizer built from the BPE vocabulary that ``open_clip_torch`` ships. DA3 is saved
as the ``depth-anything/DA3-*`` repositories hold it: ``config.json`` naming the preset and the
``DepthAnything3`` wrapper's weights (network under ``model.``, tied weights stored once) in
``model.safetensors``. Random weights cost the same compute as trained ones.
"""

from __future__ import annotations

import gzip
import importlib.util
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

CLIP_MERGES = 49152 - 256 - 2
TINY_SAM3_SIZE_PX = 112
# A da3metric-large network reduced to the ViT-S backbone of da3-small (same code path, 25 M weights).
METRIC_SMALL_OVERRIDES = (
    "net.name=vits",
    "net.out_layers=[5,7,9,11]",
    "head.dim_in=384",
    "head.features=64",
    "head.out_channels=[48,96,192,384]",
)


def _byte_alphabet() -> list[str]:
    """CLIP's byte-to-unicode alphabet in vocabulary order: printable bytes as is, the rest shifted."""
    printable = [*range(ord("!"), ord("~") + 1), *range(0xA1, 0xAD), *range(0xAE, 0x100)]
    shifted = [b for b in range(256) if b not in printable]
    return [chr(b) for b in printable] + [chr(256 + i) for i in range(len(shifted))]


def clip_tokenizer() -> Any:
    """The CLIP tokenizer (49408 tokens) from open_clip's ``bpe_simple_vocab_16e6.txt.gz``."""
    from transformers import CLIPTokenizer

    spec = importlib.util.find_spec("open_clip")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError("open_clip_torch is not installed: it ships the CLIP vocabulary")
    bpe = Path(spec.submodule_search_locations[0]) / "bpe_simple_vocab_16e6.txt.gz"
    lines = gzip.decompress(bpe.read_bytes()).decode("utf-8").split("\n")
    merges = [tuple(line.split()) for line in lines[1 : CLIP_MERGES + 1]]
    alphabet = _byte_alphabet()
    vocab = [*alphabet, *(a + "</w>" for a in alphabet), *("".join(m) for m in merges)]
    vocab += ["<|startoftext|>", "<|endoftext|>"]
    return CLIPTokenizer(vocab={token: i for i, token in enumerate(vocab)}, merges=merges)


def _tiny_sam3_config() -> Any:
    from transformers import Sam3Config

    small = {"num_attention_heads": 2, "intermediate_size": 64}
    return Sam3Config(
        vision_config={
            "backbone_config": {
                "model_type": "sam3_vit_model",
                "hidden_size": 32,
                "num_hidden_layers": 2,
                "image_size": TINY_SAM3_SIZE_PX,
                "window_size": 4,
                "global_attn_indexes": [1],
                "pretrain_image_size": 56,
                **small,
            },
            "fpn_hidden_size": 32,
            "backbone_feature_sizes": [[32, 32], [16, 16], [8, 8]],
        },
        text_config={
            "model_type": "clip_text_model",
            "vocab_size": 49408,
            "max_position_embeddings": 32,
            "hidden_size": 32,
            "projection_dim": 32,
            "num_hidden_layers": 2,
            **small,
        },
        geometry_encoder_config={"hidden_size": 32, "num_layers": 1, **small},
        detr_encoder_config={"hidden_size": 32, "num_layers": 1, **small},
        detr_decoder_config={"hidden_size": 32, "num_layers": 1, "num_queries": 8, **small},
        mask_decoder_config={"hidden_size": 32, "num_attention_heads": 2},
    )


def write_random_sam3(directory: Path, tiny: bool = True, seed: int = 0) -> Path:
    """A random SAM3 checkpoint: ``tiny`` (2 M weights, 112 px) or the published size (1008 px)."""
    import torch
    from transformers import Sam3Config, Sam3ImageProcessor, Sam3Model, Sam3Processor

    torch.manual_seed(seed)
    directory.mkdir(parents=True, exist_ok=True)
    Sam3Model(_tiny_sam3_config() if tiny else Sam3Config()).save_pretrained(directory)
    image_processor = (
        Sam3ImageProcessor(
            size={"height": TINY_SAM3_SIZE_PX, "width": TINY_SAM3_SIZE_PX},
            mask_size={"height": 32, "width": 32},
        )
        if tiny
        else Sam3ImageProcessor()
    )
    Sam3Processor(image_processor=image_processor, tokenizer=clip_tokenizer()).save_pretrained(directory)
    return directory


def write_random_da3(directory: Path, preset: str, overrides: Sequence[str] = (), seed: int = 0) -> Path:
    """A random DA3 checkpoint of ``preset``, its network config changed by the dot-list ``overrides``."""
    import torch
    from depth_anything_3.cfg import create_object, load_config
    from depth_anything_3.registry import MODEL_REGISTRY
    from safetensors.torch import save_model

    torch.manual_seed(seed)
    wrapper = torch.nn.Module()
    wrapper.model = create_object(load_config(MODEL_REGISTRY[preset], list(overrides) or None))
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "config.json").write_text(json.dumps({"model_name": preset}))
    save_model(wrapper, str(directory / "model.safetensors"))
    return directory
