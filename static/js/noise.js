// SGD's noise cloud (issue 19 part 1): for minibatch SGD on a dataset, POST /api/noise predicts
// the stationary covariance Σ around θ* and measures the run's own cloud over its second half.
// The contour gets, in an SVG layer of its own, the 1σ and 2σ ellipses of the predicted Σ around
// θ* and the measured iterates as dots; a box over the plot's top-right corner holds the batch
// size (a log-scale slider, 1 … n), the sampling, and the readout: tr Σ predicted (Lyapunov, and
// exact for least squares) beside measured, and the gradient noise scale. Changing B or the
// sampling asks main.js for a new run (onData), whose cloud is then fetched.
import { postNoise } from "./api.js";
import { num } from "./format.js";
import { INK, svg } from "./plotkit.js";

const Plotly = window.Plotly;
export const CLOUD_COLOR = "#e4007c";
const MAX_DOTS = 1500; // dots drawn at most (the cloud's look does not need all 5,000)
const SLIDER_STEPS = 1000;
export const SAMPLINGS = {
  epoch: "reshuffle each epoch",
  with_replacement: "with replacement",
  without_replacement: "fresh subset each step",
};

// The settings a noise cloud is for, from a descent body, or null when the run is not minibatch
// SGD (plain GD at a constant η with a batch size) on a dataset.
export function noiseBody(body) {
  const o = body.optimizer;
  const plain =
    o.name === "gd" && !o.line_search && (!o.schedule || o.schedule.name === "constant");
  if (!body.batch_size || !plain || typeof body.surface !== "object" || !body.surface.kind)
    return null;
  return {
    surface: body.surface,
    eta: o.eta,
    batch_size: body.batch_size,
    sampling: body.sampling ?? "epoch",
    run: { theta0: body.theta0, max_steps: body.max_steps, seed: body.seed ?? 0, tol: body.tol },
  };
}

// The 1σ (solid) and 2σ (dashed) ellipses' polylines in `layer`, each with a white halo drawn
// under it (its previousSibling), so they read on any colour of the contour.
export function sigmaRings(layer) {
  const ring = (k, dash) => {
    const common = { "data-k": k, fill: "none", "stroke-dasharray": dash };
    svg("polyline", { ...common, stroke: "#ffffff", "stroke-width": "4.5" }, layer);
    return svg("polyline", { ...common, stroke: INK, "stroke-width": "2.2" }, layer);
  };
  return [ring(1, ""), ring(2, "7 4")];
}

// B on a log scale: slider position v ∈ [0, SLIDER_STEPS] ↔ B = n^(v/SLIDER_STEPS).
const batchAt = (v, n) => Math.max(1, Math.min(n, Math.round(n ** (v / SLIDER_STEPS))));
const positionOf = (b, n) => (n > 1 ? Math.round((SLIDER_STEPS * Math.log(b)) / Math.log(n)) : 0);

function el(tag, cls, text = "") {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text) e.textContent = text;
  return e;
}

export class NoiseView {
  // view: the ContourView; toggle: the checkbox (its label is shown only where a cloud can be);
  // onToggle(on); onData({ batch, sampling }): the user moved B or changed the sampling.
  constructor(view, { toggle, onToggle, onData }) {
    this.view = view;
    this.toggle = toggle;
    this.onData = onData;
    this.on = false;
    this.data = null; // the API's answer for `key` (or { key, error })
    this.key = null;
    this.current = null; // { run, t }
    // Over the run's path: near θ* the path is a scribble that would hide the ellipses.
    this.layer = view.addLayer({ class: "noiselayer", "data-testid": "noise" }, (r) =>
      this.redraw(r),
    );
    this.cloud = svg("g", { class: "noise-cloud", fill: CLOUD_COLOR, opacity: "0.55" }, this.layer);
    this.rings = sigmaRings(this.layer);
    this.buildBox();
    toggle.addEventListener("change", () => {
      this.set(toggle.checked);
      onToggle?.(this.on);
    });
    new ResizeObserver(() => this.redraw()).observe(view.frame);
  }

  buildBox() {
    const box = el("div", "noise-box");
    box.dataset.testid = "noise-readout";
    box.hidden = true;
    const controls = el("div", "noise-controls");
    const label = el("label", "", "B ");
    this.slider = el("input");
    Object.assign(this.slider, { type: "range", min: "0", max: String(SLIDER_STEPS), step: "1" });
    this.slider.id = "noise-batch";
    this.slider.setAttribute("aria-label", "Batch size B, on a log scale from 1 to n");
    this.batchText = el("output", "noise-b");
    label.append(this.slider, this.batchText);
    this.sampling = el("select");
    this.sampling.id = "noise-sampling";
    this.sampling.setAttribute("aria-label", "How each step's batch is drawn");
    for (const [value, text] of Object.entries(SAMPLINGS))
      this.sampling.append(new Option(text, value));
    this.zoom = el("button", "btn small noise-zoom");
    this.zoom.type = "button";
    this.zoom.dataset.testid = "noise-zoom";
    this.zoom.addEventListener("click", () => {
      this.zoomed = !this.zoomed;
      this.frameView();
    });
    controls.append(label, this.sampling, this.zoom);
    this.lines = el("div", "noise-lines");
    box.append(controls, this.lines);
    // A row between the contour's caption and its plot: the plot keeps all of its area.
    const plot = this.view.frame.closest(".plotbox");
    plot.parentElement.insertBefore(box, plot);
    this.box = box;
    this.zoomed = true; // the cloud is tiny on the whole surface: show it close up
    const n = () => this.n ?? 1;
    this.slider.addEventListener("input", () => {
      this.batchText.value = `${batchAt(this.slider.valueAsNumber, n())} of ${n()}`;
    });
    this.slider.addEventListener("change", () =>
      this.onData?.({ batch: batchAt(this.slider.valueAsNumber, n()) }),
    );
    this.sampling.addEventListener("change", () =>
      this.onData?.({ sampling: this.sampling.value }),
    );
  }

  // On or off (main.js calls it with state.noise).
  set(on) {
    const was = this.on;
    this.on = Boolean(on);
    this.toggle.checked = this.on;
    if (was !== this.on) this.frameView();
    if (this.current) this.show(this.current.run, this.current.t);
    else this.redraw();
  }

  // The settings on show (main.js, on every change): the toggle is offered for minibatch SGD on
  // a dataset only; n is the data's size (the slider's end).
  offer(body, n) {
    const settings = noiseBody(body);
    if (JSON.stringify([settings, n]) === JSON.stringify([this.settings, this.n])) return;
    this.settings = settings;
    this.n = n;
    this.toggle.closest("label").hidden = !this.settings;
    if (this.settings) {
      this.slider.value = String(positionOf(this.settings.batch_size, n));
      this.batchText.value = `${Math.min(this.settings.batch_size, n)} of ${n}`;
      this.sampling.value = this.settings.sampling;
    }
    this.redraw();
  }

  // The iterate on show (views.onShow): a finished run from θ₀ whose cloud is not on hand asks
  // for it.
  show(run, t) {
    this.current = { run, t };
    if (!this.on) return this.redraw();
    const body = run.done && run.segments.length === 1 ? noiseBody(run.body) : null;
    const key = body && JSON.stringify(body);
    if (key && key !== this.key) {
      this.key = key;
      this.load(body, key);
    }
    this.redraw();
  }

  async load(body, key) {
    this.abort?.abort();
    this.abort = new AbortController();
    this.box.dataset.state = "loading";
    this.redraw();
    try {
      this.data = { ...(await postNoise(body, this.abort.signal)), key };
      this.box.dataset.state = "ready";
      this.frameView();
    } catch (err) {
      if (err.name === "AbortError") return;
      this.data = { key, error: err.message };
      this.box.dataset.state = "error";
    }
    this.redraw();
  }

  // The answer for the run on show, or null.
  shown() {
    const run = this.current?.run;
    if (!run || !this.data || run.segments.length !== 1) return null;
    const body = noiseBody(run.body);
    return body && this.data.key === JSON.stringify(body) ? this.data : null;
  }

  redraw(ranges = null) {
    const visible = this.on && Boolean(this.settings);
    this.layer.style.display = visible ? "" : "none";
    this.box.hidden = !visible;
    this.view.frame.classList.toggle("noise-on", visible); // app.css dims the paths under it
    if (!visible || !this.view.div.layout) return;
    const d = this.shown();
    const ok = d && !d.error;
    const map = this.view.mapper(ranges);
    for (const [i, ring] of this.rings.entries()) {
      const pts = ok ? d.predicted.ellipses[i].points : [];
      const text = pts.map((p) => map(p[0], p[1]).join(",")).join(" ");
      ring.setAttribute("points", text);
      ring.previousSibling.setAttribute("points", text); // its white halo
    }
    const cloud = ok && d.measured ? d.measured.path : [];
    const stride = Math.max(1, Math.ceil(cloud.length / MAX_DOTS));
    const dots = [];
    for (let i = 0; i < cloud.length; i += stride) {
      const [x, y] = map(cloud[i][0], cloud[i][1]);
      dots.push(svg("circle", { cx: x.toFixed(1), cy: y.toFixed(1), r: "1.4" }));
    }
    this.cloud.replaceChildren(...dots);
    this.cloud.dataset.count = String(cloud.length);
    this.readout(d);
  }

  readout(d) {
    const lines = this.lines;
    lines.replaceChildren();
    const box = this.box.dataset;
    for (const k of ["predicted", "exact", "measured", "scale"]) delete box[k];
    if (!d) {
      const done = this.current?.run.done;
      lines.append(
        el("div", "noise-note", done ? "Predicting the cloud…" : "Waiting for the run…"),
      );
      return;
    }
    if (d.error) {
      lines.append(el("div", "noise-error", d.error));
      return;
    }
    const p = d.predicted.trace;
    box.predicted = String(p);
    let text = `tr Σ predicted ${num(p, 3)}`;
    if (d.exact) {
      box.exact = String(d.exact.trace);
      text += ` (exact ${num(d.exact.trace, 3)})`;
    }
    const head = el("span", "noise-head", text);
    head.title = `${d.equation}; the exact value also counts the minibatch Hessian's randomness`;
    const trace = el("div");
    trace.append(head);
    if (d.measured) {
      const m = d.measured;
      box.measured = String(m.trace);
      const ratio = m.ratio === null ? "" : ` (${num(m.ratio, 3)}×)`;
      const span = el("span", "", `, measured ${num(m.trace, 3)}${ratio}`);
      span.title =
        `The mean of (θ_t − θ*)(θ_t − θ*)ᵀ over the run's second half, ` +
        `t = ${m.from_t}…${m.to_t} (the dots)`;
      trace.append(span);
    }
    lines.append(trace);
    const s = d.noise_scale;
    if (s.at_theta0 !== null) box.scale = String(s.at_theta0);
    const scale = el("div", "", `B_simple ${num(s.at_theta0, 3)} at θ₀, unbounded at θ*`);
    scale.title = `The gradient noise scale tr C/|G|². ${s.message}`;
    lines.append(scale);
    if (d.sampling === "epoch") lines.append(el("div", "noise-note", d.note));
  }

  // The contour's axes: close up, θ* ± 3 standard deviations of the B = 1 cloud (Σ/c_B, the
  // same window at every B and sampling, so the ellipses' sizes compare), or the whole surface.
  frameView() {
    this.zoom.textContent = this.zoomed ? "Zoom out" : "Zoom in";
    this.zoom.title = this.zoomed
      ? "Show the whole surface"
      : "Close up on θ*: ±3 standard deviations of the B = 1 cloud, the same at every B";
    const d = this.shown();
    const div = this.view.div;
    if (!d || d.error || !div.layout) return;
    let ranges = this.view.surface?.domain;
    if (this.on && this.zoomed && d.factor > 0) {
      const [w, b] = d.theta_star;
      const half = (i) => 3 * Math.sqrt(d.predicted.sigma[i][i] / d.factor);
      ranges = { x: [w - half(0), w + half(0)], y: [b - half(1), b + half(1)] };
    }
    if (ranges)
      Plotly.relayout(div, { "xaxis.range": [...ranges.x], "yaxis.range": [...ranges.y] });
  }
}
