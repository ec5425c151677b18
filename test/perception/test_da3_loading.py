import json
import shutil

import pytest

from spatialclaw_ros.perception import PerceptionUnavailableError
from spatialclaw_ros.perception._da3 import Da3Reconstructor


def test_checkpoint_with_tied_weights_stored_once_loads(da3_small_dir, da3_res_px):
    assert Da3Reconstructor(str(da3_small_dir), "cpu", da3_res_px).preset == "da3-small"


def test_weights_of_another_preset_are_refused(tmp_path, da3_metric_dir, da3_res_px):
    shutil.copy(da3_metric_dir / "model.safetensors", tmp_path / "model.safetensors")
    (tmp_path / "config.json").write_text(json.dumps({"model_name": "da3-small"}))
    with pytest.raises(PerceptionUnavailableError, match="does not fit preset da3-small"):
        Da3Reconstructor(str(tmp_path), "cpu", da3_res_px)


def test_unknown_preset_is_named(tmp_path, da3_small_dir, da3_res_px):
    shutil.copy(da3_small_dir / "model.safetensors", tmp_path / "model.safetensors")
    (tmp_path / "config.json").write_text(json.dumps({"model_name": "da4-huge"}))
    with pytest.raises(PerceptionUnavailableError, match="da4-huge"):
        Da3Reconstructor(str(tmp_path), "cpu", da3_res_px)
