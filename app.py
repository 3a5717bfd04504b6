"""lstm_viz in the browser: `streamlit run app.py`.

Streamlit runs this file as the page script on every run (`__name__ == "__main__"`); the page
itself is `lstm_viz/ui/page.py`. `streamlit run` first imports it to look for an `st.App`: that
serves the same page, and that import starts a background thread that imports torch and the
app's modules and loads the default model, so the first visitor does not wait for them (about
2 s of the first page on a 2-core laptop) while their browser is still loading the page's scripts.
"""

import sys
import threading

import streamlit as st

SWITCH_INTERVAL = sys.getswitchinterval()  # Python's own (5 ms), restored after the warm-up


def _warm_up() -> None:
    """What every first page needs, done once per server (imports are shared by every session)."""
    try:
        import streamlit.emojis  # noqa: F401  (0.2 s of regular expressions, for set_page_config)
        import torch

        from lstm_viz.models import load_shipped
        from lstm_viz.ui import page, server_memory  # noqa: F401  (page: plotly, every view)

        server_memory.tune()  # before the first forward pass: oneDNN reads its cache size then
        server_memory.trim_in_background()

        torch.set_num_threads(1)  # as the page sets it: a classroom server shares its cores
        with torch.no_grad():  # the first forward pass initialises torch's CPU kernels
            model = load_shipped("cue_lstm")
            model(torch.zeros(1, 3, dtype=torch.long))
    finally:
        sys.setswitchinterval(SWITCH_INTERVAL)  # see below


if __name__ == "__main__":
    from lstm_viz.ui.page import main

    main()
else:
    # While the warm-up imports, the GIL passes between threads every 1 ms instead of 5: the
    # event loop serving the first visitor's scripts waits less behind it. With the warm-up
    # started here too, the first page (a browser already open) took 3.45-3.66 s instead of
    # 4.5-5.1 s (bench/classroom.py's first_page, 4 runs each). Afterwards it is 5 ms again:
    # at 1 ms, 30 students' runs after a presenter's move shared the GIL so finely that all
    # finished late (a view change reached them in 4.3 s p95 instead of 2.9 s).
    sys.setswitchinterval(0.001)
    # the warm-up starts as `streamlit run` imports this file, before the server listens
    threading.Thread(target=_warm_up, name="lstm_viz warm-up", daemon=True).start()
    from starlette.middleware import Middleware

    from lstm_viz.ui.preload import PreloadMiddleware

    # the page's HTML names Plotly's script, so the browser fetches it with Streamlit's own
    app = st.App(__file__, middleware=[Middleware(PreloadMiddleware)])
