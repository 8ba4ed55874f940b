// The contour (2-D) view. Built once per surface (and set of pinned runs) with Plotly.react.

import { setAttr } from "./dom.js";
import { paramNames } from "./params.js";
import {
  arrows,
  COLORSCALE,
  CROWDED,
  FONT,
  INK,
  LANDMARK_STYLE,
  landmarkMarkers,
  PIN_COLORS,
  PLOT_CONFIG,
  RUN_COLOR,
  rangesOf,
  screenPoints,
  svg,
  thin,
} from "./plotkit.js";
import { drawChanges } from "./resume.js";

const Plotly = window.Plotly;
// The contour's margins are fixed (autoexpand off): the overlay and the drag map pixels to data
// through them, so a colorbar must not be allowed to push them.
const MARGIN = { l: 46, r: 76, t: 12, b: 38, autoexpand: false };

// Plotly draws the contour, the landmarks, the pinned runs and θ₀ (an editable shape). The current
// path, iterate and arrows change every frame, so they live in an SVG overlay of our own over the
// plot area: redrawing it costs well under a millisecond, while any Plotly route redraws far more
// (and Plotly.animate with redraw:false erases contour traces in plotly.js 4).
export class ContourView {
  // `maxStretch`: how much the plot may stretch one axis against the other to fill its box (1:
  // the domain's own aspect ratio, as gradient arrows need; see size()).
  constructor(frame, div, { maxStretch = 1 } = {}) {
    this.frame = frame; // positions the overlay over the plot area
    this.div = div;
    this.maxStretch = maxStretch;
    this.stretch = 1; // the drawn scale of y against that of x, set by size()
    this.pins = [];
    this.last = null;
    this.overlay = svg("svg", { class: "overlay", "aria-hidden": "true" }, frame);
    this.layers = []; // addLayer's: [svg, redraw]
    const defs = svg("defs", {}, this.overlay);
    const arrowhead = (id, fill) => {
      const m = svg(
        "marker",
        {
          id,
          viewBox: "0 0 10 10",
          refX: "8",
          refY: "5",
          markerWidth: "4.5",
          markerHeight: "4.5",
          orient: "auto-start-reverse",
        },
        defs,
      );
      svg("path", { d: "M0,0 L10,5 L0,10 z", fill, stroke: INK, "stroke-width": "0.8" }, m);
    };
    arrowhead("head-grad", INK);
    arrowhead("head-step", "#ffffff");
    const dot = svg(
      "marker",
      {
        id: "dot",
        viewBox: "0 0 10 10",
        refX: "5",
        refY: "5",
        markerWidth: "3",
        markerHeight: "3",
      },
      defs,
    );
    svg(
      "circle",
      { cx: "5", cy: "5", r: "4", fill: RUN_COLOR, stroke: "#fff", "stroke-width": "1.5" },
      dot,
    );
    // θ₀'s ring while it is dragged (drag.js): Plotly's own ring is hidden meanwhile, since moving
    // it repaints Plotly's whole plot with every pointer move, while the overlay repaints anyway.
    this.dragRing = svg(
      "circle",
      {
        class: "drag-ring",
        r: "9",
        fill: "rgba(255,255,255,0.95)",
        stroke: INK,
        "stroke-width": "2.5",
        visibility: "hidden",
      },
      this.overlay,
    );
    this.pinLayer = svg("g", { class: "pins" }, this.overlay);
    this.pinLines = [];
    this.path = svg(
      "polyline",
      {
        class: "path",
        fill: "none",
        stroke: RUN_COLOR,
        "stroke-width": "2.5",
        "stroke-linejoin": "round",
        "marker-mid": "url(#dot)",
      },
      this.overlay,
    );
    this.changes = svg("g", { class: "changes" }, this.overlay); // where a continued run's settings changed (resume.js)
    this.grad = svg(
      "line",
      { class: "grad", stroke: INK, "stroke-width": "2.2", "marker-end": "url(#head-grad)" },
      this.overlay,
    );
    this.step = svg(
      "line",
      { class: "step", stroke: "#ffffff", "stroke-width": "2.5", "marker-end": "url(#head-step)" },
      this.overlay,
    );
    this.current = svg(
      "circle",
      { class: "current", r: "6", fill: RUN_COLOR, stroke: "#ffffff", "stroke-width": "2" },
      this.overlay,
    );
  }

  // The plot area keeps the domain's aspect ratio, so gradients look perpendicular to contours;
  // with maxStretch > 1, the shorter side may grow up to that factor to fill more of the box.
  size(domain, box) {
    const dx = domain.x[1] - domain.x[0];
    const dy = domain.y[1] - domain.y[0];
    const maxW = Math.max(120, box.width - MARGIN.l - MARGIN.r);
    const maxH = Math.max(120, box.height - MARGIN.t - MARGIN.b);
    let pw = maxW;
    let ph = (pw * dy) / dx;
    if (ph > maxH) {
      ph = maxH;
      pw = Math.min(maxW, ((ph * dx) / dy) * this.maxStretch);
    } else ph = Math.min(maxH, ph * this.maxStretch);
    this.stretch = ph / dy / (pw / dx);
    return {
      width: Math.round(pw + MARGIN.l + MARGIN.r),
      height: Math.round(ph + MARGIN.t + MARGIN.b),
    };
  }

  // Client pixels ↔ data, from public layout values only (size, margins, axis ranges). `r`: the
  // plot's client rectangle, when the caller knows it (reading it lays out a changed page).
  toData(clientX, clientY, r = this.div.getBoundingClientRect()) {
    const { width, height, xaxis, yaxis } = this.div.layout;
    const fx = (clientX - r.left - MARGIN.l) / (width - MARGIN.l - MARGIN.r);
    const fy = (clientY - r.top - MARGIN.t) / (height - MARGIN.t - MARGIN.b);
    return [
      xaxis.range[0] + fx * (xaxis.range[1] - xaxis.range[0]),
      yaxis.range[1] - fy * (yaxis.range[1] - yaxis.range[0]),
    ];
  }

  // Show θ₀'s dragged ring at client pixels (x, y), measured from the plot's rect `r`; null hides
  // it, and shows Plotly's own again.
  showDragRing(point, r) {
    const on = point !== null;
    if (on !== this.div.classList.contains("theta0-dragged")) {
      this.div.classList.toggle("theta0-dragged", on);
      this.dragRing.setAttribute("visibility", on ? "visible" : "hidden");
    }
    if (!on) return;
    setAttr(this.dragRing, "cx", (point[0] - r.left - MARGIN.l).toFixed(1));
    setAttr(this.dragRing, "cy", (point[1] - r.top - MARGIN.t).toFixed(1));
  }

  toPixels(x, y, ranges = null) {
    const r = this.div.getBoundingClientRect();
    const [px, py] = this.mapper(ranges)(x, y);
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
    const area = {
      left: `${MARGIN.l}px`,
      top: `${MARGIN.t}px`,
      width: `${width - MARGIN.l - MARGIN.r}px`,
      height: `${height - MARGIN.t - MARGIN.b}px`,
    };
    Object.assign(this.overlay.style, area);
    for (const [layer] of this.layers) Object.assign(layer.style, area);
  }

  // An SVG layer of a view of its own (flow.js, noise.js, netnoise.js) over the plot area, above
  // the run's path, kept in place with the overlay; `redraw(ranges)` is called on every pan and
  // zoom (with the live ranges while Plotly drags) and after every plot. Hidden until shown.
  addLayer(attrs, redraw) {
    const layer = svg("svg", { "aria-hidden": "true", ...attrs });
    layer.style.display = "none";
    (this.layers.at(-1)?.[0] ?? this.overlay).after(layer);
    this.layers.push([layer, redraw]);
    if (this.div.layout) this.placeOverlay();
    return layer;
  }

  followers(ranges = null) {
    for (const [, redraw] of this.layers) redraw(ranges);
  }

  async build(surface, grid, colors, theta0, pins, box) {
    this.surface = surface;
    const d = surface.domain;
    this.arrowScale = 0.07 * Math.hypot(d.x[1] - d.x[0], d.y[1] - d.y[0]);
    const marks = landmarkMarkers(surface);
    const traces = [
      {
        type: "contour",
        x: grid.x,
        y: grid.y,
        z: colors.z,
        colorscale: COLORSCALE,
        ncontours: 28,
        contours: { coloring: "heatmap", showlines: true },
        line: { width: 0.6, color: "rgba(29,36,51,0.28)", smoothing: 0.85 },
        colorbar: {
          ...colors.colorbar,
          thickness: 10,
          len: 0.9,
          outlinewidth: 0,
          tickfont: { size: 10 },
        },
        hoverinfo: "skip",
      },
      ...Object.entries(marks).map(([kind, m]) => ({
        type: "scatter",
        mode: "markers",
        x: m.x,
        y: m.y,
        customdata: m.value,
        ...LANDMARK_STYLE[kind],
        ...(m.x.length > CROWDED
          ? { marker: { ...LANDMARK_STYLE[kind].marker, size: 5, line: { color: INK, width: 1 } } }
          : {}),
        hovertemplate: `${LANDMARK_STYLE[kind].name}<br>(%{x:.4g}, %{y:.4g})<br>L = %{customdata:.4g}<extra></extra>`,
      })),
    ];
    this.setPins(pins);
    const [xName, yName] = paramNames(surface);
    const { width, height } = this.size(d, box);
    const layout = {
      width,
      height,
      margin: MARGIN,
      font: FONT,
      showlegend: false,
      dragmode: "pan",
      hovermode: "closest",
      clickanywhere: true,
      paper_bgcolor: "rgba(0,0,0,0)",
      plot_bgcolor: "#ffffff",
      xaxis: {
        range: [...d.x],
        title: { text: xName, standoff: 4 },
        zeroline: false,
        showgrid: false,
        ticks: "outside",
        ticklen: 4,
      },
      yaxis: {
        range: [...d.y],
        title: { text: yName, standoff: 4 },
        zeroline: false,
        showgrid: false,
        ticks: "outside",
        ticklen: 4,
      },
      shapes: [this.theta0Shape(theta0)],
    };
    await Plotly.react(this.div, traces, layout, {
      ...PLOT_CONFIG,
      edits: { shapePosition: true },
      scrollZoom: true,
    });
    if (!this.wired) {
      this.wired = true;
      // Follow pans and zooms, live while they happen.
      this.div.on("plotly_relayouting", (e) => {
        const ranges = rangesOf(e, this.div.layout);
        this.redraw(ranges);
        this.followers(ranges);
      });
      this.div.on("plotly_relayout", () => {
        this.redraw();
        this.followers();
      });
      this.div.on("plotly_afterplot", () => this.followers());
    }
    this.placeOverlay();
    this.redraw();
  }

  theta0Shape([x, y]) {
    return {
      type: "circle",
      xref: "x",
      yref: "y",
      xsizemode: "pixel",
      ysizemode: "pixel",
      xanchor: x,
      yanchor: y,
      x0: -9,
      x1: 9,
      y0: -9,
      y1: 9,
      fillcolor: "rgba(255,255,255,0.95)",
      line: { color: INK, width: 2.5 },
      editable: true,
    };
  }

  // The pinned runs race the current one: each is drawn up to the iterate on show, with a head.
  setPins(pins) {
    this.pins = pins;
    this.pinLines = pins.map((_pin, i) => {
      const color = PIN_COLORS[i % PIN_COLORS.length];
      return {
        line: svg("polyline", {
          fill: "none",
          stroke: color,
          "stroke-width": "2.2",
          "stroke-linejoin": "round",
          opacity: "0.95",
        }),
        head: svg("circle", { r: "4.5", fill: color, stroke: INK, "stroke-width": "1.2" }),
      };
    });
    this.pinLayer.replaceChildren(...this.pinLines.flatMap((p) => [p.line, p.head]));
  }

  drawPins(map, upto) {
    this.pins.forEach((pin, i) => {
      const { line, head } = this.pinLines[i];
      const path = pin.run ? pin.run.path : [];
      const t = Math.min(upto, path.length - 1);
      if (t < 0) {
        line.setAttribute("points", "");
        head.setAttribute("visibility", "hidden");
        return;
      }
      line.setAttribute("points", points(map, thin(path, t)));
      const [hx, hy] = map(...path[t]);
      const seen = Number.isFinite(hx) && Number.isFinite(hy);
      if (seen) {
        head.setAttribute("cx", hx.toFixed(1));
        head.setAttribute("cy", hy.toFixed(1));
      }
      head.setAttribute("visibility", seen ? "visible" : "hidden");
    });
  }

  moveTheta0(theta0) {
    return Plotly.relayout(this.div, {
      "shapes[0].xanchor": theta0[0],
      "shapes[0].yanchor": theta0[1],
    });
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
    if (!this.div.layout) return;
    const map = this.mapper(ranges);
    // Without a run on show the pins are drawn whole; with one, up to its iterate (a race).
    this.drawPins(map, this.last ? this.last.t : Infinity);
    if (!this.last) {
      [this.path, this.grad, this.step, this.current].forEach(hide);
      drawChanges(this.changes, map, null, 0);
      return;
    }
    const { run } = this.last;
    const t = Math.min(this.last.t, run.path.length - 1);
    const xy = thin(run.path, t);
    this.path.setAttribute("points", points(map, xy));
    this.path.setAttribute("marker-mid", xy.x.length <= 400 ? "url(#dot)" : "none");
    this.path.setAttribute("visibility", "visible");
    drawChanges(this.changes, map, run, t);
    const [cx, cy] = map(...run.path[t]);
    if (Number.isFinite(cx) && Number.isFinite(cy)) {
      this.current.setAttribute("cx", cx.toFixed(1));
      this.current.setAttribute("cy", cy.toFixed(1));
      this.current.setAttribute("visibility", "visible");
    } else {
      hide(this.current);
    }
    const { grad, step } = arrows(run, t, this.arrowScale);
    for (const [el, seg] of [
      [this.grad, grad],
      [this.step, step],
    ]) {
      if (!seg.x.length) {
        hide(el);
        continue;
      }
      const [x1, y1] = map(seg.x[0], seg.y[0]);
      const [x2, y2] = map(seg.x[1], seg.y[1]);
      // A step shorter than its own arrowhead is not drawn: it would point nowhere readable.
      if (!(Math.hypot(x2 - x1, y2 - y1) >= 6)) {
        hide(el);
        continue;
      } // NaN too
      for (const [k, v] of Object.entries({ x1, y1, x2, y2 })) el.setAttribute(k, v.toFixed(1));
      el.setAttribute("visibility", "visible");
    }
  }
}

// An SVG polyline's points (plotkit.js screenPoints), to a tenth of a pixel.
function points(map, xy) {
  const at = (i) => map(xy.x[i], xy.y[i]);
  return screenPoints(xy.x.length, at)
    .map(([px, py]) => `${Math.round(px * 10) / 10},${Math.round(py * 10) / 10}`)
    .join(" ");
}
