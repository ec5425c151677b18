import pytest

from spatialclaw_ros.perception import PerceptionUnavailableError
from spatialclaw_ros.perception._weights import resolve_model_dir


def test_missing_file_in_local_directory_is_named(tmp_path):
    (tmp_path / "config.json").write_text("{}")
    with pytest.raises(PerceptionUnavailableError, match=r"model\.safetensors is missing"):
        resolve_model_dir(str(tmp_path), ("config.json", "model.safetensors"))


def test_missing_local_directory_says_how_to_download(tmp_path):
    with pytest.raises(PerceptionUnavailableError, match="hf download"):
        resolve_model_dir(str(tmp_path / "nope"), ("config.json",))


def test_model_id_absent_from_cache_names_the_file_and_command(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    message = r"facebook/sam3/config\.json .*hf download facebook/sam3"
    with pytest.raises(PerceptionUnavailableError, match=message):
        resolve_model_dir("facebook/sam3", ("config.json",), cache_dir=str(tmp_path))


def test_complete_directory_is_returned(tmp_path):
    (tmp_path / "config.json").write_text("{}")
    assert resolve_model_dir(str(tmp_path), ("config.json",)) == tmp_path
