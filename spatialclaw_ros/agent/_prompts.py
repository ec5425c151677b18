"""Load the prompt templates in ``agent/prompts/`` (``$name`` placeholders, ``string.Template``)."""

from __future__ import annotations

import functools
import inspect
import string
import types
from importlib import resources


class PromptError(KeyError):
    """A prompt file is missing or a placeholder has no value."""


@functools.cache
def template(name: str) -> string.Template:
    """The template ``prompts/<name>.md``."""
    path = resources.files("spatialclaw_ros.agent").joinpath("prompts", f"{name}.md")
    try:
        return string.Template(path.read_text(encoding="utf-8").rstrip("\n"))
    except FileNotFoundError:
        raise PromptError(f"prompt file prompts/{name}.md is missing") from None


def render(name: str, **values: object) -> str:
    """Fill ``prompts/<name>.md`` with ``values``; every placeholder must have one."""
    try:
        return template(name).substitute({key: str(value) for key, value in values.items()})
    except KeyError as error:
        raise PromptError(f"prompts/{name}.md needs a value for {error}") from None


def api_reference(prefix: str, module: types.ModuleType) -> str:
    """One line per public function/class of ``module``: ``prefix.name(params)  first docstring line``.

    Built from the module itself, so that the system prompt documents exactly what the kernel holds.
    """
    lines = []
    for name in getattr(module, "__all__", ()):
        value = getattr(module, name)
        if not (inspect.isfunction(value) or inspect.isclass(value)):
            continue
        doc = (inspect.getdoc(value) or "").strip().split("\n")[0]
        lines.append(f"- `{prefix}.{name}{_parameters(value)}` — {doc}".rstrip(" —"))
    return "\n".join(lines)


def _parameters(value: object) -> str:
    try:
        signature = inspect.signature(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return ""
    parts = []
    for parameter in signature.parameters.values():
        if parameter.name == "self":
            continue
        text = parameter.name
        if parameter.kind is parameter.VAR_POSITIONAL:
            text = f"*{text}"
        elif parameter.kind is parameter.VAR_KEYWORD:
            text = f"**{text}"
        if parameter.default is not parameter.empty:
            text += f"={parameter.default!r}"
        parts.append(text)
    return f"({', '.join(parts)})"
