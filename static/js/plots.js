// The three figures: contour (2-D), surface (3-D) and the loss chart. Each is built once per
// surface with Plotly.react; afterwards only the small dynamic traces change.
import { num } from "./format.js";

const Plotly = window.Plotly;

export const RUN_COLOR = "#ff4d2e";
export const PIN_COLORS = ["#ff3fbf", "#18c8ff", "#ffc53d", "#a77bff", "#37e07a", "#ff8a3d", "#f5f5f5", "#3d7bff"];
const INK = "#1d2433";
const FONT = { family: "Inter, system-ui, -apple-system, Segoe UI, Roboto, sans-serif", size: 12, color: INK };
// The contour's margins are fixed (autoexpand off): the overlay and the drag map pixels to data
// through them, so a colorbar must not be allowed to push them.
const MARGIN = { l: 46, r: 76, t: 12, b: 38, autoexpand: false };
const MAX_DRAWN = 2000; // points per drawn path: longer paths are thinned for the SVG

export const PLOT_CONFIG = {
  displaylogo: false,
  doubleClick: false, // a double click would reset the zoom, not what a user clicking θ₀ wants
  modeBarButtonsToRemove: ["select2d", "lasso2d", "autoScale2d", "toggleSpikelines", "resetCameraLastSave3d"],
  toImageButtonOptions: { format: "png", scale: 2 },
};

// --- colours ---------------------------------------------------------------------------------

// z on a log scale when the surface spans decades: log10(z − zmin + ε), nulls stay null.
export function colorField(surface, grid) {
  let lo = Infinity;
  let hi = -Infinity;
  for (const row of grid.z) for (const v of row) if (v !== null) { if (v < lo) lo = v; if (v > hi) hi = v; }
  const field = { z: grid.z, colorbar: { title: { text: "L", side: "top" } }, lo, hi };
  if (!surface.log_colors || !(hi > lo)) return field;
  // Measure from the lowest known value, so that the ticks read 0.1, 1, 10 … when L* = 0.
  const base = Math.min(lo, ...surface.minima.map((m) => m.value));
  const eps = (hi - base) * 1e-4;
  const f = (v) => Math.log10(v - base + eps);
  const tickvals = [];
  const ticktext = [];
  for (let k = Math.ceil(Math.log10(eps)); k <= Math.log10(hi - base); k++) {
    tickvals.push(f(base + 10 ** k));
    ticktext.push(num(base + 10 ** k, 2));
  }
  return { ...field, z: grid.z.map((row) => row.map((v) => (v === null ? null : f(v)))), colorbar: { title: { text: "L (log)", side: "top" }, tickvals, ticktext } };
}

const COLORSCALE = [
  [0, "#fbfdf2"], [0.12, "#d9f0b9"], [0.3, "#8fd3a8"], [0.5, "#4aa9b8"], [0.7, "#3a6fa8"], [0.88, "#3c3f8f"], [1, "#2a1e5c"],
];

// --- helpers ---------------------------------------------------------------------------------

// Indices 0 … upto, thinned to at most MAX_DRAWN, always keeping the last.
function indices(upto) {
  const stride = Math.max(1, Math.ceil((upto + 1) / MAX_DRAWN));
  const idx = [];
  for (let i = 0; i <= upto; i += stride) idx.push(i);
  if (idx.at(-1) !== upto) idx.push(upto);
  return idx;
}

function thin(path, upto) {
  const idx = indices(Math.min(upto, path.length - 1));
  return { x: idx.map((i) => path[i][0]), y: idx.map((i) => path[i][1]) };
}

const CROWDED = 16; // more landmarks of a kind than this (Rastrigin has 121 minima) and they hide the map

function landmarks(surface) {
  const pick = (list) => ({ x: list.map((p) => p.x), y: list.map((p) => p.y), value: list.map((p) => p.value) });
  const some = (list) => (list.length > CROWDED ? [] : list);
  return {
    global: pick(surface.minima.filter((m) => m.kind === "global")),
    local: pick(surface.minima.filter((m) => m.kind === "local")),
    saddles: pick(some(surface.saddles)),
    maxima: pick(some(surface.maxima)),
  };
}

const LANDMARK_STYLE = {
  global: { name: "global minimum", marker: { symbol: "star", size: 15, color: "#ffd21f", line: { color: INK, width: 1.2 } } },
  local: { name: "local minimum", marker: { symbol: "circle", size: 9, color: "#ffffff", line: { color: INK, width: 1.5 } } },
  saddles: { name: "saddle point", marker: { symbol: "x-thin", size: 9, line: { color: INK, width: 2 } } },
  maxima: { name: "local maximum", marker: { symbol: "triangle-up", size: 9, color: "#ffffff", line: { color: INK, width: 1 } } },
};

// Where the current iterate is, the gradient there (unit length on screen) and the step taken.
function arrows(run, t, scale) {
  const p = run.path[t];
  const g = run.grad[t];
  const gn = Math.hypot(g[0], g[1]);
  const grad = gn > 0 && Number.isFinite(gn)
    ? { x: [p[0], p[0] + (scale * g[0]) / gn], y: [p[1], p[1] + (scale * g[1]) / gn] }
    : { x: [], y: [] };
  const next = run.path[t + 1];
  const step = next ? { x: [p[0], next[0]], y: [p[1], next[1]] } : { x: [], y: [] };
  return { grad, step };
}

// --- contour ---------------------------------------------------------------------------------

const SVG = "http://www.w3.org/2000/svg";
function svg(tag, attrs = {}, parent = null) {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, v);
  if (parent) parent.append(el);
  return el;
}

// Plotly draws the contour, the landmarks, the pinned runs and θ₀ (an editable shape). The current
// path, iterate and arrows change every frame, so they live in an SVG overlay of our own over the
// plot area: redrawing it costs well under a millisecond, while any Plotly route redraws far more
// (and Plotly.animate with redraw:false erases contour traces in plotly.js 4).
export class ContourView {
  constructor(frame, div) {
    this.frame = frame; // positions the overlay over the plot area
    this.div = div;
    this.pinCount = 0;
    this.last = null;
    this.overlay = svg("svg", { class: "overlay", "aria-hidden": "true" }, frame);
    const defs = svg("defs", {}, this.overlay);
    const arrowhead = (id, fill) => {
      const m = svg("marker", { id, viewBox: "0 0 10 10", refX: "8", refY: "5", markerWidth: "4.5", markerHeight: "4.5", orient: "auto-start-reverse" }, defs);
      svg("path", { d: "M0,0 L10,5 L0,10 z", fill, stroke: INK, "stroke-width": "0.8" }, m);
    };
    arrowhead("head-grad", INK);
    arrowhead("head-step", "#ffffff");
    const dot = svg("marker", { id: "dot", viewBox: "0 0 10 10", refX: "5", refY: "5", markerWidth: "3", markerHeight: "3" }, defs);
    svg("circle", { cx: "5", cy: "5", r: "4", fill: RUN_COLOR, stroke: "#fff", "stroke-width": "1.5" }, dot);
    this.path = svg("polyline", { class: "path", fill: "none", stroke: RUN_COLOR, "stroke-width": "2.5", "stroke-linejoin": "round", "marker-mid": "url(#dot)" }, this.overlay);
    this.grad = svg("line", { class: "grad", stroke: INK, "stroke-width": "2.2", "marker-end": "url(#head-grad)" }, this.overlay);
    this.step = svg("line", { class: "step", stroke: "#ffffff", "stroke-width": "2.5", "marker-end": "url(#head-step)" }, this.overlay);
    this.current = svg("circle", { class: "current", r: "6", fill: RUN_COLOR, stroke: "#ffffff", "stroke-width": "2" }, this.overlay);
  }

  // The plot area keeps the domain's aspect ratio, so gradients look perpendicular to contours.
  size(domain, box) {
    const dx = domain.x[1] - domain.x[0];
    const dy = domain.y[1] - domain.y[0];
    let pw = Math.max(120, box.width - MARGIN.l - MARGIN.r);
    let ph = (pw * dy) / dx;
    const maxH = Math.max(120, box.height - MARGIN.t - MARGIN.b);
    if (ph > maxH) { ph = maxH; pw = (ph * dx) / dy; }
    return { width: Math.round(pw + MARGIN.l + MARGIN.r), height: Math.round(ph + MARGIN.t + MARGIN.b) };
  }

  // Client pixels ↔ data, from public layout values only (size, margins, axis ranges).
  toData(clientX, clientY) {
    const r = this.div.getBoundingClientRect();
    const { width, height, xaxis, yaxis } = this.div.layout;
    const fx = (clientX - r.left - MARGIN.l) / (width - MARGIN.l - MARGIN.r);
    const fy = (clientY - r.top - MARGIN.t) / (height - MARGIN.t - MARGIN.b);
    return [xaxis.range[0] + fx * (xaxis.range[1] - xaxis.range[0]), yaxis.range[1] - fy * (yaxis.range[1] - yaxis.range[0])];
  }

  toPixels(x, y) {
    const r = this.div.getBoundingClientRect();
    const [px, py] = this.mapper()(x, y);
    return [r.left + MARGIN.l + px, r.top + MARGIN.t + py];
  }

  // Data → pixels inside the plot area; `ranges` overrides the layout's while Plotly pans.
  mapper(ranges = null) {
    const { width, height, xaxis, yaxis } = this.div.layout;
    const xr = ranges ? ranges.x : xaxis.range;
    const yr = ranges ? ranges.y : yaxis.range;
    const sx = (width - MARGIN.l - MARGIN.r) / (xr[1] - xr[0]);
    const sy = (height - MARGIN.t - MARGIN.b) / (yr[1] - yr[0]);
    return (x, y) => [(x - xr[0]) * sx, (yr[1] - y) * sy];
  }

  placeOverlay() {
    const { width, height } = this.div.layout;
    Object.assign(this.frame.style, { width: `${width}px`, height: `${height}px` });
    Object.assign(this.overlay.style, { left: `${MARGIN.l}px`, top: `${MARGIN.t}px`, width: `${width - MARGIN.l - MARGIN.r}px`, height: `${height - MARGIN.t - MARGIN.b}px` });
  }

  async build(surface, grid, colors, theta0, pins, box) {
    this.surface = surface;
    const d = surface.domain;
    this.arrowScale = 0.07 * Math.hypot(d.x[1] - d.x[0], d.y[1] - d.y[0]);
    const marks = landmarks(surface);
    const traces = [
      {
        type: "contour", x: grid.x, y: grid.y, z: colors.z, colorscale: COLORSCALE, ncontours: 28,
        contours: { coloring: "heatmap", showlines: true }, line: { width: 0.6, color: "rgba(29,36,51,0.28)", smoothing: 0.85 },
        colorbar: { ...colors.colorbar, thickness: 10, len: 0.9, outlinewidth: 0, tickfont: { size: 10 } },
        hoverinfo: "skip",
      },
      ...Object.entries(marks).map(([kind, m]) => ({
        type: "scatter", mode: "markers", x: m.x, y: m.y, customdata: m.value, ...LANDMARK_STYLE[kind],
        ...(m.x.length > CROWDED ? { marker: { ...LANDMARK_STYLE[kind].marker, size: 5, line: { color: INK, width: 1 } } } : {}),
        hovertemplate: `${LANDMARK_STYLE[kind].name}<br>(%{x:.4g}, %{y:.4g})<br>L = %{customdata:.4g}<extra></extra>`,
      })),
      ...pins.map((pin, i) => this.pinTrace(pin, i)),
    ];
    this.pinCount = pins.length;
    const { width, height } = this.size(d, box);
    const layout = {
      width, height, margin: MARGIN, font: FONT, showlegend: false, dragmode: "pan", hovermode: "closest",
      clickanywhere: true, paper_bgcolor: "rgba(0,0,0,0)", plot_bgcolor: "#ffffff",
      xaxis: { range: [...d.x], title: { text: "x", standoff: 4 }, zeroline: false, showgrid: false, ticks: "outside", ticklen: 4 },
      yaxis: { range: [...d.y], title: { text: "y", standoff: 4 }, zeroline: false, showgrid: false, ticks: "outside", ticklen: 4 },
      shapes: [this.theta0Shape(theta0)],
    };
    await Plotly.react(this.div, traces, layout, { ...PLOT_CONFIG, edits: { shapePosition: true }, scrollZoom: true });
    if (!this.wired) {
      this.wired = true;
      // Follow pans and zooms, live while they happen.
      this.div.on("plotly_relayouting", (e) => this.redraw(rangesOf(e, this.div.layout)));
      this.div.on("plotly_relayout", () => this.redraw());
    }
    this.placeOverlay();
    this.redraw();
  }

  theta0Shape([x, y]) {
    return {
      type: "circle", xref: "x", yref: "y", xsizemode: "pixel", ysizemode: "pixel", xanchor: x, yanchor: y,
      x0: -9, x1: 9, y0: -9, y1: 9, fillcolor: "rgba(255,255,255,0.95)", line: { color: INK, width: 2.5 }, editable: true,
    };
  }

  pinTrace(pin, i) {
    const c = PIN_COLORS[i % PIN_COLORS.length];
    const p = pin.run ? thin(pin.run.path, pin.run.path.length - 1) : { x: [], y: [] };
    return { type: "scatter", mode: "lines", ...p, line: { color: c, width: 2.2 }, hoverinfo: "skip", name: `pin ${i + 1}` };
  }

  moveTheta0(theta0) {
    return Plotly.relayout(this.div, { "shapes[0].xanchor": theta0[0], "shapes[0].yanchor": theta0[1] });
  }

  async resize(box) {
    if (!this.surface) return;
    await Plotly.relayout(this.div, this.size(this.surface.domain, box));
    this.placeOverlay();
    this.redraw();
  }

  show(run, t) {
    this.last = { run, t };
    this.redraw();
  }

  clear() {
    this.last = null;
    this.redraw();
  }

  redraw(ranges = null) {
    const hide = (el) => el.setAttribute("visibility", "hidden");
    if (!this.last || !this.div.layout) {
      [this.path, this.grad, this.step, this.current].forEach(hide);
      return;
    }
    const { run, t } = this.last;
    const map = this.mapper(ranges);
    const xy = thin(run.path, t);
    const pts = [];
    for (let i = 0; i < xy.x.length; i++) {
      const [px, py] = map(xy.x[i], xy.y[i]);
      pts.push(`${px.toFixed(1)},${py.toFixed(1)}`);
    }
    this.path.setAttribute("points", pts.join(" "));
    this.path.setAttribute("marker-mid", xy.x.length <= 400 ? "url(#dot)" : "none");
    this.path.setAttribute("visibility", "visible");
    const [cx, cy] = map(...run.path[t]);
    this.current.setAttribute("cx", cx.toFixed(1));
    this.current.setAttribute("cy", cy.toFixed(1));
    this.current.setAttribute("visibility", "visible");
    const { grad, step } = arrows(run, t, this.arrowScale);
    for (const [el, seg] of [[this.grad, grad], [this.step, step]]) {
      if (!seg.x.length) { hide(el); continue; }
      const [x1, y1] = map(seg.x[0], seg.y[0]);
      const [x2, y2] = map(seg.x[1], seg.y[1]);
      // A step shorter than its own arrowhead is not drawn: it would point nowhere readable.
      if (Math.hypot(x2 - x1, y2 - y1) < 6) { hide(el); continue; }
      Object.entries({ x1, y1, x2, y2 }).forEach(([k, v]) => el.setAttribute(k, v.toFixed(1)));
      el.setAttribute("visibility", "visible");
    }
  }
}

// Axis ranges from a plotly_relayouting event, falling back to the layout's.
function rangesOf(e, layout) {
  const get = (ax) => [e[`${ax}.range[0]`] ?? layout[ax].range[0], e[`${ax}.range[1]`] ?? layout[ax].range[1]];
  return { x: get("xaxis"), y: get("yaxis") };
}

// --- 3-D surface -----------------------------------------------------------------------------

export class SurfaceView {
  constructor(div) {
    this.div = div;
  }

  build(surface, grid, colors, pins) {
    this.surface = surface;
    this.zlo = colors.lo;
    this.zhi = colors.hi;
    this.lift = (colors.hi - colors.lo) * 0.012;
    const marks = landmarks(surface);
    const d = surface.domain;
    const m3 = (m, style) => ({
      type: "scatter3d", mode: "markers", x: m.x, y: m.y, z: m.value.map((v) => v + this.lift), hoverinfo: "skip",
      marker: style,
    });
    const traces = [
      {
        type: "surface", x: grid.x, y: grid.y, z: grid.z, surfacecolor: colors.z, colorscale: COLORSCALE, showscale: false,
        opacity: 0.9, hoverinfo: "skip", contours: { z: { show: false } },
        lighting: { ambient: 0.75, diffuse: 0.6, specular: 0.08, roughness: 0.9 },
      },
      m3(marks.global, { size: 5, color: "#ffd21f", symbol: "diamond", line: { color: INK, width: 1 } }),
      m3(marks.local.x.length > CROWDED ? { x: [], y: [], value: [] } : marks.local, { size: 3.5, color: "#ffffff", line: { color: INK, width: 1 } }),
      ...pins.map((pin, i) => this.pinTrace(pin, i)),
      { type: "scatter3d", mode: "lines", x: [], y: [], z: [], line: { color: RUN_COLOR, width: 6 }, hoverinfo: "skip" },
      { type: "scatter3d", mode: "markers", x: [], y: [], z: [], marker: { size: 5, color: RUN_COLOR, line: { color: "#fff", width: 1 } }, hoverinfo: "skip" },
      { type: "scatter3d", mode: "markers", x: [], y: [], z: [], marker: { size: 4.5, color: "#ffffff", line: { color: INK, width: 2 } }, hoverinfo: "skip" },
    ];
    this.first = traces.length - 3; // path, current iterate, θ₀
    const axis = (title, range) => ({
      title: { text: title }, range, showspikes: false, backgroundcolor: "#f4f6fa", gridcolor: "#dde2ea", showbackground: true,
    });
    const layout = {
      margin: { l: 0, r: 0, t: 0, b: 0 }, font: FONT, showlegend: false, paper_bgcolor: "rgba(0,0,0,0)",
      scene: {
        xaxis: axis("x", [...d.x]), yaxis: axis("y", [...d.y]), zaxis: axis("L", [colors.lo, colors.hi + this.lift]),
        hovermode: false, // no picking pass (a readPixels) on every mouse move anywhere on the page
        aspectmode: "manual", aspectratio: { x: 1, y: (d.y[1] - d.y[0]) / (d.x[1] - d.x[0]), z: 0.62 },
        camera: { eye: { x: -1.35, y: -1.45, z: 1.05 } },
      },
    };
    return Plotly.react(this.div, traces, layout, { ...PLOT_CONFIG, responsive: true });
  }

  // Points outside the drawn box are cut: a diverging path would otherwise stretch the scene.
  lifted(path, loss, upto) {
    const d = this.surface.domain;
    const x = [];
    const y = [];
    const z = [];
    for (const i of indices(Math.min(upto, path.length - 1))) {
      const [px, py] = path[i];
      const inside = px >= d.x[0] && px <= d.x[1] && py >= d.y[0] && py <= d.y[1] && loss[i] <= this.zhi;
      if (!inside) break;
      x.push(px); y.push(py); z.push(loss[i] + this.lift);
    }
    return { x, y, z };
  }

  pinTrace(pin, i) {
    const p = pin.run ? this.lifted(pin.run.path, pin.run.loss, pin.run.path.length - 1) : { x: [], y: [], z: [] };
    return { type: "scatter3d", mode: "lines", ...p, line: { color: PIN_COLORS[i % PIN_COLORS.length], width: 5 }, hoverinfo: "skip" };
  }

  show(run, t) {
    const p = this.lifted(run.path, run.loss, t);
    const [cx, cy] = run.path[t];
    const shown = p.x.length && p.x.at(-1) === cx && p.y.at(-1) === cy;
    const cur = shown ? { x: [cx], y: [cy], z: [p.z.at(-1)] } : { x: [], y: [], z: [] };
    const start = p.x.length ? { x: [p.x[0]], y: [p.y[0]], z: [p.z[0]] } : { x: [], y: [], z: [] };
    return Plotly.restyle(this.div, { x: [p.x, cur.x, start.x], y: [p.y, cur.y, start.y], z: [p.z, cur.z, start.z] }, [this.first, this.first + 1, this.first + 2]);
  }
}

// Ticks on whole decades of a log axis, at most about five of them.
function decades(values) {
  const logs = values.filter((v) => v > 0 && Number.isFinite(v)).map(Math.log10);
  if (!logs.length) return {};
  const lo = Math.min(...logs);
  const hi = Math.max(...logs);
  return hi - lo < 1 ? {} : { tick0: 0, dtick: Math.ceil((Math.ceil(hi) - Math.floor(lo)) / 5) };
}

// --- loss and gradient norm against iteration ------------------------------------------------

export class LossView {
  constructor(div) {
    this.div = div;
  }

  // L − L* on a log axis when the surface has a known minimum value L*, otherwise L itself.
  series(run) {
    const best = this.best;
    const loss = best === null ? run.loss : run.loss.map((v) => Math.max(v - best, 1e-16));
    const gn = run.grad.map((g) => Math.hypot(g[0], g[1]));
    return { t: run.loss.map((_, i) => i), loss, gn };
  }

  build(surface, run, pins) {
    this.best = surface.minima.length ? Math.min(...surface.minima.map((m) => m.value)) : null;
    const traces = [];
    pins.forEach((pin, i) => {
      if (!pin.run) return;
      const s = this.series(pin.run);
      traces.push({ type: "scatter", mode: "lines", x: s.t, y: s.loss, line: { color: PIN_COLORS[i % PIN_COLORS.length], width: 1.5 }, opacity: 0.8, hoverinfo: "skip", showlegend: false });
    });
    const s = run ? this.series(run) : { t: [], loss: [], gn: [] };
    this.first = traces.length;
    traces.push(
      { type: "scatter", mode: "lines", name: this.best === null ? "L" : "L − L*", x: s.t, y: s.loss, line: { color: RUN_COLOR, width: 2 }, hovertemplate: "t = %{x}<br>%{y:.4g}<extra></extra>" },
      { type: "scatter", mode: "lines", name: "‖∇L‖", x: s.t, y: s.gn, yaxis: "y2", line: { color: "#4b5a75", width: 1.5, dash: "dot" }, hovertemplate: "t = %{x}<br>‖∇L‖ = %{y:.4g}<extra></extra>" },
      { type: "scatter", mode: "markers", x: [], y: [], marker: { size: 9, color: RUN_COLOR, line: { color: "#fff", width: 1.5 } }, hoverinfo: "skip", showlegend: false },
      { type: "scatter", mode: "markers", x: [], y: [], yaxis: "y2", marker: { size: 7, color: "#4b5a75" }, hoverinfo: "skip", showlegend: false },
    );
    const layout = {
      margin: { l: 56, r: 56, t: 8, b: 34 }, font: { ...FONT, size: 11 }, paper_bgcolor: "rgba(0,0,0,0)", plot_bgcolor: "#ffffff",
      showlegend: true, legend: { orientation: "h", x: 0.5, xanchor: "center", y: 1.0, yanchor: "bottom", font: { size: 11 } },
      xaxis: { title: { text: "iteration t", standoff: 2 }, zeroline: false, gridcolor: "#eef1f5", rangemode: "tozero" },
      yaxis: { title: { text: this.best === null ? "L(θₜ)" : "L(θₜ) − L*", standoff: 4 }, type: this.best === null ? "linear" : "log", exponentformat: "power", tick0: 0, gridcolor: "#eef1f5", color: RUN_COLOR },
      yaxis2: { title: { text: "‖∇L(θₜ)‖", standoff: 4 }, type: "log", exponentformat: "power", tick0: 0, overlaying: "y", side: "right", showgrid: false, color: "#4b5a75" },
      hovermode: "closest",
    };
    this.series_ = s;
    const all = (key) => [s, ...pins.filter((p) => p.run).map((p) => this.series(p.run))].flatMap((x) => x[key]);
    if (this.best !== null) Object.assign(layout.yaxis, decades(all("loss")));
    Object.assign(layout.yaxis2, decades(all("gn")));
    return Plotly.react(this.div, traces, layout, { ...PLOT_CONFIG, responsive: true });
  }

  show(t) {
    const s = this.series_;
    if (!s || t >= s.t.length) return null;
    return Plotly.restyle(this.div, { x: [[t], [t]], y: [[s.loss[t]], [s.gn[t]]] }, [this.first + 2, this.first + 3]);
  }
}
