"""ReturnAnswer and its types: the only way a cell ends a query, validated on both sides of the kernel.

Inside the kernel the model calls ``ReturnAnswer(answer, measurements=(), objects=(), trajectories=())``
with ``Measurement``, ``Object3D`` and ``Trajectory`` values. Each type checks its fields when it is
built (finite numbers, shapes, known units), so a mistake fails on the model's own line. The call
turns everything into a plain JSON-able *payload* (SI units, quaternions, lists), checks the answer
against the query's ``answer_type``/``choices`` and keeps it for the step's report to the host. The
host runs the same :func:`validate_payload` again on what it receives: it never trusts the kernel.

Convention:
    Points, centres and positions are metres in the world frame of the snapshot (the node's
    ``target_frame`` when camera poses are known, else the first frame's camera optical frame:
    x right, y down, z forward, REP-103). Quaternions are ``(x, y, z, w)``. Stamps are seconds.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from spatialclaw_ros.geometry import matrix_to_quat

ANSWER_TYPES = ("", "text", "number", "choice", "boolean")
MEASUREMENT_TYPES = ("distance", "size", "height", "angle", "area", "volume", "speed", "count", "other")
MAX_MEASUREMENTS = 100
MAX_OBJECTS = 200
MAX_TRAJECTORIES = 50
MAX_POINTS = 10_000
MAX_TEXT_CHARS = 4_000

_LENGTH_UNITS = {
    "m": 1.0, "meter": 1.0, "meters": 1.0, "metre": 1.0, "metres": 1.0,
    "cm": 0.01, "mm": 0.001, "km": 1000.0,
}  # fmt: skip
_ANGLE_UNITS = {
    "rad": 1.0, "radian": 1.0, "radians": 1.0,
    "deg": math.pi / 180.0, "degree": math.pi / 180.0, "degrees": math.pi / 180.0, "°": math.pi / 180.0,
}  # fmt: skip
_AREA_UNITS = {"m^2": 1.0, "m2": 1.0, "m²": 1.0, "cm^2": 1e-4, "cm2": 1e-4, "cm²": 1e-4}
_VOLUME_UNITS = {
    "m^3": 1.0, "m3": 1.0, "m³": 1.0, "l": 1e-3, "liter": 1e-3, "liters": 1e-3, "litre": 1e-3,
    "litres": 1e-3, "cm^3": 1e-6, "cm3": 1e-6, "cm³": 1e-6,
}  # fmt: skip
_SPEED_UNITS = {"m/s": 1.0, "mps": 1.0, "km/h": 1.0 / 3.6, "kmh": 1.0 / 3.6}
_COUNT_UNITS = {"1": 1.0, "": 1.0, "count": 1.0}

# type -> (SI unit written in the answer, accepted spellings -> factor to the SI unit)
UNITS: dict[str, tuple[str, dict[str, float]]] = {
    "distance": ("m", _LENGTH_UNITS),
    "size": ("m", _LENGTH_UNITS),
    "height": ("m", _LENGTH_UNITS),
    "angle": ("rad", _ANGLE_UNITS),
    "area": ("m^2", _AREA_UNITS),
    "volume": ("m^3", _VOLUME_UNITS),
    "speed": ("m/s", _SPEED_UNITS),
    "count": ("1", _COUNT_UNITS),
}


class AnswerError(ValueError):
    """An answer, measurement, object or trajectory is not valid; the message says how to fix it."""


@dataclass(frozen=True)
class Measurement:
    """A metric quantity supporting the answer.

    Args:
        name: short name, e.g. ``"chair_to_door"``.
        value: the number, in ``unit``; converted to the SI unit of ``type`` in the answer.
        unit: ``"m"``, ``"cm"``, ``"mm"`` (lengths), ``"rad"``/``"deg"``, ``"m^2"``, ``"m^3"``, ``"m/s"``,
            ``"1"`` (count); anything non-empty for type ``"other"``.
        type: one of ``distance, size, height, angle, area, volume, speed, count, other``.
        subjects: labels of the things measured, e.g. ``("red chair", "door")``.
        points: supporting points, N×3 metres, world frame of the snapshot (a distance: its two ends).
        stddev: one standard deviation in ``unit``; NaN when unknown.
    """

    name: str
    value: float
    unit: str = "m"
    type: str = "distance"
    subjects: Sequence[str] = ()
    points: Any = ()
    stddev: float = float("nan")
    payload: dict[str, Any] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        """Check every field now so that a mistake fails on the line that made it."""
        raw = {
            "name": self.name,
            "type": self.type,
            "value": self.value,
            "unit": self.unit,
            "stddev": self.stddev,
            "subjects": self.subjects,
            "points": self.points,
        }
        object.__setattr__(self, "payload", measurement_payload(raw))


@dataclass(frozen=True)
class Object3D:
    """An object located while answering, as an oriented box.

    Args:
        label: what it is, e.g. ``"red chair"``.
        center: box centre ``(x, y, z)``, metres, world frame of the snapshot.
        size: extents along the box's own axes, metres; 0 where unknown.
        rotation: box orientation in the world frame: a 3×3 rotation matrix or a quaternion
            ``(x, y, z, w)``; ``None`` means the box axes are the world axes.
        id: unique id within the answer; ``None`` gives ``"<label>_<k>"``.
        score: confidence in [0, 1].
    """

    label: str
    center: Any
    size: Any = (0.0, 0.0, 0.0)
    rotation: Any = None
    id: str | None = None
    score: float = 1.0
    payload: dict[str, Any] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        """Check every field now so that a mistake fails on the line that made it."""
        raw = {
            "id": self.id,
            "label": self.label,
            "center": self.center,
            "size": self.size,
            "orientation_xyzw": _quaternion_xyzw(self.rotation),
            "score": self.score,
        }
        object.__setattr__(self, "payload", object_payload(raw))


@dataclass(frozen=True)
class Trajectory:
    """How one thing moved: time-stamped positions.

    Args:
        label: what moved, e.g. ``"person"``.
        stamps: N stamps in seconds (the frames' ``.stamp``), strictly increasing.
        positions: N×3 positions, metres, world frame of the snapshot.
        id: unique id within the answer; ``None`` gives ``"<label>_<k>"``.
    """

    label: str
    stamps: Any
    positions: Any
    id: str | None = None
    payload: dict[str, Any] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        """Check every field now so that a mistake fails on the line that made it."""
        raw = {"id": self.id, "label": self.label, "stamps": self.stamps, "positions": self.positions}
        object.__setattr__(self, "payload", trajectory_payload(raw))


_expected: tuple[str, tuple[str, ...]] = ("", ())
_pending: dict[str, Any] | None = None


def expect(answer_type: str, choices: Sequence[str]) -> None:
    """Set the answer type and choices that ``ReturnAnswer`` checks against (done at bootstrap)."""
    global _expected
    if answer_type not in ANSWER_TYPES:
        raise AnswerError(f"unknown answer_type {answer_type!r}; expected one of {ANSWER_TYPES}")
    _expected = (answer_type, tuple(str(choice) for choice in choices))


def take_pending() -> dict[str, Any] | None:
    """Return and forget the payload of the last successful ``ReturnAnswer`` call, if any."""
    global _pending
    payload, _pending = _pending, None
    return payload


def ReturnAnswer(
    answer: str | int | float | bool,
    measurements: Sequence[Measurement] = (),
    objects: Sequence[Object3D] = (),
    trajectories: Sequence[Trajectory] = (),
) -> str:
    """End the query with ``answer`` and the geometry that supports it.

    The answer must match the query's ``meta.answer_type`` (``"number"``: a finite number;
    ``"boolean"``: ``True``/``False``; ``"choice"``: one of ``meta.choices``). Raises ``AnswerError``
    with the reason when anything is invalid; then fix it and call again. Returns the answer text.
    """
    global _pending
    for name, items, kind in (
        ("measurements", measurements, Measurement),
        ("objects", objects, Object3D),
        ("trajectories", trajectories, Trajectory),
    ):
        if isinstance(items, (kind, str, bytes, Mapping)):
            single = type(items).__name__
            raise AnswerError(f"{name} must be a list of {kind.__name__}, got a single {single}")
        for item in items:
            if not isinstance(item, kind):
                raise AnswerError(f"{name} must hold {kind.__name__} values, got {type(item).__name__}")
    answer_type, choices = _expected
    payload = validate_payload(
        {
            "answer": _plain_scalar(answer),
            "measurements": [item.payload for item in measurements],
            "objects": [item.payload for item in objects],
            "trajectories": [item.payload for item in trajectories],
        },
        answer_type,
        choices,
    )
    _pending = payload
    print(f"ReturnAnswer accepted: {payload['answer']!r}")
    return payload["answer"]


def validate_payload(payload: Mapping[str, Any], answer_type: str, choices: Sequence[str]) -> dict[str, Any]:
    """Check a whole answer payload and return its normal form.

    The normal form: ``answer`` is the text (numbers in decimal, booleans ``"true"``/``"false"``,
    a choice verbatim), ``value`` the typed answer, and lists of measurement/object/trajectory dicts
    in SI units with unique ids.

    Raises:
        AnswerError: anything is missing, of the wrong type, not finite, or does not match
            ``answer_type``/``choices``.
    """
    if not isinstance(payload, Mapping):
        raise AnswerError(f"an answer payload must be a mapping, got {type(payload).__name__}")
    if "answer" not in payload:
        raise AnswerError("the answer payload has no 'answer'")
    text, value = normalize_answer(payload["answer"], answer_type, choices)
    measurements = _list(payload.get("measurements", ()), "measurements", MAX_MEASUREMENTS)
    objects = _list(payload.get("objects", ()), "objects", MAX_OBJECTS)
    trajectories = _list(payload.get("trajectories", ()), "trajectories", MAX_TRAJECTORIES)
    checked_objects = _with_unique_ids([object_payload(item) for item in objects], "objects")
    checked_trajectories = _with_unique_ids(
        [trajectory_payload(item) for item in trajectories], "trajectories"
    )
    return {
        "answer": text,
        "value": value,
        "measurements": [measurement_payload(item) for item in measurements],
        "objects": checked_objects,
        "trajectories": checked_trajectories,
    }


def normalize_answer(answer: Any, answer_type: str, choices: Sequence[str]) -> tuple[str, Any]:
    """Check ``answer`` against ``answer_type``/``choices``; return ``(text, typed value)``."""
    if answer_type not in ANSWER_TYPES:
        raise AnswerError(f"unknown answer_type {answer_type!r}; expected one of {ANSWER_TYPES}")
    answer = _plain_scalar(answer)
    if not isinstance(answer, (str, int, float, bool)):
        raise AnswerError(f"answer must be str, int, float or bool, got {type(answer).__name__}")
    if answer_type == "number":
        return _number_answer(answer)
    if answer_type == "boolean":
        return _boolean_answer(answer)
    if answer_type == "choice":
        return _choice_answer(answer, choices)
    if isinstance(answer, float) and not math.isfinite(answer):
        raise AnswerError(f"answer is {answer}: give a finite number or a text")
    text = _answer_text(answer).strip()
    if not text:
        raise AnswerError("answer is empty")
    if len(text) > MAX_TEXT_CHARS:
        raise AnswerError(f"answer has {len(text)} characters; keep it under {MAX_TEXT_CHARS}")
    return text, answer


def measurement_payload(raw: Mapping[str, Any]) -> dict[str, Any]:
    """Check one measurement (as a mapping) and return it in SI units."""
    raw = _mapping(raw, "measurement")
    name = _label(raw.get("name"), "Measurement name")
    kind = raw.get("type", "distance")
    if kind not in MEASUREMENT_TYPES:
        raise AnswerError(f"Measurement {name!r}: type {kind!r} is not one of {', '.join(MEASUREMENT_TYPES)}")
    value = _finite(raw.get("value"), f"Measurement {name!r} value")
    unit = raw.get("unit", "m")
    if not isinstance(unit, str):
        raise AnswerError(f"Measurement {name!r}: unit must be a string, got {type(unit).__name__}")
    stddev_raw = raw.get("stddev")
    stddev = float("nan") if stddev_raw is None else _number(stddev_raw, f"Measurement {name!r} stddev")
    if kind == "other":
        if not unit.strip():
            raise AnswerError(f"Measurement {name!r}: type 'other' needs a unit that says what the value is")
        si_unit, factor = unit.strip(), 1.0
    else:
        si_unit, spellings = UNITS[kind]
        factor_or_none = spellings.get(unit.strip())
        if factor_or_none is None:
            raise AnswerError(
                f"Measurement {name!r}: unit {unit!r} does not fit type {kind!r}; "
                f"use one of {sorted(spellings)} (reported in {si_unit!r})"
            )
        factor = factor_or_none
    value *= factor
    stddev *= factor
    if kind == "count" and (value < 0 or value != round(value)):
        raise AnswerError(f"Measurement {name!r}: a count must be a non-negative whole number, got {value}")
    if kind in ("distance", "size", "height", "area", "volume", "speed") and value < 0:
        raise AnswerError(f"Measurement {name!r}: a {kind} cannot be negative, got {value}")
    if not math.isnan(stddev) and (not math.isfinite(stddev) or stddev < 0):
        raise AnswerError(f"Measurement {name!r}: stddev must be >= 0 or NaN, got {stddev}")
    return {
        "name": name,
        "type": kind,
        "value": value,
        "unit": si_unit,
        "stddev": None if math.isnan(stddev) else stddev,
        "subjects": _labels(raw.get("subjects", ()), f"Measurement {name!r} subjects"),
        "points": _points(raw.get("points", ()), f"Measurement {name!r} points"),
    }


def object_payload(raw: Mapping[str, Any]) -> dict[str, Any]:
    """Check one object (as a mapping, orientation as a quaternion xyzw) and return its normal form."""
    raw = _mapping(raw, "object")
    label = _label(raw.get("label"), "Object3D label")
    where = f"Object3D {label!r}"
    center = _vector(raw.get("center"), 3, f"{where} center")
    size = _vector(raw.get("size", (0.0, 0.0, 0.0)), 3, f"{where} size")
    if min(size) < 0:
        raise AnswerError(f"{where}: size must be >= 0 on every axis, got {size}")
    orientation = _vector(raw.get("orientation_xyzw", (0.0, 0.0, 0.0, 1.0)), 4, f"{where} orientation")
    norm = math.sqrt(sum(c * c for c in orientation))
    if abs(norm - 1.0) > 1e-2:
        raise AnswerError(f"{where}: the rotation quaternion (x, y, z, w) must have norm 1, got {norm:.4f}")
    score = _finite(raw.get("score", 1.0), f"{where} score")
    if not 0.0 <= score <= 1.0:
        raise AnswerError(f"{where}: score must be in [0, 1], got {score}")
    return {
        "id": _optional_id(raw.get("id"), where),
        "label": label,
        "center": center,
        "size": size,
        "orientation_xyzw": [c / norm for c in orientation],
        "score": score,
    }


def trajectory_payload(raw: Mapping[str, Any]) -> dict[str, Any]:
    """Check one trajectory (as a mapping) and return its normal form."""
    raw = _mapping(raw, "trajectory")
    label = _label(raw.get("label"), "Trajectory label")
    where = f"Trajectory {label!r}"
    stamps = _array(raw.get("stamps"), f"{where} stamps")
    positions = _array(raw.get("positions"), f"{where} positions")
    if stamps.ndim != 1 or stamps.size == 0:
        raise AnswerError(f"{where}: stamps must be a non-empty 1-D list of seconds, got {stamps.shape}")
    if positions.shape != (stamps.size, 3):
        raise AnswerError(f"{where}: positions must be N×3 (N = {stamps.size} stamps), got {positions.shape}")
    if stamps.size > MAX_POINTS:
        raise AnswerError(f"{where}: at most {MAX_POINTS} positions, got {stamps.size}")
    if not (np.isfinite(stamps).all() and np.isfinite(positions).all()):
        raise AnswerError(f"{where}: stamps and positions must be finite numbers (no NaN or inf)")
    if stamps.size > 1 and not (np.diff(stamps) > 0).all():
        raise AnswerError(f"{where}: stamps must be strictly increasing (sort by time, drop duplicates)")
    return {
        "id": _optional_id(raw.get("id"), where),
        "label": label,
        "stamps": stamps.tolist(),
        "positions": positions.tolist(),
    }


def _number_answer(answer: str | int | float | bool) -> tuple[str, Any]:
    if isinstance(answer, bool):
        raise AnswerError("answer_type is 'number': give a number, not a bool")
    if isinstance(answer, str):
        try:
            answer = float(answer.strip())
        except ValueError:
            raise AnswerError(f"answer_type is 'number': {answer!r} is not a number") from None
    if isinstance(answer, float) and not math.isfinite(answer):
        raise AnswerError(f"answer_type is 'number': {answer} is not finite")
    return _answer_text(answer), answer


def _boolean_answer(answer: str | int | float | bool) -> tuple[str, Any]:
    if isinstance(answer, str):
        word = answer.strip().lower()
        if word in ("true", "yes"):
            answer = True
        elif word in ("false", "no"):
            answer = False
    if not isinstance(answer, bool):
        raise AnswerError(f"answer_type is 'boolean': give True or False, got {answer!r}")
    return ("true" if answer else "false"), answer


def _choice_answer(answer: str | int | float | bool, choices: Sequence[str]) -> tuple[str, Any]:
    text = _answer_text(answer).strip()
    for choice in choices:
        if text == choice:
            return choice, choice
    folded = " ".join(text.split()).casefold()
    for choice in choices:
        if folded == " ".join(choice.split()).casefold():
            return choice, choice
    raise AnswerError(f"answer_type is 'choice': {text!r} is not one of {list(choices)}")


def _answer_text(answer: str | int | float | bool) -> str:
    if isinstance(answer, bool):
        return "true" if answer else "false"
    if isinstance(answer, float):
        return repr(answer)
    return str(answer)


def _plain_scalar(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray) and value.shape == ():
        return value.item()
    return value


def _mapping(raw: Any, what: str) -> Mapping[str, Any]:
    if not isinstance(raw, Mapping):
        raise AnswerError(f"a {what} must be a mapping, got {type(raw).__name__}")
    return raw


def _list(items: Any, name: str, limit: int) -> list[Any]:
    if isinstance(items, (str, bytes, Mapping)) or not isinstance(items, Sequence):
        raise AnswerError(f"{name} must be a list, got {type(items).__name__}")
    if len(items) > limit:
        raise AnswerError(f"at most {limit} {name}, got {len(items)}")
    return list(items)


def _label(value: Any, what: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise AnswerError(f"{what} must be a non-empty string, got {value!r}")
    if len(value) > 200:
        raise AnswerError(f"{what} is {len(value)} characters long; keep it under 200")
    return value.strip()


def _labels(values: Any, what: str) -> list[str]:
    if isinstance(values, str):
        raise AnswerError(f"{what} must be a list of strings, e.g. ('red chair', 'door'), not one string")
    if not isinstance(values, (Sequence, np.ndarray)):
        raise AnswerError(f"{what} must be a list of strings, got {type(values).__name__}")
    return [_label(value, what) for value in values]


def _optional_id(value: Any, where: str) -> str | None:
    return None if value is None else _label(value, f"{where} id")


def _number(value: Any, what: str) -> float:
    value = _plain_scalar(value)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise AnswerError(f"{what} must be a number, got {type(value).__name__}")
    return float(value)


def _finite(value: Any, what: str) -> float:
    number = _number(value, what)
    if not math.isfinite(number):
        raise AnswerError(f"{what} must be finite, got {number}")
    return number


def _array(value: Any, what: str) -> np.ndarray:
    if value is None or isinstance(value, (str, bytes)):
        raise AnswerError(f"{what} must be numbers, got {type(value).__name__}")
    try:
        array = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise AnswerError(f"{what} must be numbers, got {type(value).__name__}") from None
    return array


def _vector(value: Any, length: int, what: str) -> list[float]:
    array = _array(value, what)
    if array.shape != (length,):
        raise AnswerError(f"{what} must have {length} numbers, got shape {array.shape}")
    if not np.isfinite(array).all():
        raise AnswerError(f"{what} must be finite numbers, got {array.tolist()}")
    return array.tolist()


def _points(value: Any, what: str) -> list[list[float]]:
    array = _array(value, what)
    if array.size == 0:
        return []
    if array.ndim == 1 and array.shape == (3,):
        array = array[None, :]
    if array.ndim != 2 or array.shape[1] != 3:
        raise AnswerError(f"{what} must be N×3 metres, got shape {array.shape}")
    if array.shape[0] > MAX_POINTS:
        raise AnswerError(f"{what}: at most {MAX_POINTS} points, got {array.shape[0]}")
    if not np.isfinite(array).all():
        raise AnswerError(f"{what} must be finite numbers (no NaN or inf)")
    return array.tolist()


def _quaternion_xyzw(rotation: Any) -> list[float]:
    if rotation is None:
        return [0.0, 0.0, 0.0, 1.0]
    array = _array(rotation, "Object3D rotation")
    if array.shape == (4,):
        return array.tolist()
    if array.shape != (3, 3):
        raise AnswerError(f"Object3D rotation must be a 3×3 matrix or a quaternion xyzw, got {array.shape}")
    if not np.isfinite(array).all():
        raise AnswerError("Object3D rotation must be finite numbers")
    if not np.allclose(array @ array.T, np.eye(3), atol=1e-3) or np.linalg.det(array) <= 0:
        raise AnswerError("Object3D rotation is not a rotation matrix (R @ R.T must be I and det(R) = +1)")
    U, _, Vt = np.linalg.svd(array)  # the nearest exact rotation: accepted matrices may be 1e-3 off
    return matrix_to_quat(U @ Vt).tolist()


def _with_unique_ids(items: list[dict[str, Any]], what: str) -> list[dict[str, Any]]:
    taken = {item["id"] for item in items if item["id"] is not None}
    seen: set[str] = set()
    for item in items:
        if item["id"] is not None:
            if item["id"] in seen:
                raise AnswerError(f"{what}: id {item['id']!r} is used twice; ids must be unique")
            seen.add(item["id"])
    counters: dict[str, int] = {}
    for item in items:
        if item["id"] is None:
            stem = "_".join(item["label"].split()) or "item"
            k = counters.get(stem, 0)
            while f"{stem}_{k}" in taken:
                k += 1
            item["id"] = f"{stem}_{k}"
            taken.add(item["id"])
            counters[stem] = k + 1
    return items
