// The loss (log scale) and gradient norm against iteration, with the pinned runs' losses; under
// them, when it varies (a schedule, line search, a continued run), the step size η_t actually used.
import { FONT, PIN_COLORS, PLOT_CONFIG, RUN_COLOR } from "./plotkit.js";
import { changesUpTo } from "./resume.js";

const Plotly = window.Plotly;

// Ticks on whole decades of a log axis, at most about five of them.
function decades(values) {
  const logs = values.filter((v) => v > 0 && Number.isFinite(v)).map(Math.log10);
  if (!logs.length) return {};
  const lo = Math.min(...logs);
  const hi = Math.max(...logs);
  return hi - lo < 1 ? {} : { tick0: 0, dtick: Math.ceil((Math.ceil(hi) - Math.floor(lo)) / 5) };
}

export class LossView {
  constructor(div) {
    this.div = div;
  }

  // L − L* on a log axis when the surface has a known minimum value L*, otherwise L itself.
  series(run) {
    const best = this.best;
    const loss = best === null ? run.loss : run.loss.map((v) => Math.max(v - best, 1e-16));
    const gn = run.grad.map((g) => Math.hypot(g[0], g[1]));
    return { t: run.loss.map((_, i) => i), loss, gn };
  }

  // η_t for t = 0 … steps − 1 (the last iterate takes no step), and whether it is worth a plot.
  static etas(run) {
    const eta = (run.eta_t ?? [])
      .slice(0, Math.max(0, run.path.length - 1))
      .map((v) => (typeof v === "number" ? v : null));
    const known = eta.filter((v) => v !== null);
    const varies =
      known.some((v) => Math.abs(v - known[0]) > 1e-12 * Math.abs(known[0])) ||
      (run.segments?.length ?? 1) > 1;
    const positive = known.length && known.every((v) => v > 0);
    const wide = positive && Math.max(...known) / Math.min(...known) > 10;
    return { t: eta.map((_, i) => i), eta, varies, log: Boolean(wide) };
  }

  // `race`: the iterate to mark (as show() marks it), drawn in the same Plotly call.
  build(surface, run, pins, race = null) {
    this.best = surface.minima.length ? Math.min(...surface.minima.map((m) => m.value)) : null;
    const traces = [];
    this.pinSeries = [];
    pins.forEach((pin, i) => {
      if (!pin.run) return;
      const s = this.series(pin.run);
      this.pinSeries.push({ s, color: PIN_COLORS[i % PIN_COLORS.length] });
      traces.push({
        type: "scatter",
        mode: "lines",
        x: s.t,
        y: s.loss,
        line: { color: PIN_COLORS[i % PIN_COLORS.length], width: 1.5 },
        opacity: 0.8,
        hoverinfo: "skip",
        showlegend: false,
      });
    });
    const s = run ? this.series(run) : { t: [], loss: [], gn: [] };
    this.first = traces.length;
    traces.push(
      {
        type: "scatter",
        mode: "lines",
        name: this.best === null ? "L" : "L − L*",
        x: s.t,
        y: s.loss,
        line: { color: RUN_COLOR, width: 2 },
        hovertemplate: "t = %{x}<br>%{y:.4g}<extra></extra>",
      },
      {
        type: "scatter",
        mode: "lines",
        name: "‖∇L‖",
        x: s.t,
        y: s.gn,
        yaxis: "y2",
        line: { color: "#4b5a75", width: 1.5, dash: "dot" },
        hovertemplate: "t = %{x}<br>‖∇L‖ = %{y:.4g}<extra></extra>",
      },
      {
        type: "scatter",
        mode: "markers",
        x: [],
        y: [],
        marker: { size: 9, color: RUN_COLOR, line: { color: "#fff", width: 1.5 } },
        hoverinfo: "skip",
        showlegend: false,
      },
      {
        type: "scatter",
        mode: "markers",
        x: [],
        y: [],
        yaxis: "y2",
        marker: { size: 7, color: "#4b5a75" },
        hoverinfo: "skip",
        showlegend: false,
      },
    );
    const e = run ? LossView.etas(run) : { varies: false };
    this.eta = e.varies ? e : null;
    if (this.eta) {
      traces.push(
        {
          type: "scatter",
          mode: "lines",
          name: "ηₜ",
          x: e.t,
          y: e.eta,
          yaxis: "y3",
          line: { color: "#13885a", width: 1.8, shape: "hv" },
          hovertemplate: "t = %{x}<br>ηₜ = %{y:.4g}<extra></extra>",
        },
        {
          type: "scatter",
          mode: "markers",
          x: [],
          y: [],
          yaxis: "y3",
          marker: { size: 7, color: "#13885a" },
          hoverinfo: "skip",
          showlegend: false,
        },
      );
    }
    // The pinned runs racing this one: a marker on each loss curve at the iterate on show.
    this.pinMarks =
      traces.push({
        type: "scatter",
        mode: "markers",
        x: [],
        y: [],
        hoverinfo: "skip",
        showlegend: false,
        marker: {
          size: 7,
          color: this.pinSeries.map((p) => p.color),
          line: { color: "#fff", width: 1 },
        },
      }) - 1;
    const layout = {
      margin: { l: 56, r: 56, t: 8, b: 34 },
      font: { ...FONT, size: FONT.size - 1 },
      paper_bgcolor: "rgba(0,0,0,0)",
      plot_bgcolor: "#ffffff",
      showlegend: true,
      legend: {
        orientation: "h",
        x: 0.5,
        xanchor: "center",
        y: 1.0,
        yanchor: "bottom",
        font: { size: 11 },
      },
      xaxis: {
        title: { text: "iteration t", standoff: 2 },
        zeroline: false,
        gridcolor: "#eef1f5",
        rangemode: "tozero",
      },
      yaxis: {
        title: { text: this.best === null ? "L(θₜ)" : "L(θₜ) − L*", standoff: 4 },
        type: this.best === null ? "linear" : "log",
        exponentformat: "power",
        tick0: 0,
        gridcolor: "#eef1f5",
        color: RUN_COLOR,
      },
      yaxis2: {
        title: { text: "‖∇L(θₜ)‖", standoff: 4 },
        type: "log",
        exponentformat: "power",
        tick0: 0,
        overlaying: "y",
        side: "right",
        showgrid: false,
        color: "#4b5a75",
      },
      hovermode: "closest",
    };
    if (this.eta) {
      // Two panels sharing t: the loss above, η_t below; dotted lines where settings changed.
      layout.yaxis.domain = [0.4, 1];
      layout.yaxis3 = {
        domain: [0, 0.3],
        title: { text: "ηₜ", standoff: 4 },
        type: this.eta.log ? "log" : "linear",
        exponentformat: "power",
        rangemode: this.eta.log ? undefined : "tozero",
        gridcolor: "#eef1f5",
        color: "#13885a",
        nticks: 3,
      };
      layout.xaxis.anchor = "y3";
      layout.shapes = changesUpTo(run, Infinity).map((c) => ({
        type: "line",
        xref: "x",
        yref: "paper",
        x0: c.t,
        x1: c.t,
        y0: 0,
        y1: 1,
        line: { color: "#1d2433", width: 1, dash: "dot" },
      }));
    }
    this.series_ = s;
    const all = (key) =>
      [s, ...pins.filter((p) => p.run).map((p) => this.series(p.run))].flatMap((x) => x[key]);
    if (this.best !== null) Object.assign(layout.yaxis, decades(all("loss")));
    Object.assign(layout.yaxis2, decades(all("gn")));
    if (this.eta) {
      // the panels are short: half the ticks
      if (this.eta.log) Object.assign(layout.yaxis3, decades(this.eta.eta), { nticks: undefined });
      for (const ax of [layout.yaxis, layout.yaxis2, layout.yaxis3]) if (ax.dtick) ax.dtick *= 2;
    }
    const marks = race === null ? null : this.markers(race);
    for (const [k, i] of (marks?.idx ?? []).entries()) {
      Object.assign(traces[i], { x: marks.xs[k], y: marks.ys[k] });
    }
    return Plotly.react(this.div, traces, layout, { ...PLOT_CONFIG, responsive: true });
  }

  // The iterate on show: `race` may pass this run's end while pinned runs go on.
  show(race) {
    const marks = this.markers(race);
    return marks && Plotly.restyle(this.div, { x: marks.xs, y: marks.ys }, marks.idx);
  }

  markers(race) {
    const s = this.series_;
    if (!s || !s.t.length) return null;
    const t = Math.min(race, s.t.length - 1);
    const at = this.pinSeries.map((p) => Math.min(race, p.s.t.length - 1));
    const xs = [[t], [t], at];
    const ys = [[s.loss[t]], [s.gn[t]], at.map((i, k) => this.pinSeries[k].s.loss[i])];
    const idx = [this.first + 2, this.first + 3, this.pinMarks];
    if (this.eta) {
      const on = t < this.eta.eta.length; // the last iterate takes no step
      xs.push(on ? [t] : []);
      ys.push(on ? [this.eta.eta[t]] : []);
      idx.push(this.first + 5);
    }
    return { xs, ys, idx };
  }
}
