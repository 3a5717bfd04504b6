"""The state owner (lstm_viz/ui/state.py, ui/place.py): links that restore a page, bad links that
open the nearest valid one, moves that keep every control in step, and no other module writing
session state."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from conftest import LINK_PAGES, chart, diagram_svg, markdown, place, run
from hypothesis import given, settings
from hypothesis import strategies as st

from lstm_viz.ui.place import (
    INPUTS,
    LINK_TEXT,
    VIEWS,
    ClampSpec,
    Place,
    from_link,
    link_params,
    parse_clamp,
)
from lstm_viz.ui.state import go_to

ROOT = Path(__file__).resolve().parents[1]

# ---- the link, as plain data --------------------------------------------------------------------

clamps = st.builds(
    ClampSpec,
    name=st.sampled_from(["forget", "input", "candidate", "cell", "hidden", "update"]),
    value=st.sampled_from([0.0, 1.0, -0.5, 0.25, 3.0]),
    layer=st.integers(0, 3),
    units=st.none()
    | st.lists(st.integers(0, 99), min_size=1, max_size=4, unique=True).map(
        lambda u: tuple(sorted(u))
    ),
    start=st.integers(0, 50),
    stop=st.integers(51, 200),
    direction=st.none() | st.integers(0, 1),
)
places = st.builds(
    Place,
    model=st.sampled_from(["cue_lstm", "chars_lstm", "demo_untrained_lstm", "upload"]),
    input=st.sampled_from(INPUTS),
    example=st.sampled_from(["", "martha-she-seed", "quotes"]),
    text=st.none() | st.text(max_size=40),
    length=st.integers(1, 5000),
    seed=st.integers(0, 2**31 - 1),
    noise=st.sampled_from([0.0, 0.1, 0.55, 2.0]),
    view=st.sampled_from(list(VIEWS)),
    step=st.integers(0, 4999),
    layer=st.integers(0, 3),
    direction=st.integers(0, 1),
    unit=st.none() | st.integers(0, 500),
    pinned=st.lists(st.integers(0, 99), max_size=4, unique=True).map(tuple),
    stop=st.integers(0, 8),
    clamps=st.lists(clamps, max_size=3).map(tuple),
)


def _travels(p: Place) -> Place:
    """What of a place a link carries: the input's own fields, and every position."""
    kept = Place(**{k: getattr(p, k) for k in ("model", "input", "view", "step", "layer")})
    kept.direction, kept.unit, kept.pinned, kept.clamps = p.direction, p.unit, p.pinned, p.clamps
    kept.stop = p.stop
    if p.input == "example":
        kept.example = p.example
    if p.input == "text":
        kept.text = p.text
    if p.input == "generated":
        kept.length, kept.seed, kept.noise = p.length, p.seed, p.noise
    return kept


@settings(max_examples=200, derandomize=True, deadline=None)
@given(places)
def test_a_link_round_trips_every_field_it_carries(p):
    back, notes = from_link(link_params(p))
    assert not notes
    assert back == _travels(p)


def test_bad_and_old_links_open_the_nearest_valid_place_with_a_note():
    p, notes = from_link({"length": "²", "step": "abc", "view": "nope", "model": "../../x"})
    assert p == Place() and len(notes) == 1
    for word in ("length", "step", "view", "model"):
        assert word in notes[0]
    # today's parameters keep their meaning; a view's title works as well as its id
    p, notes = from_link({"model": "cue_gru", "input": "generated", "length": "99", "seed": "3"})
    assert (p.model, p.input, p.length, p.seed, notes) == ("cue_gru", "generated", 99, 3, [])
    assert from_link({"view": "Find a cell"})[0].view == "find"
    long = "a" * (LINK_TEXT + 1)
    p, notes = from_link({"input": "text", "text": long})
    assert p.text is None and "left out" in notes[0]


@pytest.mark.parametrize(
    "text", ["forget", "forget:3-1:0", "forget:1-2:nan", "forget:1-2:1e39", "x:1-2:0:q5"]
)
def test_bad_clamps_in_a_link_are_refused(text):
    with pytest.raises(ValueError):
        parse_clamp(text)
    assert from_link({"clamp": text})[0].clamps == ()


def test_go_to_names_only_place_fields():
    with pytest.raises(ValueError, match="unknown field"):
        go_to(stpe=3)


# ---- one owner ----------------------------------------------------------------------------------

WRITES = re.compile(
    r"session_state(\[[^\]]+\]\s*=(?!=)|\.(setdefault|update|pop|clear|__setitem__)\(|\.\w+\s*=(?!=))"
    r"|del\s+st\.session_state|\bss\[[^\]]+\]\s*=(?!=)"
)


def test_nothing_outside_the_state_module_writes_session_state():
    files = [ROOT / "app.py", *sorted((ROOT / "lstm_viz").rglob("*.py"))]
    owners = {ROOT / "lstm_viz" / "ui" / "state.py"}
    found = [
        f"{path.relative_to(ROOT)}:{k}: {line.strip()}"
        for path in files
        if path not in owners
        for k, line in enumerate(path.read_text().splitlines(), 1)
        if WRITES.search(line)
    ]
    assert not found, found
    assert WRITES.search('st.session_state["lv_step"] = 3')  # the pattern does catch a write
    assert WRITES.search("st.session_state.pop('x', None)")


# ---- links restore the page (AppTest; the real browser does the same in test_browser_state) -----


@pytest.mark.parametrize("view", list(LINK_PAGES))
def test_a_page_and_the_page_its_link_opens_are_the_same(app, view):
    at = app(view=view, **LINK_PAGES[view])
    link = dict(at.query_params)
    assert link["view"] == view
    again = app(**link)
    assert place(again) == place(at)
    assert markdown(again) == markdown(at)
    assert [m.value for m in again.metric] == [m.value for m in at.metric]
    assert not again.error and not at.error


def test_a_link_restores_step_unit_pins_and_values_on_the_gates_view(app):
    at = app(**LINK_PAGES["gates"], pin="3,7")
    here = place(at)
    assert (here.step, here.unit, here.pinned) == (6, 3, (3, 7))
    assert at.slider(key="lv_step").value == 6 and at.selectbox(key="lv_unit").value == 3
    assert "unit 3, step 6" in diagram_svg(at)
    assert chart(at, "lv_heatmaps")["data"][0]["y"][:2] in (["3", "7"], [3, 7])


def test_a_link_with_values_out_of_this_models_range_opens_with_a_note(app):
    at = app(model="cue_lstm", step="4000", unit="999", layer="7", ex="nope", input="example")
    here = place(at)
    assert (here.step, here.unit, here.layer) == (14, 0, 0)
    shown = " ".join(i.value for i in at.info)
    assert "step 4000" in shown and "unit 999" in shown and "nope" in shown


def test_the_address_follows_every_move(app):
    at = app(model="cue_lstm")
    for _ in range(3):
        at.button(key="lv_next").click()
        run(at)
    assert at.query_params["step"] == ["3"] or at.query_params["step"] == "3"
    at.selectbox(key="lv_unit").set_value(5)
    run(at)
    assert str(dict(at.query_params)["unit"]).strip("[]'") == "5"
    at.segmented_control(key="lv_view").set_value("Memory")
    run(at)
    assert dict(at.query_params)["view"] == "memory" and place(at).step == 3


def test_no_model_math_in_the_ui_and_every_figure_in_figures():
    ui = sorted((ROOT / "lstm_viz" / "ui").glob("*.py"))
    for path in ui:
        text = path.read_text()
        assert "softmax" not in text and "np.exp(" not in text, path
    assert not list((ROOT / "lstm_viz").glob("figures*.py"))
    assert not (ROOT / "lstm_viz" / "svg.py").exists()
    assert not (ROOT / "lstm_viz" / "diagram.py").exists()
