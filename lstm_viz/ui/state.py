"""The one owner of "where the user is": a `Place`, the session-state keys, and the link.

Every view *reads* the place (`place()`) and *asks* to move with `go_to(...)`; nothing outside
this module writes `st.session_state`. The rules that keep every control in step:

- The place lives in session state under `PLACE`. A widget that shows part of it is drawn with
  `**bind(field)`: its key is set from the place just before it is drawn, and only when the two
  differ, so a value the browser has just sent is never written back over a newer one (holding an
  arrow key on a slider sends many).
- At the start of every run (and fragment run) `place()` adopts what the user changed in a bound
  widget since it was last drawn; a widget the current view does not draw loses its key at the
  end of the run, but the place keeps the value, so no step or pin is lost across views.
- `go_to` changes the place only. It is safe anywhere before the fields' widgets are drawn (an
  `on_click` callback runs before the script); after that, pass `rerun=True`.
- The address bar always shows the place (`write_link`), and a fresh session opens the place its
  link names (`from_link`): a bad or old value is replaced by the nearest valid one, with a note.
"""

from __future__ import annotations

import dataclasses
import math
import numbers

import streamlit as st

from lstm_viz.ui.place import (
    NOISE_DEFAULT,
    NOISE_RANGE,
    TITLE_TO_VIEW,
    VIEWS,
    Place,
    from_link,
    link_params,
)

PLACE = "lv_place"  # the Place
SYNCED = "lv_synced"  # widget key -> the value last written to or read from it
NOTES = "lv_notes"  # what a link asked for and could not get, shown once
PENDING = "lv_pending"  # view-local widget values asked for by go_to(widgets=...)
LOCKED = "lv_locked"  # fields the page's widgets may not move (a page following a room)
FRESH = "lv_fresh"  # set on a session's first run: its place came from the link
STASH = "lv_stash"  # per-session objects views keep (trained models, prepared exports)

# field -> widget key of the control that shows it (the keys tests and the browser address)
WIDGETS = {
    "model": "lv_model",
    "input": "lv_input_kind",
    "example": "lv_example",
    "text": "lv_text",
    "length": "lv_gen_length",
    "seed": "lv_gen_seed",
    "noise": "lv_gen_noise",
    "columns": "lv_csv_columns",
    "view": "lv_view",
    "step": "lv_step",
    "layer": "lv_layer",
    "direction": "lv_direction",
    "unit": "lv_unit",
    "pinned": "lv_pinned",
    "present": "lv_present",
}
SOURCE_FIELDS = ("model", "input", "example", "text", "length", "seed", "noise", "columns")


# ---------------------------------------------------------------------------- reading the place


def place() -> Place:
    """The current place, after adopting what the user changed in any bound widget."""
    ss = st.session_state
    if not isinstance(ss.get(PLACE), Place):
        here, notes = from_link(dict(st.query_params))
        ss[PLACE], ss[NOTES], ss[FRESH] = here, notes, True
    here, synced = ss[PLACE], ss.setdefault(SYNCED, {})
    for key, value in ss.get(PENDING, {}).items():  # view-local widgets a go_to asked for
        ss[key] = value
    ss.pop(PENDING, None)
    changed, locked = {}, ss.get(LOCKED, ())
    for name, key in WIDGETS.items():
        if name in locked and key in ss:  # moved only by go_to now (a followed room)
            synced[key] = ss[key]
            continue
        if key in ss and (key not in synced or ss[key] != synced[key]):
            value = _widget_to_field(name, ss[key])
            synced[key] = ss[key]
            if value is not None and value != getattr(here, name):
                changed[name] = value
    if changed:
        _apply(here, changed)
    return here


def is_fresh() -> bool:
    """True on a session's first run (its place came from the link); False afterwards."""
    place()
    return bool(st.session_state.pop(FRESH, False))


def lock(fields) -> None:
    """Let only go_to move these fields (widgets showing them are then read-only in effect)."""
    st.session_state[LOCKED] = tuple(fields)


def notes() -> list[str]:
    """What the link (or a changed input) asked for and could not get; cleared once read."""
    return st.session_state.pop(NOTES, None) or []


def note(text: str) -> None:
    st.session_state.setdefault(NOTES, []).append(text)


def _widget_to_field(name: str, value):
    """A widget's value as the place holds it, or None when it is not usable (crafted)."""
    if name == "view":
        return TITLE_TO_VIEW.get(value, value if value in VIEWS else None)
    if name == "present":
        return bool(value) if isinstance(value, bool) else None
    if name in ("step", "layer", "direction", "length", "seed", "unit"):
        return _whole(value)
    if name == "noise":
        ok = isinstance(value, numbers.Real) and math.isfinite(value)
        return float(value) if ok and NOISE_RANGE[0] <= value <= NOISE_RANGE[1] else NOISE_DEFAULT
    if name in ("pinned", "columns"):
        if not isinstance(value, (list, tuple)):
            return ()
        items = [_whole(v) for v in value] if name == "pinned" else [str(v) for v in value]
        return tuple(v for v in items if v is not None)
    return value if isinstance(value, str) else None


def _whole(value) -> int | None:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        return None
    if not math.isfinite(value) or abs(value) > 2**62:
        return None
    return int(value)


# ---------------------------------------------------------------------------------- moving


def go_to(rerun: bool = False, widgets: dict | None = None, **changes) -> None:
    """Move the place: e.g. go_to(view="gates", step=6, unit=3). Changing the model or input
    drops the clamps (they belong to one trace). `widgets` presets view-local widgets (their
    own keys) on the next run. Use in an on_click callback, or before the fields' widgets are
    drawn; otherwise pass rerun=True."""
    unknown = set(changes) - {f.name for f in dataclasses.fields(Place)}
    if unknown:
        raise ValueError(f"go_to: unknown field(s) {sorted(unknown)}")
    _apply(place(), changes)
    if widgets:
        st.session_state.setdefault(PENDING, {}).update({k: v for k, v in widgets.items()})
    if rerun:
        st.rerun()


def _apply(here: Place, changes: dict) -> None:
    if "view" in changes and changes["view"] not in VIEWS:
        raise ValueError(f"no view {changes['view']!r}; choose one of {list(VIEWS)}")
    source_moved = any(k in SOURCE_FIELDS and v != getattr(here, k) for k, v in changes.items())
    for name, value in changes.items():
        if name == "pinned" or name == "columns":
            value = tuple(value)
        if name == "clamps":
            value = tuple(value)
        setattr(here, name, value)
    if source_moved and "clamps" not in changes:
        here.clamps = ()


def settle(**changes) -> None:
    """Correct the place to what this model and input allow (an example's slug to its name, a
    default filled in), with none of go_to's side effects."""
    here = place()
    for name, value in changes.items():
        setattr(here, name, tuple(value) if name in ("pinned", "columns") else value)


def bind(name: str, options: list | None = None, default=None, resend: bool = False) -> dict:
    """Keyword arguments for the widget that shows `name`: its key, set from the place when
    the two differ. With `options`, a place value not among them becomes the first option;
    `default` is shown while the place holds None or nothing (typed text, CSV columns).

    resend: set it on every run, for a widget in a popover. The browser builds a popover's
    widgets when it is first opened, from the latest run's element, which carries the value only
    if that run set it: after one more whole run, a presenter's "Presenter mode" showed off."""
    ss, here = st.session_state, place()
    key = WIDGETS[name]
    value = getattr(here, name)
    if default is not None and value in (None, ()):
        shown = list(default) if name == "columns" else default
        if ss.get(key, _MISSING) != shown:
            ss[key] = shown
        ss.setdefault(SYNCED, {})[key] = shown
        return {"key": key}
    if options is not None:
        allowed = [TITLE_TO_VIEW.get(o, o) for o in options] if name == "view" else list(options)
        if name == "pinned":
            value = tuple(v for v in value if v in allowed)
        elif name == "columns":
            value = tuple(v for v in value if v in allowed)
        elif value not in allowed and allowed:
            value = allowed[0]
        setattr(here, name, value)
    shown = (
        VIEWS[value] if name == "view" else list(value) if name in ("pinned", "columns") else value
    )
    if resend or ss.get(key, _MISSING) != shown:
        ss[key] = shown
    ss.setdefault(SYNCED, {})[key] = shown
    return {"key": key}


_MISSING = object()


def fit(steps: int, units: int, layers: int, directions: int, from_link: bool = False) -> Place:
    """Bring step, layer, direction, unit, pins and clamps into this trace's range."""
    here = place()
    fixed = []
    step = min(max(here.step, 0), steps - 1)
    if step != here.step:
        fixed.append(f"step {here.step} (the input has steps 0..{steps - 1})")
    here.step = step
    if not 0 <= here.layer < layers:
        fixed.append(f"layer {here.layer} (the model has {layers})")
        here.layer = 0
    if not 0 <= here.direction < directions:
        fixed.append(f"direction {here.direction}")
        here.direction = 0
    if here.unit is not None and not 0 <= here.unit < units:
        fixed.append(f"unit {here.unit} (the model has units 0..{units - 1})")
        here.unit = None
    pinned = tuple(u for u in dict.fromkeys(here.pinned) if 0 <= u < units)
    if pinned != here.pinned:
        here.pinned = pinned
    clamps = tuple(
        c for c in here.clamps
        if 0 <= c.start < c.stop <= steps and c.layer < layers
        and all(0 <= u < units for u in c.units or ())
        and (c.direction is None or c.direction < directions)
    )  # fmt: skip
    if clamps != here.clamps:
        fixed.append("clamps outside this input or model")
        here.clamps = clamps
    if from_link and fixed:
        note("Ignored from the link: " + "; ".join(fixed) + ".")
    return here


# ---------------------------------------------------------------------- per-session storage


def stash(key: str, value) -> None:
    """Keep a per-session object (a model trained here, a prepared export) under `key`."""
    st.session_state.setdefault(STASH, {})[key] = value


def stashed(key: str, default=None):
    return st.session_state.get(STASH, {}).get(key, default)


def unstash(key: str) -> None:
    st.session_state.get(STASH, {}).pop(key, None)


def keep_in_range(key: str, lo: float, hi: float, clamp: bool = True) -> None:
    """Bring a view-local widget's stored number into lo..hi before it is drawn (Streamlit
    raises on a value outside its widget's range; one can come from a longer input or a crafted
    client). Non-numbers, and out-of-range values when clamp=False, are dropped."""
    ss = st.session_state
    if key not in ss:
        return
    value = ss[key]
    ok = isinstance(value, numbers.Real) and not isinstance(value, bool) and math.isfinite(value)
    whole = isinstance(lo, int)
    if ok and lo <= value <= hi and (isinstance(value, numbers.Integral) or not whole):
        return
    if not ok or not clamp or hi < lo:
        del ss[key]
        return
    fixed = min(max(value, lo), hi)
    ss[key] = int(fixed) if whole else float(fixed)


def keep_choice(key: str, options: list) -> None:
    """Forget a view-local widget's stored choice that is not among `options` any more."""
    ss = st.session_state
    if key not in ss:
        return
    value = ss[key]
    if isinstance(value, (list, tuple)):
        kept = [v for v in value if v in options]
        if len(kept) != len(value):
            ss[key] = kept
    elif value not in options:
        del ss[key]


def widget_value(key: str, default=None):
    """A view-local widget's value (its default when it is not drawn yet)."""
    return st.session_state.get(key, default)


def set_widget(key: str, value) -> None:
    """Set a view-local widget before it is drawn in this run (only when it differs: writing a
    drawn widget's key sends the value back to the browser, over any newer one it holds)."""
    if st.session_state.get(key, _MISSING) != value:
        st.session_state[key] = value


# ---------------------------------------------------------------------------------- links


def write_link() -> None:
    """Make the address bar show the current place (only when it changed: each write is a
    message to the browser)."""
    wanted = link_params(place())
    if dict(st.query_params) != wanted:
        st.query_params.from_dict(wanted)


def page_url(params: dict | None = None) -> str:
    """The address that opens this page in a fresh browser (the server's address + the link),
    or the page `params` names."""
    from urllib.parse import urlencode, urlsplit

    base = urlsplit(st.context.url or "http://localhost:8501/")
    query = link_params(place()) if params is None else params
    return f"{base.scheme}://{base.netloc}{base.path or '/'}?" + urlencode(query)


def link_ui() -> None:
    """The "Copy link to this page" control: the address that restores this model, input,
    view, step, unit, lesson stop and clamps (st.code has a copy button)."""
    with st.popover("Copy link to this page", icon=":material/link:"):
        st.code(page_url(), language=None, wrap_lines=True)
        st.caption("Anyone who opens it sees this page: same model, input, view, step and unit.")
