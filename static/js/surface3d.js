// The 3-D surface view: the surface, the minima, the pinned runs and the path lying on it.

import { FlatPath3d } from "./flatpath3d.js";
import { paramNames } from "./params.js";
import {
  COLORSCALE,
  CROWDED,
  FONT,
  INK,
  indices,
  landmarkMarkers,
  PIN_COLORS,
  PLOT_CONFIG_3D,
  RUN_COLOR,
} from "./plotkit.js";
import { changesUpTo } from "./resume.js";

const Plotly = window.Plotly;

// The box keeps the domain's proportions up to 1:1.6 either way: a longer box would leave the
// default camera too close to see all of it.
function aspect(d) {
  const r = Math.min(1.6, Math.max(1 / 1.6, (d.y[1] - d.y[0]) / (d.x[1] - d.x[0])));
  return { x: 1, y: r, z: 0.62 };
}

// While θ₀ is dragged the path is drawn flat on a canvas over the scene, projected with the
// scene's camera (flatpath3d.js): a restyle of any trace of a scene redraws all of it in WebGL.
// Once the pointer is up (the drag has ended), SETTLE_MS after the last dragged redraw, the path
// goes back onto the scene (where the surface can hide it) and the canvas is hidden; never while
// the pointer is down, when a pause of the pointer or a slow answer would cost a whole redraw in
// the middle of the drag.
const SETTLE_MS = 300;
const GL_PIXEL_RATIO = Math.max(1, Math.min(2, window.devicePixelRatio || 1));

export class SurfaceView {
  constructor(div) {
    this.div = div;
    this.flat = new FlatPath3d(div);
    this.dragging = false;
    this.settle = null;
    this.last = null; // the last dragged redraw's arguments
    this.pointerDown = false;
    window.addEventListener("pointerdown", () => {
      this.pointerDown = true;
    });
    const up = () => {
      this.pointerDown = false;
      if (this.dragging) this.settleLater();
    };
    window.addEventListener("pointerup", up);
    window.addEventListener("pointercancel", up);
  }

  settleLater() {
    clearTimeout(this.settle);
    const [run, race] = this.last;
    this.settle = setTimeout(() => this.show(run, race), SETTLE_MS);
  }

  build(surface, grid, colors, pins) {
    this.surface = surface;
    this.zlo = colors.lo;
    this.zhi = colors.hi;
    this.lift = (colors.hi - colors.lo) * 0.012;
    const marks = landmarkMarkers(surface);
    const d = surface.domain;
    const m3 = (m, style) => ({
      type: "scatter3d",
      mode: "markers",
      x: m.x,
      y: m.y,
      z: m.value.map((v) => v + this.lift),
      hoverinfo: "skip",
      marker: style,
    });
    const traces = [
      {
        type: "surface",
        x: grid.x,
        y: grid.y,
        z: grid.z,
        surfacecolor: colors.z,
        colorscale: COLORSCALE,
        showscale: false,
        opacity: 0.9,
        hoverinfo: "skip",
        contours: { z: { show: false } }, // a path behind a wall shows through
        lighting: { ambient: 0.75, diffuse: 0.6, specular: 0.08, roughness: 0.9 },
      },
      m3(marks.global, {
        size: 5,
        color: "#ffd21f",
        symbol: "diamond",
        line: { color: INK, width: 1 },
      }),
      m3(marks.local.x.length > CROWDED ? { x: [], y: [], value: [] } : marks.local, {
        size: 3.5,
        color: "#ffffff",
        line: { color: INK, width: 1 },
      }),
      ...pins.map((pin, i) => this.pinTrace(pin, i)),
      {
        type: "scatter3d",
        mode: "lines",
        x: [],
        y: [],
        z: [],
        line: { color: RUN_COLOR, width: 6 },
        hoverinfo: "skip",
      },
      {
        type: "scatter3d",
        mode: "markers",
        name: "current",
        x: [],
        y: [],
        z: [],
        marker: { size: 5, color: RUN_COLOR, line: { color: "#fff", width: 1 } },
        hoverinfo: "skip",
      },
      {
        type: "scatter3d",
        mode: "markers",
        x: [],
        y: [],
        z: [],
        marker: { size: 4.5, color: "#ffffff", line: { color: INK, width: 2 } },
        hoverinfo: "skip",
      },
    ];
    this.pins = pins;
    this.firstPin = 3;
    this.first = traces.length - 3; // path, current iterate, θ₀
    // Where a continued run's settings changed (resume.js): diamonds on the path.
    this.marks =
      traces.push({
        type: "scatter3d",
        mode: "markers",
        x: [],
        y: [],
        z: [],
        marker: { size: 6, symbol: "diamond", color: INK, line: { color: "#ffffff", width: 2 } },
        hoverinfo: "skip",
      }) - 1;
    // Four ticks an axis at most: at presenter size more made the L ticks run into y's.
    const axis = (title, range) => ({
      title: { text: title },
      range,
      nticks: 4,
      showspikes: false,
      backgroundcolor: "#f4f6fa",
      gridcolor: "#dde2ea",
      showbackground: true,
    });
    const layout = {
      margin: { l: 0, r: 0, t: 0, b: 0 },
      font: FONT,
      showlegend: false,
      paper_bgcolor: "rgba(0,0,0,0)",
      scene: {
        xaxis: axis(paramNames(surface)[0], [...d.x]),
        yaxis: axis(paramNames(surface)[1], [...d.y]),
        zaxis: axis("L", [colors.lo, colors.hi + this.lift]),
        hovermode: false, // no picking pass (a readPixels) on every mouse move anywhere on the page
        aspectmode: "manual",
        aspectratio: aspect(d),
        camera: { eye: { x: -1.2, y: -1.35, z: 1.5 } },
      },
    };
    this.dragging = false;
    clearTimeout(this.settle);
    this.flat.hide();
    this.scene = {
      ranges: [[...d.x], [...d.y], [colors.lo, colors.hi + this.lift]],
      aspect: aspect(d),
    };
    // WebGL at the screen's resolution (Plotly's default is twice it): with software WebGL a
    // redraw costs in proportion to its pixels, and it holds up the page's next frame.
    const config = { ...PLOT_CONFIG_3D, responsive: true, plotGlPixelRatio: GL_PIXEL_RATIO };
    return Plotly.react(this.div, traces, layout, config);
  }

  // Points outside the drawn box are cut: a diverging path would otherwise stretch the scene.
  lifted(path, loss, upto) {
    const d = this.surface.domain;
    const x = [];
    const y = [];
    const z = [];
    for (const i of indices(Math.min(upto, path.length - 1))) {
      const [px, py] = path[i];
      const inside =
        px >= d.x[0] && px <= d.x[1] && py >= d.y[0] && py <= d.y[1] && loss[i] <= this.zhi;
      if (!inside) break;
      x.push(px);
      y.push(py);
      z.push(loss[i] + this.lift);
    }
    return { x, y, z };
  }

  pinTrace(pin, i) {
    const p = pin.run
      ? this.lifted(pin.run.path, pin.run.loss, pin.run.path.length - 1)
      : { x: [], y: [], z: [] };
    return {
      type: "scatter3d",
      mode: "lines",
      ...p,
      line: { color: PIN_COLORS[i % PIN_COLORS.length], width: 5 },
      hoverinfo: "skip",
    };
  }

  // Iterate t of the run on show, and of the pinned runs racing it (each up to its own end).
  // `dragging`: θ₀ or η is being dragged; only the path's own scene is redrawn.
  show(run, race, dragging = false) {
    const t = Math.min(race, run.path.length - 1);
    const p = this.lifted(run.path, run.loss, t);
    const [cx, cy] = run.path[t];
    const shown = p.x.length && p.x.at(-1) === cx && p.y.at(-1) === cy;
    const cur = shown ? { x: [cx], y: [cy], z: [p.z.at(-1)] } : { x: [], y: [], z: [] };
    const start = p.x.length ? { x: [p.x[0]], y: [p.y[0]], z: [p.z[0]] } : { x: [], y: [], z: [] };
    const pins = this.pins.map((pin) =>
      pin.run ? this.lifted(pin.run.path, pin.run.loss, race) : { x: [], y: [], z: [] },
    );
    const d = this.surface.domain;
    const changes = changesUpTo(run, t).filter(
      ({ theta: [x, y], loss }) =>
        x >= d.x[0] && x <= d.x[1] && y >= d.y[0] && y <= d.y[1] && loss <= this.zhi,
    );
    const marks = {
      x: changes.map((c) => c.theta[0]),
      y: changes.map((c) => c.theta[1]),
      z: changes.map((c) => c.loss + this.lift),
    };
    if (dragging) return this.showDragged(run, race, [p, cur, start, marks]);
    if (this.dragging && this.pointerDown) return Promise.resolve(); // a late paced redraw
    const settled = this.dragging;
    this.dragging = false;
    clearTimeout(this.settle);
    const all = [...pins, p, cur, start, marks];
    const idx = [
      ...pins.map((_, i) => this.firstPin + i),
      this.first,
      this.first + 1,
      this.first + 2,
      this.marks,
    ];
    const drawn = Plotly.restyle(
      this.div,
      { x: all.map((a) => a.x), y: all.map((a) => a.y), z: all.map((a) => a.z) },
      idx,
    );
    // the canvas goes once the scene has the path, so that the path never blinks out
    return settled ? drawn.finally(() => this.dragging || this.flat.hide()) : drawn;
  }

  showDragged(run, race, parts) {
    this.last = [run, race];
    if (this.pointerDown) clearTimeout(this.settle);
    else this.settleLater();
    this.flat.draw({ ...this.scene, camera: this.div.layout?.scene?.camera }, parts);
    if (this.dragging) return Promise.resolve();
    // The drag starts: the scene drops its path, drawn on the canvas from now on.
    this.dragging = true;
    const idx = [this.first, this.first + 1, this.first + 2, this.marks];
    const none = idx.map(() => []);
    return Plotly.restyle(this.div, { x: none, y: none, z: none }, idx);
  }
}
