"""Fixtures for the perception tests with real models: tiny randomly initialised SAM3 and DA3 checkpoints.

The checkpoints are written in the published layouts and loaded back by the production loading code;
nothing is downloaded. SAM3's tokenizer is the real CLIP BPE vocabulary that ``open_clip_torch`` ships.
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

import numpy as np
import pytest

from support.checkpoints import (
    METRIC_SMALL_OVERRIDES,
    write_random_da3,
    write_random_sam3,
)

SITE_DIR = Path(__file__).parent / "site"
TINY_DA3_RES_PX = 126

pytest.importorskip("torch", reason="perception model tests need scripts/setup_perception.sh")
pytest.importorskip("depth_anything_3", reason="perception model tests need scripts/setup_perception.sh")
if importlib.util.find_spec("open_clip") is None:  # not imported: open_clip imports torchvision at once
    pytest.skip(
        "the CLIP vocabulary comes with open_clip_torch (setup_perception.sh)", allow_module_level=True
    )


def _load_shim() -> None:
    """Run the test-only torchvision shim in this process (service processes get it via PYTHONPATH)."""
    spec = importlib.util.spec_from_file_location("_torchvision_test_shim", SITE_DIR / "sitecustomize.py")
    assert spec is not None and spec.loader is not None
    spec.loader.exec_module(importlib.util.module_from_spec(spec))


_load_shim()


@pytest.fixture(scope="session")
def service_env() -> dict[str, str]:
    """Environment for service processes: the test-only torchvision shim on PYTHONPATH."""
    return {"PYTHONPATH": os.pathsep.join(filter(None, (str(SITE_DIR), os.environ.get("PYTHONPATH"))))}


@pytest.fixture(scope="session")
def sam3_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny random SAM3 checkpoint with the real CLIP tokenizer."""
    return write_random_sam3(tmp_path_factory.mktemp("sam3"), tiny=True)


@pytest.fixture(scope="session")
def da3_small_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A random da3-small checkpoint (any-view: depth, rays, camera head)."""
    return write_random_da3(tmp_path_factory.mktemp("da3") / "DA3-SMALL", "da3-small")


@pytest.fixture(scope="session")
def da3_metric_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A random da3metric-large checkpoint reduced by METRIC_SMALL_OVERRIDES."""
    return write_random_da3(
        tmp_path_factory.mktemp("da3") / "DA3METRIC", "da3metric-large", METRIC_SMALL_OVERRIDES
    )


@pytest.fixture(scope="session")
def da3_metric_overrides() -> tuple[str, ...]:
    """The config overrides the reduced metric checkpoint was built with."""
    return METRIC_SMALL_OVERRIDES


@pytest.fixture(scope="session")
def da3_res_px() -> int:
    """DA3 processing resolution of the tests (long side, pixels)."""
    return TINY_DA3_RES_PX


@pytest.fixture
def image() -> np.ndarray:
    """A deterministic RGB test image, (96, 128, 3) uint8."""
    return np.random.default_rng(0).integers(0, 256, (96, 128, 3), dtype=np.uint8)
