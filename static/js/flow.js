// Gradient flow beside the run (issue 19 part 2): POST /api/flow integrates dθ/ds = −∇L from θ₀
// over the run's times s_t = Σ η_k and, for GD at a constant η, the flow of L + (η/4)‖∇L‖²;
// both are drawn on the contour in an SVG layer of their own (over the run's path), with a
// marker on each at the player's t, and a box over the plot gives |θ_t − each curve| at that t
// and says when a curve was cut. The layer follows pans and zooms like the gradient field's.
import { postFlow } from "./api.js";
import { num } from "./format.js";
import { INK, svg } from "./plotkit.js";

const FLOW_COLOR = INK; // on a white halo
const MODIFIED_COLOR = "#ffd400"; // on an ink halo: both stand out at either end of the colour scale
const MAX_DRAWN = 2000; // points per drawn curve
const WAIT_MS = 250; // a run that changes faster than this (a drag) asks for its flow once it rests

function curveLayer(parent, color, halo, dash, name) {
  const g = svg("g", { class: `flow-${name}`, "data-testid": `flow-${name}` }, parent);
  const common = { fill: "none", "stroke-linejoin": "round", "stroke-linecap": "round" };
  const under = svg(
    "polyline",
    { ...common, stroke: halo, "stroke-width": "4.5", opacity: "0.75" },
    g,
  );
  const line = svg(
    "polyline",
    { ...common, stroke: color, "stroke-width": "2.2", "stroke-dasharray": dash },
    g,
  );
  const dot = svg("circle", { r: "4.5", fill: color, stroke: halo, "stroke-width": "1.5" }, g);
  return { g, under, line, dot };
}

export class FlowView {
  // view: the ContourView; toggle: the checkbox; onToggle(on): the user flipped it (main.js keeps
  // the state and the URL).
  constructor(view, { toggle, onToggle }) {
    this.view = view;
    this.toggle = toggle;
    this.on = false;
    this.data = null; // the API's answer for `key`
    this.key = null; // the run body the data (or the request in flight) is for
    this.current = null; // { run, t }
    // over the run's path, which would hide curves that hug it
    this.layer = view.addLayer({ class: "flowlayer", "data-testid": "flow" }, (r) =>
      this.redraw(r),
    );
    this.flow = curveLayer(this.layer, FLOW_COLOR, "#ffffff", "7 4", "curve");
    this.modified = curveLayer(this.layer, MODIFIED_COLOR, INK, "3 3", "modified");
    this.box = document.createElement("div");
    this.box.className = "flow-box";
    this.box.dataset.testid = "flow-readout";
    this.box.hidden = true;
    view.frame.append(this.box);
    toggle.addEventListener("change", () => {
      this.set(toggle.checked);
      onToggle?.(this.on);
    });
    new ResizeObserver(() => this.redraw()).observe(view.frame);
  }

  // On or off (main.js calls it with state.flow).
  set(on) {
    this.on = Boolean(on);
    this.toggle.checked = this.on;
    this.layer.style.display = this.on ? "" : "none";
    this.box.hidden = !this.on;
    if (!this.on) {
      this.abort?.abort();
      clearTimeout(this.timer);
      this.key = this.data?.key ?? null;
    }
    if (this.on && this.current) this.show(this.current.run, this.current.t);
    else this.redraw();
  }

  // The iterate on show (views.onShow): the markers and the readout follow it; a finished run
  // whose flow is not on hand asks for it.
  show(run, t) {
    this.current = { run, t };
    if (!this.on) return;
    if (run.done && run.segments.length === 1) {
      const key = JSON.stringify(run.body);
      if (key !== this.key) {
        this.key = key;
        clearTimeout(this.timer);
        this.timer = setTimeout(() => this.load(run.body, key), this.data ? WAIT_MS : 0);
      }
    }
    this.redraw();
  }

  async load(body, key) {
    this.abort?.abort();
    this.abort = new AbortController();
    this.box.dataset.state = "loading";
    this.redraw();
    try {
      const out = await postFlow(body, this.abort.signal);
      this.data = { ...out, key };
      this.box.dataset.state = "ready";
    } catch (err) {
      if (err.name === "AbortError") return;
      this.data = { key, error: err.message };
      this.box.dataset.state = "error";
    }
    this.redraw();
  }

  // The data for the run on show, or null (another run, a continued run, not fetched yet).
  shown() {
    const cur = this.current;
    const d = this.data;
    if (!cur || !d || cur.run.segments.length !== 1) return null;
    return d.key === JSON.stringify(cur.run.body) ? d : null;
  }

  redraw(ranges = null) {
    if (!this.on || !this.view.div.layout) return;
    this.place();
    const d = this.shown();
    const map = this.view.mapper(ranges);
    const t = this.current ? this.current.t : 0;
    this.drawCurve(this.flow, d && !d.error ? d.flow : null, map, t);
    this.drawCurve(this.modified, d && !d.error ? d.modified : null, map, t);
    this.readout(d, t);
  }

  drawCurve(layer, curve, map, t) {
    const points = curve?.points ?? [];
    if (!points.length) {
      layer.g.setAttribute("visibility", "hidden");
      layer.g.dataset.count = "0";
      return;
    }
    const stride = Math.max(1, Math.ceil(points.length / MAX_DRAWN));
    const drawn = [];
    for (let i = 0; i < points.length; i += stride) drawn.push(map(points[i][0], points[i][1]));
    if ((points.length - 1) % stride) drawn.push(map(...points[points.length - 1]));
    const text = drawn.map(([x, y]) => `${x.toFixed(1)},${y.toFixed(1)}`).join(" ");
    layer.under.setAttribute("points", text);
    layer.line.setAttribute("points", text);
    const [x, y] = map(...points[Math.min(t, points.length - 1)]);
    layer.dot.setAttribute("cx", x.toFixed(1));
    layer.dot.setAttribute("cy", y.toFixed(1));
    layer.g.dataset.count = String(points.length);
    layer.g.dataset.start = JSON.stringify(points[0]);
    layer.g.setAttribute("visibility", "visible");
  }

  readout(d, t) {
    const box = this.box;
    const line = (cls, text, title = "") => {
      const p = document.createElement("div");
      p.className = cls;
      p.textContent = text;
      if (title) p.title = title;
      return p;
    };
    box.replaceChildren();
    delete box.dataset.flowDistance;
    delete box.dataset.modifiedDistance;
    const cur = this.current;
    if (cur && cur.run.segments.length !== 1) {
      box.append(line("flow-note", "The flow is drawn for a run from θ₀, not a continued one."));
      return;
    }
    if (!d) {
      box.append(line("flow-note", "Integrating the gradient flow…"));
      return;
    }
    if (d.error) {
      box.append(line("flow-error", `The gradient flow could not be computed: ${d.error}`));
      return;
    }
    const s = d.times[Math.min(t, d.times.length - 1)];
    const head = line("flow-head", `t = ${t}, s = ${num(s, 3)}: |θₜ − curve|`);
    head.title = "s = Σ η_k over the steps before t: the flow's time at θ_t";
    box.append(head);
    const distance = (name, key, curve, label, title) => {
      const el = document.createElement("span");
      el.className = `flow-dist flow-dist-${name}`;
      el.title = title;
      const swatch = document.createElement("i");
      swatch.className = `k-${name}`;
      swatch.textContent = "╌";
      const value = t < curve.distance.length ? num(curve.distance[t], 3) : "— (cut)";
      if (t < curve.distance.length) box.dataset[key] = String(curve.distance[t]);
      el.append(" ", swatch, ` ${label} ${value}`);
      head.append(el);
    };
    distance("flow", "flowDistance", d.flow, "flow", "dθ/ds = −∇L(θ) from θ₀");
    if (d.modified) {
      distance(
        "modified",
        "modifiedDistance",
        d.modified,
        "modified",
        `The flow of L + (η/4)‖∇L‖², η = ${num(d.eta)}: GD follows it to second order in η`,
      );
    } else {
      box.append(line("flow-note", d.note));
    }
    for (const c of [d.flow, d.modified]) {
      if (c && c.status !== "complete") box.append(line("flow-cut", c.message));
    }
  }

  // The box in the plot area's bottom-left corner.
  place() {
    const ov = this.view.overlay.style;
    Object.assign(this.box.style, {
      left: `calc(${ov.left} + 4px)`,
      top: `calc(${ov.top} + ${ov.height} - 4px)`,
      maxWidth: `calc(${ov.width} - 8px)`,
    });
  }
}
