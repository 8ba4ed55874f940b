// What the three figures share: colours, the colour field of a surface, landmarks, thinning.
import { num } from "./format.js";

export const RUN_COLOR = "#ff4d2e";
// The pinned runs' colours: each stands out on white (the loss chart) and on both ends of the
// colour scale (contrast ≥ 2), and any two of them and the run's differ by ΔE ≥ 15 for normal,
// protan and deutan vision (tests/browser/test_pins_key.py measures this).
export const PIN_COLORS = [
  "#3d7bff",
  "#e6ab02",
  "#aa3377",
  "#33bbee",
  "#994455",
  "#cc79a7",
  "#0077bb",
  "#ee6677",
];
export const INK = "#1d2433";
export const FONT = {
  family: "Inter, system-ui, -apple-system, Segoe UI, Roboto, sans-serif",
  size: 12,
  color: INK,
};
const MAX_DRAWN = 2000; // points per drawn path: longer paths are thinned for the SVG

// The toolbar offers what a learner needs and nothing that leaves the site (no "Share chart…",
// Plotly's cloud upload): a PNG of the plot and a reset of the zoom and pan (toolbars.js keeps
// these buttons out of the Tab order).
export const PLOT_CONFIG = {
  displaylogo: false,
  doubleClick: false, // a double click would reset the zoom, not what a user clicking θ₀ wants
  modeBarButtons: [["toImage", "resetScale2d"]],
  toImageButtonOptions: { format: "png", scale: 2 },
};
// The same for the 3-D view, whose reset puts the camera back.
export const PLOT_CONFIG_3D = {
  ...PLOT_CONFIG,
  modeBarButtons: [["toImage", "resetCameraDefault3d"]],
};

// --- colours ---------------------------------------------------------------------------------

// z on a log scale when the surface spans decades: log10(z − zmin + ε), nulls stay null.
export function colorField(surface, grid) {
  let lo = Infinity;
  let hi = -Infinity;
  for (const row of grid.z)
    for (const v of row)
      if (v !== null) {
        if (v < lo) lo = v;
        if (v > hi) hi = v;
      }
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
  return {
    ...field,
    z: grid.z.map((row) => row.map((v) => (v === null ? null : f(v)))),
    colorbar: { title: { text: "L (log)", side: "top" }, tickvals, ticktext },
  };
}

export const COLORSCALE = [
  [0, "#fbfdf2"],
  [0.12, "#d9f0b9"],
  [0.3, "#8fd3a8"],
  [0.5, "#4aa9b8"],
  [0.7, "#3a6fa8"],
  [0.88, "#3c3f8f"],
  [1, "#2a1e5c"],
];

// --- helpers ---------------------------------------------------------------------------------

const SVG_NS = "http://www.w3.org/2000/svg";
// An SVG element with these attributes, appended to `parent` if given.
export function svg(tag, attrs = {}, parent = null) {
  const el = document.createElementNS(SVG_NS, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  if (parent) parent.append(el);
  return el;
}

// Axis ranges from a plotly_relayouting event (live while Plotly pans), falling back to the layout's.
export function rangesOf(e, layout) {
  const get = (ax) => [
    e[`${ax}.range[0]`] ?? layout[ax].range[0],
    e[`${ax}.range[1]`] ?? layout[ax].range[1],
  ];
  return { x: get("xaxis"), y: get("yaxis") };
}

// Indices 0 … upto, thinned to at most MAX_DRAWN, always keeping the last.
export function indices(upto) {
  const stride = Math.max(1, Math.ceil((upto + 1) / MAX_DRAWN));
  const idx = [];
  for (let i = 0; i <= upto; i += stride) idx.push(i);
  if (idx.at(-1) !== upto) idx.push(upto);
  return idx;
}

export function thin(path, upto) {
  const idx = indices(Math.min(upto, path.length - 1));
  return { x: idx.map((i) => path[i][0]), y: idx.map((i) => path[i][1]) };
}

export const CROWDED = 16; // more landmarks of a kind than this (Rastrigin has 121 minima) and they hide the map

// The marker coordinates of each kind of stationary point (a crowded kind is left out).
export function landmarkMarkers(surface) {
  const pick = (list) => ({
    x: list.map((p) => p.x),
    y: list.map((p) => p.y),
    value: list.map((p) => p.value),
  });
  const some = (list) => (list.length > CROWDED ? [] : list);
  return {
    global: pick(surface.minima.filter((m) => m.kind === "global")),
    local: pick(surface.minima.filter((m) => m.kind === "local")),
    saddles: pick(some(surface.saddles)),
    maxima: pick(some(surface.maxima)),
  };
}

export const LANDMARK_STYLE = {
  global: {
    name: "global minimum",
    marker: { symbol: "star", size: 15, color: "#ffd21f", line: { color: INK, width: 1.2 } },
  },
  local: {
    name: "local minimum",
    marker: { symbol: "circle", size: 9, color: "#ffffff", line: { color: INK, width: 1.5 } },
  },
  saddles: {
    name: "saddle point",
    marker: { symbol: "x-thin", size: 9, line: { color: INK, width: 2 } },
  },
  maxima: {
    name: "local maximum",
    marker: { symbol: "triangle-up", size: 9, color: "#ffffff", line: { color: INK, width: 1 } },
  },
};

// Where the current iterate is, the gradient there (unit length on screen) and the step taken.
export function arrows(run, t, scale) {
  const p = run.path[t];
  const g = run.grad[t];
  const gn = Math.hypot(g[0], g[1]);
  // Where the run converged, ‖∇L‖ ≤ tol says ∇L is zero for this run: no direction to show.
  const stationary = run.status === "converged" && t === run.path.length - 1;
  const grad =
    gn > 0 && Number.isFinite(gn) && !stationary
      ? { x: [p[0], p[0] + (scale * g[0]) / gn], y: [p[1], p[1] + (scale * g[1]) / gn] }
      : { x: [], y: [] };
  const next = run.path[t + 1];
  const step = next ? { x: [p[0], next[0]], y: [p[1], next[1]] } : { x: [], y: [] };
  return { grad, step };
}

// The screen points of a drawn path (`at(i)` maps iterate i to pixels), skipping those that do not
// map to the screen (overflowed values) and those within SUBPIXEL of the last one kept (the last
// is always kept): the drawn line moves by less than that, and a slow run's 1,000 iterates, drawn
// with every answer while θ₀ is dragged, shrink to the few hundred that show.
const SUBPIXEL = 0.5;
export function screenPoints(n, at) {
  const out = [];
  let last = null;
  for (let i = 0; i < n; i++) {
    const p = at(i);
    if (!(Number.isFinite(p[0]) && Number.isFinite(p[1]))) continue;
    if (last && i < n - 1 && Math.hypot(p[0] - last[0], p[1] - last[1]) < SUBPIXEL) continue;
    out.push(p);
    last = p;
  }
  return out;
}
