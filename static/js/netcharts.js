// The network run's two charts, one above the other against step t: the loss (log scale), and
// the sharpness λ_max(θ_t) on the steps where it was measured with the line 2/η, the edge of
// stability. A vertical line marks the player's t.
import { FONT, INK, PLOT_CONFIG, RUN_COLOR } from "./plotkit.js";

const Plotly = window.Plotly;
const EDGE_COLOR = "#b3261e";

// Whether the positive values span more than a decade.
function spansDecades(values) {
  const logs = values.filter((v) => v > 0 && Number.isFinite(v)).map(Math.log10);
  return logs.length > 0 && Math.max(...logs) - Math.min(...logs) > 1;
}

export class NetCharts {
  constructor(div) {
    this.div = div;
    this.built = false;
  }

  // run: { t, loss, sharpT, sharp, limit, steps } (network.js), grown while it streams.
  draw(run) {
    const lossTrace = {
      type: "scatter",
      mode: "lines",
      x: run.t,
      y: run.loss,
      name: "loss",
      line: { color: RUN_COLOR, width: 1.6 },
      hovertemplate: "t = %{x}<br>L = %{y:.4g}<extra></extra>",
    };
    const sharpTrace = {
      type: "scatter",
      mode: "lines+markers",
      x: run.sharpT,
      y: run.sharp,
      name: "sharpness",
      xaxis: "x2",
      yaxis: "y2",
      marker: { size: 3, color: INK },
      line: { color: INK, width: 1.2 },
      hovertemplate: "t = %{x}<br>λ_max = %{y:.4g}<extra></extra>",
    };
    const top = Math.max(run.limit * 1.35, ...run.sharp.filter(Number.isFinite));
    const layout = {
      margin: { l: 52, r: 12, t: 8, b: 30 },
      font: FONT,
      showlegend: false,
      paper_bgcolor: "rgba(0,0,0,0)",
      plot_bgcolor: "#ffffff",
      grid: { rows: 2, columns: 1, pattern: "independent", roworder: "top to bottom" },
      xaxis: { range: [0, run.steps], showticklabels: false, matches: "x2" },
      yaxis: {
        type: "log",
        // the panel is short: whole decades, or a few ticks within one
        ...(spansDecades(run.loss) ? { dtick: 1 } : { nticks: 4 }),
        title: { text: "loss", standoff: 2 },
        exponentformat: "power",
      },
      xaxis2: { range: [0, run.steps], title: { text: "step t", standoff: 2 } },
      yaxis2: { range: [0, top], nticks: 5, title: { text: "sharpness", standoff: 2 } },
      shapes: [
        {
          type: "line",
          xref: "x2 domain",
          yref: "y2",
          x0: 0,
          x1: 1,
          y0: run.limit,
          y1: run.limit,
          line: { color: EDGE_COLOR, width: 1.5, dash: "dash" },
        },
        this.cursor(this.t ?? 0),
        { ...this.cursor(this.t ?? 0), xref: "x2", yref: "y2 domain" },
      ],
      annotations: [
        {
          xref: "x2 domain",
          yref: "y2",
          x: 0.01,
          y: run.limit,
          xanchor: "left",
          yanchor: "bottom",
          text: `2/η = ${Number(run.limit.toPrecision(4))}`,
          showarrow: false,
          font: { color: EDGE_COLOR, size: 11 },
        },
      ],
      datarevision: run.t.length + run.sharp.length,
    };
    this.built = true;
    return Plotly.react(this.div, [lossTrace, sharpTrace], layout, {
      ...PLOT_CONFIG,
      responsive: true,
    });
  }

  cursor(t) {
    return {
      type: "line",
      xref: "x",
      yref: "y domain",
      x0: t,
      x1: t,
      y0: 0,
      y1: 1,
      line: { color: "#8a93a6", width: 1 },
    };
  }

  show(t) {
    this.t = t;
    if (!this.built) return;
    Plotly.relayout(this.div, {
      "shapes[1].x0": t,
      "shapes[1].x1": t,
      "shapes[2].x0": t,
      "shapes[2].x1": t,
    });
  }
}
