// The data with the network at θ_t: for 1-D regression the points and the network's function,
// for 2-D classification the points over the decision regions (P(class 1), with the 0.5 edge).
// θ_t follows the player: the nearest θ sent at or before t (the run sends θ every few steps).
// Drawing needs the network's forward pass, written here from the start line's layout (θ as
// torch.nn.utils.parameters_to_vector lays out nn.Sequential(nn.Linear, activation, …)).
import { FONT, INK, PLOT_CONFIG, RUN_COLOR } from "./plotkit.js";

const Plotly = window.Plotly;
const CLASS_COLORS = ["#3d7bff", "#ff8a3d"];
const CURVE_N = 160;
const REGION_N = 60;

// erf by Abramowitz & Stegun 7.1.26 (|error| < 1.5e-7): enough to draw GELU's output.
function erf(x) {
  const s = Math.sign(x);
  const a = Math.abs(x);
  const t = 1 / (1 + 0.3275911 * a);
  const y =
    1 -
    ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) *
      t *
      Math.exp(-a * a);
  return s * y;
}

const ACT = {
  tanh: Math.tanh,
  relu: (z) => (z > 0 ? z : 0),
  gelu: (z) => 0.5 * z * (1 + erf(z / Math.SQRT2)),
};

// The network's outputs at input x (an array) for the flat θ and the start line's layout.
export function forward(theta, layout, activation, x) {
  const act = ACT[activation];
  let h = x;
  const layers = layout.length / 2;
  for (let l = 0; l < layers; l++) {
    const w = layout[2 * l];
    const b = layout[2 * l + 1];
    const [out, inp] = w.shape;
    const next = new Array(out);
    for (let i = 0; i < out; i++) {
      let z = theta[b.offset + i];
      for (let j = 0; j < inp; j++) z += theta[w.offset + i * inp + j] * h[j];
      next[i] = l < layers - 1 ? act(z) : z;
    }
    h = next;
  }
  return h;
}

// P(class 1) from two outputs (softmax), as torch.softmax.
const prob1 = (o) => 1 / (1 + Math.exp(o[0] - o[1]));

export class NetData {
  constructor(div, note) {
    this.div = div;
    this.note = note;
    this.start = null;
    this.theta = null; // the θ drawn, for the tests
  }

  async build(start) {
    this.start = start;
    const d = start.data;
    const X = d.X;
    const classify = d.task === "classification";
    this.classify = classify;
    const col = (k) => X.map((row) => (Array.isArray(row) ? row[k] : row));
    const ys = d.y.map((v) => (Array.isArray(v) ? v[0] : v));
    let traces;
    let layout;
    if (classify && start.architecture.inputs === 2) {
      const xs = col(0);
      const y2 = col(1);
      const pad = (v) => {
        const lo = Math.min(...v);
        const hi = Math.max(...v);
        const m = (hi - lo || 1) * 0.08;
        return [lo - m, hi + m];
      };
      const [x0, x1] = pad(xs);
      const [y0, y1] = pad(y2);
      this.gx = Array.from({ length: REGION_N }, (_, i) => x0 + ((x1 - x0) * i) / (REGION_N - 1));
      this.gy = Array.from({ length: REGION_N }, (_, i) => y0 + ((y1 - y0) * i) / (REGION_N - 1));
      traces = [
        {
          type: "contour",
          x: this.gx,
          y: this.gy,
          z: [],
          zmin: 0,
          zmax: 1,
          colorscale: [
            [0, "#c9d8ff"],
            [0.5, "#ffffff"],
            [1, "#ffd9bf"],
          ],
          contours: { start: 0.5, end: 0.5, size: 1, coloring: "heatmap", showlines: true },
          line: { color: INK, width: 1.2 },
          showscale: false,
          hoverinfo: "skip",
        },
        ...[0, 1].map((c) => {
          const idx = ys.map((v, i) => (v === c ? i : -1)).filter((i) => i >= 0);
          return {
            type: "scatter",
            mode: "markers",
            x: idx.map((i) => xs[i]),
            y: idx.map((i) => y2[i]),
            marker: { size: 5, color: CLASS_COLORS[c], line: { color: INK, width: 0.6 } },
            hoverinfo: "skip",
          };
        }),
      ];
      layout = {
        xaxis: { range: [x0, x1], title: { text: "x₁", standoff: 2 } },
        yaxis: { range: [y0, y1], title: { text: "x₂", standoff: 2 }, scaleanchor: "x" },
      };
    } else {
      const xs = col(0);
      const lo = Math.min(...xs);
      const hi = Math.max(...xs);
      const m = (hi - lo || 1) * 0.05;
      this.xs = Array.from(
        { length: CURVE_N },
        (_, i) => lo - m + ((hi - lo + 2 * m) * i) / (CURVE_N - 1),
      );
      traces = [
        {
          type: "scatter",
          mode: "markers",
          x: xs,
          y: ys,
          marker: { size: 6, color: CLASS_COLORS[0], line: { color: INK, width: 0.6 } },
          hoverinfo: "skip",
        },
        {
          type: "scatter",
          mode: "lines",
          x: this.xs,
          y: [],
          line: { color: RUN_COLOR, width: 2.2 },
          hoverinfo: "skip",
        },
      ];
      const yl = Math.min(...ys);
      const yh = Math.max(...ys);
      const ym = (yh - yl || 1) * 0.25;
      layout = {
        xaxis: { title: { text: "x", standoff: 2 } },
        yaxis: { range: [yl - ym, yh + ym], title: { text: "y", standoff: 2 } },
      };
    }
    this.note.textContent = `${d.name}: ${d.points} points, ${start.architecture.text}`;
    await Plotly.react(
      this.div,
      traces,
      {
        ...layout,
        margin: { l: 40, r: 8, t: 6, b: 32 },
        font: FONT,
        showlegend: false,
        paper_bgcolor: "rgba(0,0,0,0)",
        plot_bgcolor: "#ffffff",
      },
      { ...PLOT_CONFIG, responsive: true },
    );
  }

  // Draw the network at θ (the θ of step t).
  show(theta) {
    if (!this.start || !theta || theta === this.theta) return;
    this.theta = theta;
    const { layout, architecture } = this.start;
    const f = (x) => forward(theta, layout, architecture.activation, x);
    if (this.gx) {
      const z = this.gy.map((y) => this.gx.map((x) => prob1(f([x, y]))));
      Plotly.restyle(this.div, { z: [z] }, [0]);
    } else if (this.classify) {
      Plotly.restyle(this.div, { y: [this.xs.map((x) => prob1(f([x])))] }, [1]);
    } else {
      Plotly.restyle(this.div, { y: [this.xs.map((x) => f([x])[0])] }, [1]);
    }
  }
}
