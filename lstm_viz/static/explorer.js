/* lstm_viz gate explorer: the script of the page lstm_viz/explorer.py writes.
 *
 * The page carries two JSON blocks per explorer: "<id>-data" (values as float16 base64, labels,
 * the state before the first step) and "<id>-figure" (the app's heatmap figure without values).
 * This script decodes the values once, puts them into the heatmaps, and on every step moves the
 * marker box (laid over the maps) and rewrites the panel. Everything runs here: no server, no
 * network.
 * User text is only ever set with textContent.
 */
function lstmVizExplorer(uid) {
  "use strict";
  const root = document.getElementById(uid);
  const data = JSON.parse(document.getElementById(uid + "-data").textContent);
  const fig = JSON.parse(document.getElementById(uid + "-figure").textContent);
  const W = data.steps, U = data.units.length, back = data.direction === 1;
  const T = back ? "t+1" : "t\u22121"; // the step the recurrence reads from
  const vals = {};
  for (const n of data.names) vals[n] = decode(data.values[n]); // (W, U) row-major
  const clamped = {};
  for (const n in data.clamped) clamped[n] = bits(data.clamped[n]);
  const state = { step: data.step - data.start, unit: 0 }; // step within the window, unit row

  // ---- decoding -------------------------------------------------------------------------------
  function bytes(b64) {
    const s = atob(b64), out = new Uint8Array(s.length);
    for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
    return out;
  }
  function half(u) { // IEEE 754 binary16 -> number
    const sign = u & 0x8000 ? -1 : 1, e = (u >> 10) & 0x1f, m = u & 0x3ff;
    if (e === 0) return sign * m * Math.pow(2, -24);
    if (e === 31) return m ? NaN : sign * Infinity;
    return sign * (1 + m / 1024) * Math.pow(2, e - 15);
  }
  function decode(p) {
    const b = bytes(p.b64), dv = new DataView(b.buffer);
    const size = p.dtype === "f4" ? 4 : 2, out = new Float64Array(b.length / size);
    for (let i = 0; i < out.length; i++) {
      out[i] = size === 4 ? dv.getFloat32(4 * i, true) : half(dv.getUint16(2 * i, true));
    }
    return out;
  }
  function bits(b64) {
    const b = bytes(b64), out = new Uint8Array(W * U);
    for (let i = 0; i < out.length; i++) out[i] = (b[i >> 3] >> (7 - (i & 7))) & 1;
    return out;
  }
  const at = (name, k, u) => vals[name][k * U + u];

  // ---- page -----------------------------------------------------------------------------------
  function el(tag, cls, text) {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  }
  const top = el("div", "lv-top");
  top.appendChild(el("div", "lv-title", data.title));
  const controls = el("div", "lv-controls");
  const prev = el("button", "lv-prev", "\u25c0 Prev");
  const slider = el("input", "lv-slider");
  Object.assign(slider, { type: "range", min: 0, max: W - 1, step: 1, value: state.step });
  slider.setAttribute("aria-label", "step");
  const next = el("button", "lv-next", "Next \u25b6");
  const picker = el("select", "lv-unit");
  picker.setAttribute("aria-label", "unit");
  data.units.forEach((u, k) => picker.appendChild(Object.assign(el("option", "", String(u)), { value: k })));
  controls.append(prev, slider, next, el("span", "", "unit"), picker,
    el("span", "lv-hint", "\u2190 \u2192 step \u00b7 click a map to pick step and unit"));
  top.appendChild(controls);
  const where = el("div", "lv-where");
  const stepOut = el("b", "lv-step"), labelOut = el("span", "lv-label"), unitOut = el("b", "lv-unit-id");
  where.append("step ", stepOut, " \u00b7 ", labelOut, " \u00b7 unit ", unitOut,
    ` \u00b7 layer ${data.layer}` + (back ? " \u00b7 backward direction (reads right to left)" : ""));
  top.appendChild(where);
  const table = el("table", "lv-values");
  top.appendChild(table);
  const eqs = el("div", "lv-eqs");
  top.appendChild(eqs);
  root.appendChild(top);
  const plot = el("div", "lv-figure");
  root.appendChild(plot);

  // the rows of the panel: [name in the data or "prev", symbol]
  const hiddenName = data.names.includes("hidden_unprojected") ? "hidden_unprojected" : "hidden";
  const rows = {
    lstm: [["forget", "f"], ["input", "i"], ["candidate", "g"], ["output", "o"],
      ["prev", `c(${T})`], ["cell", "c(t)"], [hiddenName, "h(t)"]],
    gru: [["reset", "r"], ["update", "z"], ["new", "n"], ["prev", `h(${T})`], ["hidden", "h(t)"]],
    rnn: [["prev", `h(${T})`], ["hidden", "h(t)"]],
  }[data.kind];
  const head = table.insertRow(), body = table.insertRow(), cells = {};
  for (const [name, sym] of rows) {
    head.appendChild(el("th", "", (name === "prev" ? "" : name.replace("_unprojected", "") + " ") + sym));
    const td = body.insertCell();
    td.dataset.name = name;
    td.append(el("span", "num"), el("span", "lv-clamped"));
    cells[name] = td;
  }

  // ---- numbers and equations ------------------------------------------------------------------
  const fmt = (v) => (Number.isNaN(v) ? "nan" : v.toFixed(3));
  const par = (v) => (v < 0 ? `(${fmt(v)})` : fmt(v));
  function previous(k, u) {
    const j = back ? k + 1 : k - 1;
    return j >= 0 && j < W ? at(data.carried, j, u) : data.before[u];
  }
  function equations(k, u) {
    const v = (n) => at(n, k, u), p = previous(k, u);
    if (data.kind === "lstm") {
      const f = v("forget"), i = v("input"), g = v("candidate"), o = v("output"), c = v("cell");
      const proj = data.projected ? "   (before the projection W_hr)" : "";
      return [
        ["cell", `c(t) = f\u00b7c(${T}) + i\u00b7g = ${fmt(f)}\u00b7${par(p)} + ${fmt(i)}\u00b7${par(g)}` +
          ` = ${fmt(f * p)} + ${par(i * g)} = ${fmt(c)}`],
        ["hidden", `h(t) = o\u00b7tanh(c(t)) = ${fmt(o)}\u00b7tanh(${fmt(c)}) = ${fmt(v(hiddenName))}${proj}`],
      ];
    }
    if (data.kind === "gru") {
      const z = v("update"), n = v("new");
      return [
        ["new", `n(t) = tanh(W_in x(t) + b_in + r\u00b7(W_hn h(${T}) + b_hn)) = ${fmt(n)}`],
        ["hidden", `h(t) = (1 \u2212 z)\u00b7n + z\u00b7h(${T}) = (1 \u2212 ${fmt(z)})\u00b7${par(n)} + ` +
          `${fmt(z)}\u00b7${par(p)} = ${fmt(v("hidden"))}`],
      ];
    }
    const act = data.nonlinearity === "relu" ? "relu" : "tanh";
    return [["hidden", `h(t) = ${act}(W_ih x(t) + b_ih + W_hh h(${T}) + b_hh) = ${fmt(v("hidden"))}`]];
  }
  function panel() {
    const k = state.step, u = state.unit;
    stepOut.textContent = String(data.start + k);
    labelOut.textContent = data.labels[k];
    unitOut.textContent = String(data.units[u]);
    for (const [name] of rows) {
      const value = name === "prev" ? previous(k, u) : at(name, k, u);
      cells[name].firstChild.textContent = fmt(value);
      const held = clamped[name] && clamped[name][k * U + u];
      cells[name].lastChild.textContent = held ? " clamped" : "";
    }
    eqs.replaceChildren(...equations(k, u).map(([name, text]) => {
      const d = el("div", "lv-eq", text);
      d.dataset.eq = name;
      return d;
    }));
  }

  // ---- figure ---------------------------------------------------------------------------------
  const axes = [];
  for (const t of fig.data) {
    if (t.type !== "heatmap") continue;
    const v = vals[t.name], z = new Array(U);
    for (let r = 0; r < U; r++) {
      const row = new Array(W);
      for (let c = 0; c < W; c++) row[c] = v[c * U + r];
      z[r] = row;
    }
    t.z = z;
    axes.push(t.yaxis);
  }
  // The step marker and the chosen unit's row are boxes laid over the plot and placed from
  // Plotly's axes, not layout shapes: moving a shape (Plotly.relayout) redraws far more than the
  // shape (about 250 ms a step at T=500, H=64); moving a box is a style change.
  const marker = el("div", "lv-marker"), rowBoxes = axes.map(() => el("div", "lv-row"));
  plot.append(marker, ...rowBoxes);
  function box(e, x0, x1, y0, y1) {
    Object.assign(e.style, { left: Math.min(x0, x1) + "px", width: Math.abs(x1 - x0) + "px",
      top: Math.min(y0, y1) + "px", height: Math.abs(y1 - y0) + "px" });
  }
  function place() {
    const fl = plot._fullLayout;
    if (!fl || !fl.xaxis) return;
    const xa = fl.xaxis, x = (c) => xa._offset + xa.l2p(c);
    const ys = axes.map((name) => fl["yaxis" + name.slice(1)]);
    const top = ys[0]._offset, last = ys[ys.length - 1];
    box(marker, x(state.step - 0.5), x(state.step + 0.5), top - 2, last._offset + last._length + 2);
    ys.forEach((ya, k) => {
      const y = (r) => ya._offset + ya.l2p(r);
      box(rowBoxes[k], x(-0.5), x(W - 0.5), y(state.unit - 0.5), y(state.unit + 0.5));
    });
  }
  const drawn = Plotly.newPlot(plot, fig.data, fig.layout, { displaylogo: false, responsive: true });
  drawn.then(() => {
    plot.on("plotly_afterplot", place); // a resize redraws the axes: follow them
    plot.on("plotly_click", (ev) => {
      const p = ev.points && ev.points[0];
      if (!p || p.data.type !== "heatmap" || !Array.isArray(p.pointNumber)) return;
      go(p.pointNumber[1], p.pointNumber[0]);
    });
    place();
    try { // inside show()'s iframe: fit the frame to the page
      if (window.frameElement) window.frameElement.style.height = document.documentElement.scrollHeight + 8 + "px";
    } catch (e) { /* another origin: keep the given height */ }
    root.dataset.ready = "1";
  });

  // ---- moving ---------------------------------------------------------------------------------
  function go(step, unit) {
    state.step = Math.max(0, Math.min(W - 1, step));
    if (unit !== undefined) state.unit = unit;
    slider.value = state.step;
    picker.value = state.unit;
    panel();
    drawn.then(place);
  }
  slider.addEventListener("input", () => go(Number(slider.value)));
  prev.addEventListener("click", () => go(state.step - 1));
  next.addEventListener("click", () => go(state.step + 1));
  picker.addEventListener("change", () => go(state.step, Number(picker.value)));
  document.addEventListener("keydown", (e) => {
    const tag = e.target && e.target.tagName;
    if (tag === "INPUT" || tag === "SELECT" || tag === "TEXTAREA") return; // they handle keys
    const moves = { ArrowRight: 1, ArrowLeft: -1, Home: -W, End: W };
    if (!(e.key in moves)) return;
    e.preventDefault();
    go(state.step + moves[e.key]);
  });
  go(state.step, 0);
}
