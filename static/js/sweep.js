// η sweep (issue 6): POST /api/sweep over a log range around the current η, then a small chart of
// the final loss (log y, left) and the steps (right) against η (log x), each point coloured by its
// status, with a dashed line at the stability limit 2/λ_max. A click on a point loads that η.
import { postSweep } from "./api.js";
import { FONT, PLOT_CONFIG } from "./plotkit.js";

const Plotly = window.Plotly;
const STATUS = { converged: "#1b9e77", diverged: "#d62728", max_steps: "#e6ab02" };
const SPAN = 30; // the range is η/SPAN … η·SPAN
const COUNT = 61;

export class Sweep {
  // body(): the run's request body; els: {button, chart, note}; onEta(η): load that η
  constructor(body, els, onEta) {
    this.body = body;
    this.els = els;
    this.onEta = onEta;
    this.result = null;
    els.button.addEventListener("click", () => this.compute());
  }

  async compute() {
    this.abort?.abort();
    this.abort = new AbortController();
    const { surface, theta0, optimizer, tol, max_steps: steps } = this.body();
    const eta = optimizer.eta;
    this.els.note.textContent = "Sweeping η…";
    try {
      this.result = await postSweep(
        {
          surface,
          theta0,
          optimizer,
          tol,
          count: COUNT,
          max_steps: Math.max(1, Math.min(steps, 5000)), // POST /api/sweep's cap
          eta_min: eta / SPAN,
          eta_max: eta * SPAN,
        },
        this.abort.signal,
      );
    } catch (err) {
      if (err.name !== "AbortError") this.els.note.textContent = `Sweep failed: ${err.message}`;
      return;
    }
    await this.draw(eta);
  }

  async draw(current) {
    const r = this.result;
    const loss = r.final_loss.map((v) =>
      v === null || !Number.isFinite(v) || v > 1e12 ? 1e12 : Math.max(v, 1e-16),
    );
    const colours = r.status.map((s) => STATUS[s] || "#888");
    const traces = [
      {
        x: r.eta,
        y: loss,
        name: "final loss",
        mode: "markers",
        type: "scatter",
        marker: { color: colours, size: 6 },
        customdata: r.status,
        hovertemplate: "η = %{x:.3g}<br>loss %{y:.3g}<br>%{customdata}<extra></extra>",
      },
      {
        x: r.eta,
        y: r.steps,
        name: "steps",
        mode: "lines",
        type: "scatter",
        yaxis: "y2",
        line: { color: "#7570b3", width: 1.5, dash: "dot" },
        hoverinfo: "skip",
      },
    ];
    const line = (x, color, dash) => ({
      type: "line",
      xref: "x",
      yref: "paper",
      x0: x,
      x1: x,
      y0: 0,
      y1: 1,
      line: { color, width: 1.5, dash },
    });
    const shapes = [line(current, "#333", "solid")];
    const annotations = [];
    if (r.stability_limit) {
      shapes.push(line(r.stability_limit, "#d62728", "dash"));
      annotations.push({
        x: Math.log10(r.stability_limit),
        xref: "x",
        yref: "paper",
        y: 1,
        yanchor: "bottom",
        text: "2/λ<sub>max</sub>",
        showarrow: false,
        font: { size: 10, color: "#d62728" },
      });
    }
    const layout = {
      font: { ...FONT, size: 10 },
      height: 190,
      margin: { l: 50, r: 36, t: 16, b: 32 },
      showlegend: false,
      xaxis: {
        type: "log",
        title: { text: "η", standoff: 0 },
        exponentformat: "power",
        dtick: 1,
        tickfont: { size: 9 },
      },
      yaxis: {
        type: "log",
        title: { text: "final loss", standoff: 4 },
        exponentformat: "power",
        nticks: 4,
        tickfont: { size: 9 },
      },
      yaxis2: {
        overlaying: "y",
        side: "right",
        title: { text: "steps", standoff: 2 },
        showgrid: false,
        rangemode: "tozero",
        nticks: 4,
        tickfont: { size: 9 },
      },
      shapes,
      annotations,
      paper_bgcolor: "rgba(0,0,0,0)",
      plot_bgcolor: "rgba(0,0,0,0)",
    };
    this.els.chart.hidden = false;
    await Plotly.react(this.els.chart, traces, layout, { ...PLOT_CONFIG, displayModeBar: false });
    if (!this.wired) {
      this.wired = true;
      this.els.chart.on("plotly_click", (ev) => {
        const p = ev.points?.find((q) => q.curveNumber === 0);
        if (p) this.onEta(p.x);
      });
    }
    const n = (s) => r.status.filter((v) => v === s).length;
    this.els.note.textContent =
      `${n("converged")} converged, ${n("diverged")} diverged, ${n("max_steps")} hit max steps` +
      (r.stability_limit ? ` · 2/λ_max = ${Number(r.stability_limit.toPrecision(3))}` : "") +
      " · click a point to load its η";
  }
}
