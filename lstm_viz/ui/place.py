"""Where the user is, as plain data: the `Place` dataclass and its link (query string).

No Streamlit here: `ui/state.py` keeps a Place in the session; this module only says what a place
holds and how it reads and writes as `?model=cue_lstm&ex=martha-she&view=memory&step=9&unit=28`.
A link is user input: every value is checked, and what cannot be used is left out with a note.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import NamedTuple

from lstm_viz.limits import MAX_STATE_CLAMP, MAX_STEPS

VIEWS = {  # link id -> title, in the order the view picker shows them
    "gates": "Gates, step by step",
    "memory": "Memory",
    "intervene": "Intervene",
    "find": "Find a cell",
    "corpus": "Ask the corpus",
    "compare": "RNN vs GRU vs LSTM",
    "forecast": "Forecast",
    "lesson": "Lesson",
}
TITLE_TO_VIEW = {title: key for key, title in VIEWS.items()}
INPUTS = ("example", "text", "generated", "csv")
NOISE_RANGE, NOISE_DEFAULT = (0.0, 2.0), 0.1
MAX_SEED = 2**31 - 1
LINK_TEXT = 500  # typed text up to this many characters travels in a link
MAX_CLAMPS = 16  # clamps a link may carry
_NAME = re.compile(r"[A-Za-z0-9_.:-]{1,80}")
_INT = re.compile(r"-?[0-9]{1,10}")  # ASCII digits only: "²".isdigit() is True, int("²") fails


class ClampSpec(NamedTuple):
    """One clamp as plain values: `name` = `value` on `units` (None: all) of `layer` for steps
    start..stop-1, in `direction` (None: every direction)."""

    name: str
    value: float
    layer: int
    units: tuple[int, ...] | None
    start: int
    stop: int
    direction: int | None = None

    def clamp(self):
        """The engine's Clamp (raises its ValueError for a value the gate cannot take)."""
        from lstm_viz.interventions import Clamp

        return Clamp(
            self.name,
            float(self.value),
            layer=self.layer,
            units=self.units,
            steps=range(self.start, self.stop),
            direction=self.direction,
        )

    def describe(self) -> str:
        units = "every unit" if self.units is None else "units " + ", ".join(map(str, self.units))
        where = f"layer {self.layer}" + ("" if self.direction is None else f"/{self.direction}")
        return (
            f"{self.name} = {self.value:g} on {units} ({where}), "
            f"steps {self.start}..{self.stop - 1}"
        )


@dataclass
class Place:
    """Everything a link restores. Empty strings and None mean "the first / the default"."""

    model: str = ""  # shipped model name, the demo, or "upload"
    input: str = ""  # one of INPUTS
    example: str = ""  # the example's name (or its slug, from a link)
    text: str | None = None  # typed text or numbers (None: the model's default text)
    length: int = 200  # generated sequence: steps, seed and noise
    seed: int = 0
    noise: float = NOISE_DEFAULT
    columns: tuple[str, ...] = ()  # CSV columns picked (the file itself never travels)
    view: str = "gates"  # one of VIEWS
    step: int = 0
    layer: int = 0
    direction: int = 0
    unit: int | None = None  # the unit in the diagram and the memory view
    pinned: tuple[int, ...] = ()
    stop: int = 0  # lesson stop: 0 = the start page
    clamps: tuple[ClampSpec, ...] = ()  # applied interventions
    present: bool = False  # presenter mode: large type, the sidebar folded away
    room: str = ""  # the room this page follows (a student's link: ?room=ABCD)


def slug(name: str) -> str:
    """A short link-friendly form of an example's name: "Martha ... She" -> "martha-she"."""
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:40]


def example_named(names: list[str], wanted: str) -> str | None:
    """The example among `names` a place (or link) means, by name or slug."""
    if wanted in names:
        return wanted
    return next((n for n in names if slug(n) == slug(wanted)), None) if wanted else None


# ------------------------------------------------------------------------------- writing


def _clamp_text(c: ClampSpec) -> str:
    parts = [c.name, f"{c.start}-{c.stop - 1}", f"{c.value:g}"]
    if c.units is not None:
        parts.append("u" + ",".join(map(str, c.units)))
    if c.layer:
        parts.append(f"l{c.layer}")
    if c.direction is not None:
        parts.append(f"d{c.direction}")
    return ":".join(parts)


def link_params(p: Place) -> dict[str, str]:
    """The query parameters of a place: short, readable, defaults left out."""
    q: dict[str, str] = {}
    if p.model:
        q["model"] = p.model
    if p.input:
        q["input"] = p.input
    if p.input == "example" and p.example:
        q["ex"] = slug(p.example)
    if p.input == "text" and p.text is not None and len(p.text) <= LINK_TEXT:
        q["text"] = p.text
    if p.input == "generated":
        q["length"], q["seed"] = str(p.length), str(p.seed)
        if p.noise != NOISE_DEFAULT:
            q["noise"] = f"{p.noise:g}"
    if p.input == "csv" and p.columns:
        q["cols"] = ",".join(p.columns)
    q["view"] = p.view
    q["step"] = str(p.step)
    if p.layer:
        q["layer"] = str(p.layer)
    if p.direction:
        q["dir"] = str(p.direction)
    if p.unit is not None:
        q["unit"] = str(p.unit)
    if p.pinned:
        q["pin"] = ",".join(map(str, p.pinned))
    if p.view == "lesson" or p.stop:
        q["stop"] = str(p.stop)
    if p.clamps:
        q["clamp"] = ";".join(_clamp_text(c) for c in p.clamps)
    if p.present:
        q["present"] = "1"
    if p.room:
        q["room"] = p.room
    return q


# ------------------------------------------------------------------------------- reading


def _int(text: str, lo: int, hi: int) -> int | None:
    if not _INT.fullmatch(text):
        return None
    value = int(text)
    return value if lo <= value <= hi else None


def _float(text: str) -> float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def _ints(text: str, hi: int) -> tuple[int, ...] | None:
    parts = [_int(t, 0, hi) for t in text.split(",")[:64] if t]
    return None if any(v is None for v in parts) else tuple(parts)


def parse_clamp(text: str) -> ClampSpec:
    """One clamp from its link form, e.g. "forget:5-14:0:u3,7:l1:d0"; ValueError if unusable."""
    parts = text.split(":")
    if len(parts) < 3 or not re.fullmatch(r"[a-z]{1,12}", parts[0]):
        raise ValueError(text)
    span = re.fullmatch(r"([0-9]{1,5})-([0-9]{1,5})", parts[1])
    value = _float(parts[2])
    if span is None or value is None or abs(value) > MAX_STATE_CLAMP:
        raise ValueError(text)
    start, last = int(span[1]), int(span[2])
    units, layer, direction = None, 0, None
    for extra in parts[3:]:
        tag, rest = extra[:1], extra[1:]
        if tag == "u" and _ints(rest, 100_000):
            units = tuple(sorted(set(_ints(rest, 100_000))))
        elif tag == "l" and _int(rest, 0, 64) is not None:
            layer = _int(rest, 0, 64)
        elif tag == "d" and _int(rest, 0, 1) is not None:
            direction = _int(rest, 0, 1)
        else:
            raise ValueError(text)
    if last < start or last >= MAX_STEPS:
        raise ValueError(text)
    return ClampSpec(parts[0], value, layer, units, start, last + 1, direction)


def from_link(params: dict[str, str]) -> tuple[Place, list[str]]:
    """The place a link names, and notes on what it asked for and could not get."""
    p, bad = Place(), []

    def take(name: str, value, ok: bool, key: str = "") -> None:
        if ok:
            setattr(p, name, value)
        else:
            bad.append(key or name)

    get = {k: str(v)[:5000] for k, v in params.items()}
    if "model" in get:
        take("model", get["model"], bool(_NAME.fullmatch(get["model"])))
    if "input" in get:
        take("input", get["input"], get["input"] in INPUTS)
    if "ex" in get:
        take("example", get["ex"], 0 < len(get["ex"]) <= 80, "ex")
    if "text" in get and len(get["text"]) <= LINK_TEXT:
        p.text = get["text"]
    for name, hi in (("length", MAX_STEPS), ("seed", MAX_SEED)):
        if name in get:
            value = _int(get[name], 0, hi)
            take(name, max(value, 1) if name == "length" and value is not None else value,
                 value is not None)  # fmt: skip
    if "noise" in get:
        value = _float(get["noise"])
        take("noise", value, value is not None and NOISE_RANGE[0] <= value <= NOISE_RANGE[1])
    if "cols" in get:
        p.columns = tuple(c[:200] for c in get["cols"].split(",")[:64] if c)
    if "view" in get:
        view = TITLE_TO_VIEW.get(get["view"], get["view"])
        take("view", view, view in VIEWS)
    for name, key, hi in (
        ("step", "step", MAX_STEPS - 1), ("layer", "layer", 64), ("direction", "dir", 1),
        ("unit", "unit", 100_000), ("stop", "stop", 99),
    ):  # fmt: skip
        if key in get:
            value = _int(get[key], 0, hi)
            take(name, value, value is not None, key)
    if "pin" in get:
        pins = _ints(get["pin"], 100_000)
        take("pinned", pins, pins is not None, "pin")
    if "clamp" in get:
        clamps = []
        for text in get["clamp"].split(";")[:MAX_CLAMPS]:
            try:
                clamps.append(parse_clamp(text))
            except ValueError:
                bad.append(f"clamp {text[:40]!r}")
        p.clamps = tuple(clamps)
    if "present" in get:
        take("present", get["present"] in ("1", "true"), get["present"] in ("0", "1", "true"))
        if get["present"] in ("1", "true") and "view" not in get:
            p.view = "gates"  # presenter mode opens the gates view unless the link names another
    if "room" in get:
        take("room", get["room"].upper(), bool(re.fullmatch(r"[A-Za-z]{4}", get["room"])))
    notes = []
    if bad:
        shown = ", ".join(f"{b}={get[b][:20]!r}" if b in get else b for b in bad)
        notes.append(f"Ignored from the link: {shown} (not a valid value).")
    if "text" in get and len(get["text"]) > LINK_TEXT:
        notes.append(f"The link's text is longer than {LINK_TEXT} characters and was left out.")
    return p, notes
