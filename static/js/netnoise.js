// SGD's noise cloud on the network page (issue 19.1 on networks): POST /api/networks/noise
// predicts, at the run's final θ (the slice's centre), the stationary covariance of minibatch
// SGD and shows it on the slice's own plane as 1σ and 2σ ellipses around α = β = 0, with the
// second half of an SGD run from θ*, projected, as dots. Drawn in an SVG layer over the slice's
// contour, like the main page's cloud (noise.js); the readout goes under the slice controls.
import { num } from "./format.js";
import { CLOUD_COLOR, sigmaRings } from "./noise.js";
import { svg } from "./plotkit.js";

const Plotly = window.Plotly;
export const MEASURE_STEPS = 4000;

// The body of POST /api/networks/noise for the slice on show (its run, plane and seed).
export function cloudBody(sliceBody, s) {
  return {
    run: sliceBody.run,
    batch_size: s.cloudBatch,
    sampling: s.cloudSampling,
    plane: sliceBody.plane,
    ...(s.cloudEta ? { eta: s.cloudEta } : {}),
    ...(sliceBody.plane === "random" ? { seed: sliceBody.seed ?? 0 } : {}),
    measure_steps: MEASURE_STEPS,
  };
}

export class CloudView {
  // view: the slice's ContourView; readout: the element the numbers go in.
  constructor(view, readout) {
    this.view = view;
    this.readout = readout;
    this.data = null; // the API's answer, or { error }
    this.layer = view.addLayer({ class: "noiselayer", "data-testid": "cloud" }, (r) =>
      this.redraw(r),
    );
    this.dots = svg("g", { fill: CLOUD_COLOR, opacity: "0.55" }, this.layer);
    this.rings = sigmaRings(this.layer);
    new ResizeObserver(() => this.redraw()).observe(view.frame);
  }

  // The state of the request: "loading", an answer, an error message, or null (off).
  loading() {
    this.data = null;
    this.readout.dataset.state = "loading";
    this.readout.textContent = "Predicting the cloud and running SGD from θ*…";
    this.redraw();
  }

  show(data) {
    this.data = data;
    this.readout.dataset.state = "ready";
    this.readout.dataset.predicted = String(data.covariance[0][0] + data.covariance[1][1]);
    const m = data.measured;
    const plane = `on this plane: spread ${num(data.covariance[0][0] + data.covariance[1][1], 3)}`;
    const measured = m ? `, measured ${num(m.trace_ratio, 3)}× that over ${m.steps} steps` : "";
    this.readout.textContent =
      `tr Σ predicted ${num(data.trace_predicted, 3)} over all ${data.n} parameters; ` +
      `${plane}${measured}. Curvatures ${num(data.curvatures.min, 3)} … ` +
      `${num(data.curvatures.max, 3)} (SGD needs η < 2/λ_max = ${num(data.eta_limit, 4)}).` +
      (data.noise_scale_at_theta0 === null
        ? ""
        : ` Gradient noise scale at θ₀: ${num(data.noise_scale_at_theta0, 3)}.`);
    this.readout.title = data.message;
    this.zoom();
    this.redraw();
  }

  fail(message) {
    this.data = { error: message };
    this.readout.dataset.state = "error";
    this.readout.textContent = message;
    this.redraw();
  }

  clear() {
    this.data = null;
    delete this.readout.dataset.state;
    this.readout.textContent = "";
    this.redraw();
  }

  // The slice's axes close up: ±4 standard deviations of the measured or predicted cloud.
  zoom() {
    const d = this.data;
    const div = this.view.div;
    if (!d || d.error || !div.layout) return;
    const c = d.measured ? d.measured.covariance : d.covariance;
    const half = (i) => 4 * Math.sqrt(Math.max(c[i][i], d.covariance[i][i]));
    Plotly.relayout(div, {
      "xaxis.range": [-half(0), half(0)],
      "yaxis.range": [-half(1), half(1)],
    });
  }

  redraw(ranges = null) {
    const d = this.data && !this.data.error ? this.data : null;
    this.layer.style.display = d ? "" : "none";
    if (!d || !this.view.div.layout) return;
    const map = this.view.mapper(ranges);
    for (const [i, ring] of this.rings.entries()) {
      const text = d.ellipses[String(i + 1)].map((p) => map(p[0], p[1]).join(",")).join(" ");
      ring.setAttribute("points", text);
      ring.previousSibling.setAttribute("points", text); // its white halo
    }
    const m = d.measured;
    const dots = [];
    for (let i = 0; m && i < m.alpha.length; i++) {
      const [x, y] = map(m.alpha[i], m.beta[i]);
      dots.push(svg("circle", { cx: x.toFixed(1), cy: y.toFixed(1), r: "1.4" }));
    }
    this.dots.replaceChildren(...dots);
    this.dots.dataset.count = String(dots.length);
  }
}
