"""The perception service the node starts has least privilege: its own user, no secrets, a private log."""

from __future__ import annotations

import os
import pwd
import stat
import subprocess
from pathlib import Path

import psutil
import pytest

from spatialclaw_ros.engine import PerceptionLinkError, open_perception
from spatialclaw_ros.perception import PerceptionSettings

SERVICE_USER = "spatialclaw-perception"
SANDBOX_USER = "spatialclaw-sandbox"
LABELS = PerceptionSettings(segmenter="labels", depth="sensor", reconstructor="none")


def _user(name: str) -> pwd.struct_passwd:
    try:
        return pwd.getpwnam(name)
    except KeyError:
        pytest.skip(f"user {name} missing: run scripts/setup_sandbox.sh as root")


pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="switching users needs root")


def test_the_started_service_runs_as_its_user_without_the_node_secrets(monkeypatch):
    user = _user(SERVICE_USER)
    monkeypatch.setenv("OPENAI_API_KEY", "sk-node-secret-1")
    monkeypatch.setenv("HF_TOKEN", "hf-node-secret-2")
    monkeypatch.setenv("SPATIALCLAW_PERCEPTION_TOKEN", "node-secret-3")
    link = open_perception("", LABELS, service_user=SERVICE_USER)
    try:
        assert link.health()[0]
        service = psutil.Process(link.process.pid)
        environment = "\n".join(f"{k}={v}" for k, v in service.environ().items())
        uids, gids = service.uids(), service.gids()
        groups = Path(f"/proc/{service.pid}/status").read_text().split("Groups:")[1].split("\n")[0].split()
        assert (uids.real, uids.effective, gids.real) == (user.pw_uid, user.pw_uid, user.pw_gid)
        assert groups in ([], [str(user.pw_gid)])
        assert "node-secret" not in environment and "sk-" not in environment
        log = link.owned_dir / "service.log"
        socket_dir = Path(link.upstream.socket_path).parent
        assert stat.S_IMODE(log.stat().st_mode) == 0o600 and log.stat().st_uid == 0
        assert stat.S_IMODE(socket_dir.stat().st_mode) == 0o700 and socket_dir.stat().st_uid == user.pw_uid
        sandbox = _user(SANDBOX_USER)
        for path in (log, socket_dir / "perception.sock"):
            read = subprocess.run(
                ["cat", str(path)], user=sandbox.pw_uid, group=sandbox.pw_gid, extra_groups=[],
                capture_output=True, check=False,
            )  # fmt: skip
            assert read.returncode != 0 and b"Permission denied" in read.stderr
    finally:
        link.close()
    assert not link.owned_dir.exists()


def test_a_missing_service_user_is_a_clear_error():
    with pytest.raises(PerceptionLinkError, match=r"setup_sandbox\.sh"):
        open_perception("", LABELS, service_user="no-such-user-spatialclaw")


def test_an_unknown_url_scheme_is_a_clear_error():
    with pytest.raises(PerceptionLinkError, match="unix:///"):
        open_perception("ftp://host/service", LABELS)
