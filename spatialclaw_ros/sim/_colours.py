"""Named colours of simulated objects and surfaces, as linear RGB albedos in [0, 1]."""

from __future__ import annotations

# Object colours: names a vision-language model reads off an image without hesitation.
OBJECT_COLOURS: dict[str, tuple[float, float, float]] = {
    "red": (0.80, 0.10, 0.10),
    "green": (0.15, 0.62, 0.20),
    "blue": (0.12, 0.25, 0.85),
    "yellow": (0.92, 0.82, 0.12),
    "orange": (0.95, 0.50, 0.08),
    "purple": (0.50, 0.18, 0.65),
    "pink": (0.95, 0.45, 0.70),
    "cyan": (0.10, 0.75, 0.80),
    "black": (0.06, 0.06, 0.06),
    "gray": (0.50, 0.50, 0.50),
}

FLOOR_ALBEDO = (0.55, 0.42, 0.30)
WALL_ALBEDO = (0.85, 0.83, 0.78)
CEILING_ALBEDO = (0.93, 0.93, 0.93)


def colour_albedo(name: str) -> tuple[float, float, float]:
    """Albedo (RGB in [0, 1]) of an object colour name; ValueError names the known colours."""
    try:
        return OBJECT_COLOURS[name]
    except KeyError:
        known = ", ".join(OBJECT_COLOURS)
        raise ValueError(f"unknown colour {name!r}; known colours: {known}") from None
