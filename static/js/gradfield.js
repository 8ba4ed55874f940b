// The gradient field (issue 8, lesson 1: "the gradient points uphill"): ∇L sampled on a grid by the
// API (GET /api/surfaces/{id}/field, POST /api/field) and drawn as arrows in an SVG layer of its
// own, under the contour's path overlay, with −∇L at the current iterate. The layer follows pans
// and zooms like the overlay (plotly_relayouting / plotly_relayout), refetches the field for the
// part of the domain in view when a pan or zoom ends and when the surface changes, and is redrawn
// on resize.
//
// Arrows point uphill (∇L). Their length grows with |∇L| but is compressed, |∇L| / (|∇L| + m)
// with m half the median |∇L| on show, so gentle slopes still show an arrow while steep walls do not
// swamp the plot; where L is flat (at a minimum) the arrows shrink away.
import { fetchField } from "./api.js";
import { INK, rangesOf, svg } from "./plotkit.js";

export const NEG_COLOR = "#e0007a"; // −∇L at the current iterate: no other mark on the contour is magenta
// px between arrows on screen: about 11 across the plot, but never crowded nor sparse
const spacingFor = (size) => Math.max(28, Math.min(40, size / 11));
const MIN_N = 5;
const MAX_N = 60; // the API's caps
const MIN_LENGTH = 3; // px: a shorter arrow is only a head, pointing nowhere readable
const LIMIT = 1e6; // the API's bound on coordinates

const clampCoord = (v) => Math.max(-LIMIT, Math.min(LIMIT, Number(v.toPrecision(8))));

export class GradField {
  // view: the ContourView; toggle: the checkbox; onToggle(on): the user flipped it (main.js keeps
  // the state and the URL).
  constructor(view, { toggle, onToggle }) {
    this.view = view;
    this.toggle = toggle;
    this.on = false;
    this.field = null; // { id, x, y, gx, gy, median, top } once fetched
    this.key = null; // what the field on hand (or in flight) was asked for
    this.current = null; // { run, t }: the iterate on show
    this.lines = [];
    this.layer = svg("svg", {
      class: "gradfield",
      "aria-hidden": "true",
      "data-testid": "gradfield",
    });
    this.layer.style.display = "none";
    view.frame.insertBefore(this.layer, view.overlay); // under the path, the iterate and θ₀
    const defs = svg("defs", {}, this.layer);
    const head = (id, fill, size) => {
      const m = svg(
        "marker",
        {
          id,
          viewBox: "0 0 10 10",
          refX: "7",
          refY: "5",
          markerWidth: size,
          markerHeight: size,
          orient: "auto",
        },
        defs,
      );
      svg("path", { d: "M0,0.5 L10,5 L0,9.5 z", fill }, m);
    };
    head("gf-head", INK, "4.6");
    head("gf-neg-head", NEG_COLOR, "3.6");
    this.arrows = svg(
      "g",
      { class: "gf-arrows", stroke: INK, "stroke-width": "1.2", "stroke-linecap": "round" },
      this.layer,
    );
    this.neg = svg(
      "line",
      {
        class: "gf-neg",
        stroke: NEG_COLOR,
        "stroke-width": "3",
        "stroke-linecap": "round",
        "marker-end": "url(#gf-neg-head)",
      },
      this.layer,
    );
    toggle.addEventListener("change", () => {
      this.set(toggle.checked);
      onToggle?.(this.on);
    });
    new ResizeObserver(() => this.sync()).observe(view.frame);
  }

  // Turn the field on or off (what a lesson calls; main.js calls it with state.field).
  set(on) {
    this.on = Boolean(on);
    this.toggle.checked = this.on;
    this.layer.style.display = this.on ? "" : "none";
    if (!this.on) {
      this.abort?.abort();
      this.key = this.field?.key ?? null;
    }
    this.sync();
  }

  // The iterate on show (views.onShow): −∇L is drawn there.
  show(run, t) {
    this.current = { run, t };
    if (this.on && this.view.div.layout) this.drawNeg(this.view.mapper());
  }

  wire() {
    const div = this.view.div;
    if (this.wired || typeof div.on !== "function") return;
    this.wired = true;
    div.on("plotly_relayouting", (e) => this.on && this.redraw(rangesOf(e, div.layout)));
    div.on("plotly_relayout", () => this.sync());
    div.on("plotly_afterplot", () => this.sync()); // a new surface (Plotly.react) or pins redrawn
  }

  // What the plot on show asks for: the surface, the part of its domain in view (where the contour
  // is drawn) and the arrows per axis; box is null when none of the domain is in view.
  wanted() {
    const { surface, div } = this.view;
    const layout = div.layout;
    if (!surface || !layout?.xaxis?.range || !layout.margin) return null;
    const pw = layout.width - layout.margin.l - layout.margin.r;
    const ph = layout.height - layout.margin.t - layout.margin.b;
    this.spacing = spacingFor(Math.max(pw, ph));
    const [xr, yr, d] = [layout.xaxis.range, layout.yaxis.range, surface.domain];
    const [x0, x1] = [Math.max(xr[0], d.x[0]), Math.min(xr[1], d.x[1])];
    const [y0, y1] = [Math.max(yr[0], d.y[0]), Math.min(yr[1], d.y[1])];
    const size = Math.max(((x1 - x0) * pw) / (xr[1] - xr[0]), ((y1 - y0) * ph) / (yr[1] - yr[0])); // px
    const n = Math.max(MIN_N, Math.min(MAX_N, Math.round(size / this.spacing)));
    // Samples at the centres of n × n cells, so no arrow is cut by the edge.
    const hx = (x1 - x0) / (2 * n);
    const hy = (y1 - y0) / (2 * n);
    let box = {
      xmin: clampCoord(x0 + hx),
      xmax: clampCoord(x1 - hx),
      ymin: clampCoord(y0 + hy),
      ymax: clampCoord(y1 - hy),
    };
    if (!(box.xmin < box.xmax && box.ymin < box.ymax)) box = null; // NaN too
    return { id: surface.id, n, box, key: JSON.stringify([surface.id, n, box]) };
  }

  sync() {
    this.wire();
    if (!this.on) return;
    this.place();
    const want = this.wanted();
    if (want && want.key !== this.key) {
      this.key = want.key;
      clearTimeout(this.timer);
      // A new surface at once; a pan or zoom once it has settled (the old arrows follow meanwhile).
      if (this.field?.id === want.id) this.timer = setTimeout(() => this.load(want), 150);
      else this.load(want);
    }
    this.redraw();
  }

  async load({ id, n, box, key }) {
    this.abort?.abort();
    this.abort = new AbortController();
    if (!box) {
      this.field = { id, key, x: [], y: [], gx: [], gy: [], median: 0, top: 0 };
      this.redraw();
      return;
    }
    try {
      const f = await fetchField(id, n, box, this.abort.signal);
      const mags = [];
      for (let j = 0; j < n; j++) {
        for (let i = 0; i < n; i++) {
          const m = Math.hypot(f.gx[j][i], f.gy[j][i]);
          if (f.gx[j][i] !== null && f.gy[j][i] !== null && Number.isFinite(m)) mags.push(m);
        }
      }
      mags.sort((a, b) => a - b);
      const median = mags.length ? mags[mags.length >> 1] : 0;
      const top = mags.length ? mags[mags.length - 1] : 0;
      this.field = { ...f, id, key, median, top };
      delete this.toggle.closest("label")?.dataset.error;
      this.redraw();
    } catch (err) {
      if (err.name === "AbortError") return;
      this.key = null; // try again at the next change
      const label = this.toggle.closest("label");
      if (label) label.dataset.error = `The gradient field could not be loaded: ${err.message}`;
    }
  }

  // Over the plot area, as the contour's overlay (the layout's margins are the contour's).
  place() {
    const { width, height, margin: m } = this.view.div.layout ?? {};
    if (!width || !m) return;
    Object.assign(this.layer.style, {
      left: `${m.l}px`,
      top: `${m.t}px`,
      width: `${width - m.l - m.r}px`,
      height: `${height - m.t - m.b}px`,
    });
  }

  redraw(ranges = null) {
    if (!this.on || !this.view.div.layout) return;
    const map = this.view.mapper(ranges);
    const f = this.field;
    let shown = 0;
    if (f && this.view.surface && f.id === this.view.surface.id) shown = this.drawArrows(f, map);
    for (let k = shown; k < this.lines.length; k++)
      this.lines[k].setAttribute("visibility", "hidden");
    this.layer.dataset.count = String(shown);
    this.drawNeg(map);
  }

  drawArrows(f, map) {
    const n = f.x.length;
    if (n < 2) return 0;
    const [ox, oy] = map(f.x[0], f.y[0]);
    const [px, py] = map(f.x[n - 1], f.y[n - 1]);
    const kx = (px - ox) / (f.x[n - 1] - f.x[0]); // px per data unit
    const ky = (oy - py) / (f.y[n - 1] - f.y[0]);
    const dx = Math.abs(px - ox) / (n - 1); // px between samples
    const dy = Math.abs(py - oy) / (n - 1);
    // The shorter side has the same n, so its samples are closer: thin them to the spacing.
    const sx = Math.max(1, Math.round((0.8 * this.spacing) / dx));
    const sy = Math.max(1, Math.round((0.8 * this.spacing) / dy));
    const longest = 0.85 * Math.min(dx * sx, dy * sy);
    const m0 = f.median > 0 ? f.median / 2 : 1; // the median arrow is 2/3 of the longest
    const sTop = f.top / (f.top + m0) || 1;
    let k = 0;
    const i0 = ((n - 1) % sx) >> 1; // centre the thinned grid
    const j0 = ((n - 1) % sy) >> 1;
    for (let j = j0; j < n; j += sy) {
      for (let i = i0; i < n; i += sx) {
        const gx = f.gx[j][i];
        const gy = f.gy[j][i];
        if (gx === null || gy === null) continue;
        const ux = gx * kx;
        const uy = -gy * ky; // screen y grows downwards
        const un = Math.hypot(ux, uy);
        const mag = Math.hypot(gx, gy);
        const len = (longest * (mag / (mag + m0))) / sTop;
        if (!(un > 0) || !(len >= MIN_LENGTH)) continue;
        const [cx, cy] = map(f.x[i], f.y[j]);
        const hx = (0.5 * len * ux) / un;
        const hy = (0.5 * len * uy) / un;
        let line = this.lines[k];
        if (!line) {
          line = svg("line", { "marker-end": "url(#gf-head)" }, this.arrows);
          this.lines.push(line);
        }
        line.setAttribute("x1", (cx - hx).toFixed(1));
        line.setAttribute("y1", (cy - hy).toFixed(1));
        line.setAttribute("x2", (cx + hx).toFixed(1));
        line.setAttribute("y2", (cy + hy).toFixed(1));
        line.dataset.x = String(f.x[i]);
        line.dataset.y = String(f.y[j]);
        line.setAttribute("visibility", "visible");
        k += 1;
      }
    }
    return k;
  }

  // −∇L at the current iterate, as long as the contour's ∇L arrow (the opposite direction).
  drawNeg(map) {
    const hide = () => this.neg.setAttribute("visibility", "hidden");
    const cur = this.current;
    if (!cur || !this.view.last || cur.run !== this.view.last.run) return hide();
    const t = Math.min(cur.t, cur.run.path.length - 1);
    const p = cur.run.path[t];
    const g = cur.run.grad[t];
    const gn = Math.hypot(g[0], g[1]);
    const scale = this.view.arrowScale;
    // Within the run's tolerance θ_t is a stationary point: no way is down, and the direction of a
    // ∇L of 1e-7 is noise.
    if (!(gn > (cur.run.body?.tol ?? 0)) || !Number.isFinite(gn) || !scale) return hide();
    const [x1, y1] = map(p[0], p[1]);
    const [x2, y2] = map(p[0] - (scale * g[0]) / gn, p[1] - (scale * g[1]) / gn);
    if (!(Math.hypot(x2 - x1, y2 - y1) >= 6)) return hide(); // NaN too
    for (const [key, v] of Object.entries({ x1, y1, x2, y2 })) {
      this.neg.setAttribute(key, v.toFixed(1));
    }
    this.neg.setAttribute("visibility", "visible");
    return undefined;
  }
}
