"""Rooms without a server: a student's long wait wakes for the student's own click, and a room's
example (a slug in the link parameters) is the same example as the page's full name.

bench/classroom.py measures how fast a class follows; these check what it relies on.
"""

from __future__ import annotations

from lstm_viz.ui.classroom import _differs
from lstm_viz.ui.place import Place, from_link, link_params
from lstm_viz.ui.rooms import Rooms


def test_a_long_wait_asks_again_while_it_waits_and_stops_when_told():
    rooms = Rooms()
    room = rooms.open("host")
    asked = []

    def stop() -> bool:  # "no" at the start, "yes" on the next check (a click came)
        asked.append(1)
        return len(asked) >= 2

    got = rooms.wait(room.code, room.version, timeout=5, stop=stop)
    assert got is room and got.version == 0 and len(asked) == 2


def test_a_wait_returns_the_newer_version_and_none_once_the_room_ends():
    rooms = Rooms()
    room = rooms.open("host")
    rooms.publish(room.code, "someone else", {"step": "3"})  # not the host: ignored
    assert room.version == 0
    rooms.publish(room.code, "host", {"step": "3"})
    assert rooms.wait(room.code, 0, timeout=5).params == {"step": "3"}
    rooms.close(room.code, "host")
    assert rooms.wait(room.code, 1, timeout=5) is None


def test_the_room_example_slug_is_the_pages_example():
    page = Place(model="cue_lstm", input="example", example="Martha ... She (seed)", step=4)
    there, _ = from_link(link_params(page))  # what a room carries: link parameters
    assert there.example != page.example  # the link holds the slug, the page the full name
    assert not _differs("example", there, page)
    assert not _differs("step", there, page)
    other, _ = from_link({**link_params(page), "ex": "another-one", "step": "5"})
    assert _differs("example", other, page) and _differs("step", other, page)


def _draw_at_once(spec: dict, prepare, sessions: int = 8, draws: int = 12) -> list[str]:
    """Errors from `sessions` threads validating the same cached figure dict, as st.plotly_chart
    does, each through `prepare` first."""
    import threading

    import plotly.tools

    errors, start = [], threading.Barrier(sessions)

    def session() -> None:
        start.wait()
        for _ in range(draws):
            try:
                plotly.tools.return_figure_from_figure_or_data(prepare(spec), True)
            except ValueError as err:
                errors.append(str(err).splitlines()[0])

    threads = [threading.Thread(target=session) for _ in range(sessions)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return errors


def test_a_class_drawing_one_cached_heatmap_at_once_all_see_it():
    """A room's students join together and draw the same cached heatmap dict at once. Plotly's
    validation pops each trace's "type" and puts it back, so on the shared dict some students
    saw a scatter ("Invalid property ... 'coloraxis'") and stopped following; each draw's own
    copy of the trace dicts is safe, and leaves the cached dict as it was."""
    import numpy as np

    from lstm_viz import figures
    from lstm_viz.ui.common import own_copy

    rng = np.random.default_rng(0)
    maps = {n: rng.random((120, 16)) for n in ("forget", "input", "candidate", "output")}
    spec = figures.gate_heatmaps(maps, [str(t) for t in range(120)], list(range(16)), (0, 120))
    spec = spec.to_plotly_json()
    types = [trace["type"] for trace in spec["data"]]
    assert _draw_at_once(spec, own_copy) == []
    assert [trace["type"] for trace in spec["data"]] == types
    copy = own_copy(spec)
    copy["data"][0].pop("type")
    assert spec["data"][0]["type"] == types[0]
