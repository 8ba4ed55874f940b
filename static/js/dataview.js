// The linked data view of a dataset surface: the points (classes coloured for logistic), the
// model at the iterate on show (σ(w·u + b) or w·u + b, u = (x − shift)/scale) and the optimum θ*
// as a dashed ghost, or the surface's note when there is no finite minimum.
import { FONT, PLOT_CONFIG, RUN_COLOR } from "./plotkit.js";

const Plotly = window.Plotly;
const N = 120; // points of a drawn curve
const CLASS_COLORS = ["#3d7bff", "#ff8a3d"];

export class DataFigure {
  constructor(figure, div, note) {
    this.figure = figure; // hidden unless the surface has data
    this.div = div;
    this.note = note;
    this.data = null;
    this.pending = null;
    this.theta = null; // the θ the model curve shows, for the tests
  }

  curve(theta) {
    const d = this.data;
    const [w, b] = theta;
    return this.xs.map((x) => {
      const z = w * ((x - d.shift) / d.scale) + b;
      return d.kind === "logistic" ? 1 / (1 + Math.exp(-z)) : z;
    });
  }

  // Draw the data of `surface` (or hide the view when it has none); resolves once drawn.
  async build(surface) {
    const d = surface?.data;
    this.figure.hidden = !d;
    document.querySelector(".lower")?.classList.toggle("with-data", Boolean(d));
    if (!d) {
      this.data = null;
      return;
    }
    this.data = d;
    const lo = Math.min(...d.x);
    const hi = Math.max(...d.x);
    const pad = (hi - lo || 1) * 0.05;
    this.xs = Array.from({ length: N }, (_, i) => lo - pad + ((hi - lo + 2 * pad) * i) / (N - 1));
    const logistic = d.kind === "logistic";
    const traces = logistic
      ? [0, 1].map((c) => {
          const idx = d.y.map((v, i) => (v === c ? i : -1)).filter((i) => i >= 0);
          return {
            type: "scatter",
            mode: "markers",
            name: `y = ${c}`,
            x: idx.map((i) => d.x[i]),
            y: idx.map((i) => d.y[i]),
            marker: { size: 6, color: CLASS_COLORS[c], opacity: 0.55 },
            hovertemplate: "x = %{x:.3g}<extra></extra>",
          };
        })
      : [
          {
            type: "scatter",
            mode: "markers",
            name: "data",
            x: d.x,
            y: d.y,
            marker: { size: 6, color: "#4b5a75", opacity: 0.55 },
            hovertemplate: "(%{x:.3g}, %{y:.3g})<extra></extra>",
          },
        ];
    const ghost = d.optimum ? this.curve(d.optimum) : [];
    traces.push(
      {
        type: "scatter",
        mode: "lines",
        name: "θ*",
        x: d.optimum ? this.xs : [],
        y: ghost,
        line: { color: "#8a93a6", width: 2, dash: "dash" },
        opacity: 0.7,
        hoverinfo: "skip",
      },
      {
        type: "scatter",
        mode: "lines",
        name: "θₜ",
        x: this.xs,
        y: this.xs.map(() => null),
        line: { color: RUN_COLOR, width: 2.5 },
        hoverinfo: "skip",
      },
    );
    this.modelTrace = traces.length - 1;
    document.getElementById("dataview-keys").hidden = !logistic;
    // A line under the plot (never over the sigmoid); the note in full on hover and in the
    // status line.
    this.note.textContent = d.optimum ? "" : "No finite minimum, so no θ* to draw.";
    this.note.title = surface.note || "";
    this.note.hidden = Boolean(d.optimum) || !surface.note;
    const ys = d.y.filter(Number.isFinite);
    const ylo = Math.min(...ys);
    const yhi = Math.max(...ys);
    const ypad = (yhi - ylo || 1) * 0.12;
    const layout = {
      margin: { l: 40, r: 8, t: 6, b: 30 },
      font: { ...FONT, size: 11 },
      paper_bgcolor: "rgba(0,0,0,0)",
      plot_bgcolor: "#ffffff",
      showlegend: false,
      xaxis: {
        title: { text: "x", standoff: 2 },
        zeroline: false,
        gridcolor: "#eef1f5",
        range: [this.xs[0], this.xs.at(-1)],
      },
      yaxis: {
        title: { text: logistic ? "P(y = 1)" : "y", standoff: 2 },
        zeroline: false,
        gridcolor: "#eef1f5",
        range: logistic ? [-0.08, 1.08] : [ylo - ypad, yhi + ypad],
      },
      hovermode: "closest",
    };
    this.theta = null;
    await Plotly.react(this.div, traces, layout, { ...PLOT_CONFIG, responsive: true });
  }

  // The model at iterate t of a run: at most one redraw a frame.
  show(run, t) {
    if (!this.data || !run || !run.path[t]) return;
    const first = this.pending === null;
    this.pending = run.path[t];
    if (!first) return;
    requestAnimationFrame(() => {
      const theta = this.pending;
      this.pending = null;
      if (!this.data || !theta.every(Number.isFinite)) return;
      this.theta = theta;
      Plotly.restyle(this.div, { y: [this.curve(theta)] }, [this.modelTrace]);
    });
  }

  resize() {
    if (this.data) Plotly.Plots.resize(this.div);
  }
}
