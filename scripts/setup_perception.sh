#!/usr/bin/env bash
# Install the perception service's packages into .venv (run from the repository root; idempotent).
#
# 1. torch==2.13.0 from the CPU wheel on disk (never a plain `torch`: PyPI's is a CUDA build of several GB)
# 2. requirements/perception.txt (transformers>=5, FastAPI, uvicorn, Ray Serve, DA3's few modules)
# 3. depth-anything-3 with --no-deps (its declared dependencies pull open3d, numpy<2 and 130 more)
# 4. for the tests only: torchvision 0.28.0 with --no-deps (PyPI's build for torch 2.13 is CUDA-linked;
#    test/perception/site/sitecustomize.py makes it import) and open_clip_torch with --no-deps (the CLIP
#    BPE vocabulary that the tests' SAM3 tokenizer is built from)
# A second run only checks what is installed (about a second).
set -euo pipefail

VENV="${VENV:-.venv}"
PY="$VENV/bin/python"
PIP=("$VENV/bin/pip" install --disable-pip-version-check --quiet)
WHEEL_DIRS="${TORCH_WHEEL_DIR:-/opt/wheels}"
REQUIREMENTS=requirements/perception.txt
NO_DEPS=("depth-anything-3==0.1.1" "torchvision==0.28.0" "open_clip_torch==3.3.0")

[ -x "$PY" ] || { echo "setup_perception: no virtual environment at $VENV" >&2; exit 1; }

# Prints the requirements (one per line) that the environment does not satisfy.
missing() {
    "$PY" - "$@" <<'PYCODE'
import importlib.metadata as metadata
import sys

try:
    from packaging.requirements import Requirement
except ImportError:
    print("\n".join(sys.argv[1:]))
    raise SystemExit(0)
for line in sys.argv[1:]:
    requirement = Requirement(line)
    try:
        version = metadata.version(requirement.name)
    except metadata.PackageNotFoundError:
        print(line)
        continue
    if version.split("+")[0] not in requirement.specifier and version not in requirement.specifier:
        print(line)
PYCODE
}

mapfile -t listed < <(grep -vE '^\s*(#|$)' "$REQUIREMENTS")
mapfile -t todo < <(missing "${listed[@]}")
mapfile -t todo_no_deps < <(missing "${NO_DEPS[@]}")
if [ ${#todo[@]} -eq 0 ] && [ ${#todo_no_deps[@]} -eq 0 ]; then
    echo "setup_perception: all perception packages present (torch, transformers, depth-anything-3, fastapi, ray)"
    exit 0
fi

if printf '%s\n' "${todo[@]}" | grep -q '^torch=='; then
    wheel=""
    for dir in ${WHEEL_DIRS//:/ }; do
        wheel=$(ls "$dir"/torch-2.13.0+cpu-*.whl 2>/dev/null | head -n 1 || true)
        [ -n "$wheel" ] && break
    done
    if [ -z "$wheel" ]; then
        echo "setup_perception: no torch-2.13.0+cpu wheel in $WHEEL_DIRS; refusing to pull the CUDA build from PyPI." >&2
        echo "  Put the CPU wheel there (or set TORCH_WHEEL_DIR), or install torch==2.13.0 for your CUDA first." >&2
        exit 1
    fi
    echo "setup_perception: installing $(basename "$wheel")"
    "${PIP[@]}" "$wheel" "setuptools<80"
fi
mapfile -t todo < <(missing "${listed[@]}")
if [ ${#todo[@]} -gt 0 ]; then
    echo "setup_perception: installing ${todo[*]}"
    "${PIP[@]}" -r "$REQUIREMENTS"
fi
mapfile -t todo_no_deps < <(missing "${NO_DEPS[@]}")
if [ ${#todo_no_deps[@]} -gt 0 ]; then
    echo "setup_perception: installing without dependencies: ${todo_no_deps[*]}"
    "${PIP[@]}" --no-deps "${todo_no_deps[@]}"
fi
PYTHONPATH=test/perception/site "$PY" -c \
    "import depth_anything_3.model.da3, fastapi, uvicorn, ray.serve, torchvision.ops; from transformers import Sam3Model" \
    || { echo "setup_perception: the installed packages do not import" >&2; exit 1; }
echo "setup_perception: done"
