"""The page's HTML names Plotly's script (`lstm_viz/ui/preload.py`), and nothing else changes:
the middleware is driven here as the server drives it (ASGI messages), with a stand-in app; the
browser side (the script fetched once, through the link) is checked in tests/test_browser.py."""

from __future__ import annotations

import asyncio
from pathlib import Path

import streamlit

from lstm_viz.ui.preload import PreloadMiddleware, preload_links

PAGE = b"<!DOCTYPE html><html><head><title>lstm_viz</title></head><body><div id=root></div>"


def _stand_in(kind: bytes, body: bytes, status: int = 200, seen: list | None = None):
    """An ASGI app sending `body` in two pieces, as a server may; records the request headers."""

    async def app(scope, receive, send):
        if seen is not None:
            seen.append(dict(scope["headers"]))
        headers = [(b"content-type", kind), (b"content-length", str(len(body)).encode())]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        half = len(body) // 2
        await send({"type": "http.response.body", "body": body[:half], "more_body": True})
        await send({"type": "http.response.body", "body": body[half:]})

    return app


def _get(app, path: str = "/") -> tuple[int, dict, bytes]:
    scope = {"type": "http", "method": "GET", "path": path,
             "headers": [(b"accept-encoding", b"gzip, br"), (b"host", b"x")]}  # fmt: skip
    sent = []

    async def receive():
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message):
        sent.append(message)

    asyncio.run(PreloadMiddleware(app)(scope, receive, send))
    start = sent[0]
    body = b"".join(m.get("body", b"") for m in sent[1:])
    return start["status"], dict(start["headers"]), body


def test_the_link_names_this_streamlits_plotly_script():
    links = preload_links().decode()
    assert links.startswith('<link rel="modulepreload" crossorigin href="./static/js/PlotlyChart.')
    name = links.split("./static/js/")[1].split('"')[0]
    assert (Path(streamlit.__file__).parent / "static" / "static" / "js" / name).is_file()


def test_a_page_gets_the_link_at_the_top_of_its_head():
    seen: list = []
    status, headers, body = _get(_stand_in(b"text/html; charset=utf-8", PAGE, seen=seen))
    assert status == 200
    assert body == PAGE.replace(b"<head>", b"<head>" + preload_links(), 1)
    assert int(headers[b"content-length"]) == len(body)
    # asked uncompressed (the page is edited here; Streamlit's gzip runs inside this middleware)
    assert b"accept-encoding" not in seen[0] and seen[0][b"host"] == b"x"


def test_everything_else_passes_unchanged():
    js = b"export default 1;" * 100
    for app, path, body in [
        (_stand_in(b"application/javascript", js), "/static/js/x.js", js),  # not a page
        (_stand_in(b"text/html", PAGE), "/static/x.html", PAGE),  # a static file
        (_stand_in(b"application/json", b'{"a": 1}'), "/_stcore/host-config", b'{"a": 1}'),
        (_stand_in(b"text/html", PAGE, status=404), "/nowhere", PAGE),  # not a 200
    ]:
        status, headers, got = _get(app, path)
        assert got == body, path
        assert int(headers[b"content-length"]) == len(body), path
