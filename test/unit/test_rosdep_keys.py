"""Every dependency key of package.xml resolves in the rosdep database for Humble, Jazzy and Kilted.

The database is the rosdistro snapshot in ../shared/rosdistro (its README: rosdep reads it without a
network). `rosdep update` runs once per session into a temporary cache (test/support/rosdep_update.py:
on libyaml, to take 1.5 s rather than 5 s); the keys are then resolved one by one with rosdep's Python API,
because `rosdep resolve` stops at the first key that a platform marks unavailable and so cannot list them
all.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from catkin_pkg.package import parse_package
from rosdep2 import create_default_installer_context, get_default_installer
from rosdep2.lookup import ResolutionError, RosdepLookup
from rosdep2.rospkg_loader import DEFAULT_VIEW_KEY
from rosdep2.sources_list import DataSourceMatcher, SourcesListLoader

REPO = Path(__file__).resolve().parents[2]


def _snapshot() -> Path:
    """The rosdistro snapshot beside this checkout, else beside the local repository it was cloned from."""
    candidates = [REPO.parent / "shared" / "rosdistro"]
    origin = subprocess.run(
        ["git", "-C", str(REPO), "config", "--get", "remote.origin.url"],
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    if origin and "://" not in origin and ":" not in origin.split("/")[0]:
        candidates.append(Path(origin).resolve().parent / "shared" / "rosdistro")
    return next((path for path in candidates if (path / "index-v4.yaml").is_file()), candidates[0])


ROSDISTRO = _snapshot()
# ROS distribution -> the Ubuntu release its binary packages are built for (REP 2000).
TARGETS = {"humble": "jammy", "jazzy": "noble", "kilted": "noble"}


@pytest.fixture(scope="session")
def sources_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``rosdep update`` from the local database into a fresh ROS_HOME; returns the sources cache."""
    if not (ROSDISTRO / "index-v4.yaml").is_file():
        pytest.skip(f"no rosdistro snapshot at {ROSDISTRO}")
    home = tmp_path_factory.mktemp("rosdep")
    sources_list = home / "sources.list.d"
    sources_list.mkdir()
    (sources_list / "20-default.list").write_text(
        "".join(f"yaml {(ROSDISTRO / 'rosdep' / name).as_uri()}\n" for name in ("base.yaml", "python.yaml"))
    )
    env = {
        **os.environ,
        "ROS_HOME": str(home),
        "ROSDEP_SOURCE_PATH": str(sources_list),
        "ROSDISTRO_INDEX_URL": (ROSDISTRO / "index-v4.yaml").as_uri(),
    }
    update = subprocess.run(
        [sys.executable, str(REPO / "test" / "support" / "rosdep_update.py")],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert update.returncode == 0, f"rosdep update failed:\n{update.stdout}{update.stderr}"
    return home / "rosdep" / "sources.cache"


def declared_keys() -> list[str]:
    """Every dependency key of package.xml, whatever its kind (build, buildtool, exec, test, ...)."""
    package = parse_package(str(REPO / "package.xml"))
    kinds = (
        package.buildtool_depends,
        package.buildtool_export_depends,
        package.build_depends,
        package.build_export_depends,
        package.exec_depends,
        package.test_depends,
        package.doc_depends,
    )
    return sorted({dependency.name for kind in kinds for dependency in kind})


def unresolved_keys(keys: list[str], sources_cache: Path, ros_distro: str, ubuntu: str) -> dict[str, str]:
    """The keys that rosdep cannot resolve for ``ros_distro`` on Ubuntu ``ubuntu``, with rosdep's reasons."""
    loader = SourcesListLoader.create_default(
        matcher=DataSourceMatcher([ros_distro, "ubuntu", ubuntu]), sources_cache_dir=str(sources_cache)
    )
    view = RosdepLookup.create_from_rospkg(sources_loader=loader).get_rosdep_view(DEFAULT_VIEW_KEY)
    context = create_default_installer_context()
    context.set_os_override("ubuntu", ubuntu)
    _, installer_keys, default_key, os_name, os_version = get_default_installer(installer_context=context)
    unresolved: dict[str, str] = {}
    for key in keys:
        try:
            installer_key, rule = view.lookup(key).get_rule_for_platform(
                os_name, os_version, installer_keys, default_key
            )
            context.get_installer(installer_key).resolve(rule)
        except KeyError:
            unresolved[key] = "no rosdep rule"
        except ResolutionError as error:
            unresolved[key] = error.args[0]
    return unresolved


@pytest.mark.parametrize(("ros_distro", "ubuntu"), TARGETS.items(), ids=list(TARGETS))
def test_every_key_resolves(sources_cache: Path, ros_distro: str, ubuntu: str) -> None:
    unresolved = unresolved_keys(declared_keys(), sources_cache, ros_distro, ubuntu)
    listing = "\n".join(f"  {key}: {reason}" for key, reason in unresolved.items())
    assert not unresolved, f"package.xml keys unresolved for {ros_distro} (ubuntu:{ubuntu}):\n{listing}"
