"""Streamlit panels of the app: each module draws one part of the page and returns what the user
chose. Widgets carry `key=`s starting with "lv_" so tests (and session state) can address them.

- loaders: cached models, examples and traces (st.cache_resource / st.cache_data / budget_cache);
- budget_cache: the process-wide cache of traces, analyses and figures under a byte budget;
- source: the sidebar: which model, which input;
- gates: layer, direction, unit order and window controls, and the gate heatmaps;
- step: the step controls and everything that changes with the step, in one st.fragment;
- cell: the cell at this step (diagram, every unit, the prediction);
- export, explain: downloads and the "what am I looking at" text.
"""
