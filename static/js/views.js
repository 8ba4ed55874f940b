// Everything the page draws from a run: the three figures, the per-step readout, the status line.
import { ContourView } from "./contour.js";
import { setText } from "./dom.js";
import { num, pair } from "./format.js";
import { LossView } from "./losschart.js";
import { paramNames } from "./params.js";
import { paced, throttle } from "./runs.js";
import { SurfaceView } from "./surface3d.js";

const $ = (id) => document.getElementById(id);
// While θ₀ is dragged the status message changes with every answer, and so does its number of
// lines; each change of the status line's height resizes all three figures below it (a whole
// contour and WebGL redraw, far costlier than the redraw of a path). So while live answers come
// the status line keeps the height it had (its height is read by an observer, after a frame's
// layout, never forced; a longer message is cut meanwhile), and takes its message's height
// HOLD_MS after the last of them.
const HOLD_MS = 1000;
// Dragged, the loss chart (a Plotly.react of whole traces: 40-150 ms of main thread here, several
// frames) is rebuilt at most once per LIVE_LOSS_MS, and SETTLE_MS after the last answer, so it
// follows a paused pointer and ends on the final run.
const LIVE_LOSS_MS = 2000;
const SETTLE_MS = 300;
// Dragged, the status line's words change with most answers, and each change lays the page out
// again: they follow at most every LIVE_STATUS_MS, ending with the newest.
const LIVE_STATUS_MS = 250;
// Dragged, the readout's nine numbers follow ten times a second, ending with the newest: with
// every answer (up to 60 a second, too quick to read) their text and layout cost ~1 ms a redraw.
const LIVE_READOUT_MS = 100;

export class Views {
  constructor() {
    this.contour = new ContourView($("contour-frame"), $("contour"));
    this.surface3d = new SurfaceView($("surface3d"));
    this.lossChart = new LossView($("losschart"));
    // path redraws while dragging (contour, 3-D view), for the benchmark
    this.stats = { redraws: 0, redraws3d: 0, latencies: [] };
    this.holding = false; // the status line keeps its height: a drag is under way
    this.release = null;
    this.statusHeight = 0;
    new ResizeObserver(([entry]) => {
      if (!this.holding) this.statusHeight = entry.borderBoxSize[0].blockSize;
    }).observe($("status"));
    this.lossLive = { args: null, at: -Infinity, settle: null };
    this.liveStatus = throttle((kind, message) => this.writeStatus(kind, message), LIVE_STATUS_MS);
    this.liveReadout = throttle((run, t) => this.readout(run, t), LIVE_READOUT_MS);
    // The 3-D view and the loss chart cost tens of milliseconds a redraw (far more with software
    // WebGL), so they follow the current iterate at a lower rate, paced by what they cost, and
    // more sparingly while θ₀ is dragged, when the contour's path must keep up with the pointer.
    this.draw3d = paced((r, t) => this.surface3d.show(r, t), 150, 0.3);
    this.lossMarker = throttle((t) => this.lossChart.show(t), 80);
    const buildLoss = (surface, r, pins, t) => this.lossChart.build(surface, r, pins, t());
    this.rebuildLoss = throttle(buildLoss, 250);
    this.buildLoss = buildLoss;
  }

  box() {
    const el = document.querySelector(".contour-box");
    return { width: el.clientWidth, height: el.clientHeight };
  }

  build(grid, theta0, pins) {
    const names = `(${paramNames(grid.surface).join(", ")})`;
    for (const id of ["r-names", "surface-names"]) $(id).textContent = names;
    return Promise.all([
      this.contour.build(grid.surface, grid.grid, grid.colors, theta0, pins, this.box()),
      this.surface3d.build(grid.surface, grid.grid, grid.colors, pins),
    ]);
  }

  resize() {
    this.contour.resize(this.box());
    window.Plotly.Plots.resize($("surface3d"));
    window.Plotly.Plots.resize($("losschart"));
  }

  // Iterate t of a run. `pointerTime` is set while θ₀ is dragged: the event that asked for it.
  // With pinned runs racing it, t may pass the run's last iterate: the run then rests at its end.
  show(run, race, pointerTime) {
    const t = Math.min(race, run.path.length - 1);
    this.contour.show(run, race);
    if (pointerTime === undefined) {
      this.draw3d(run, race);
      this.lossMarker(race);
    } else {
      // Dragged, the 3-D path is drawn flat on a canvas over the scene (surface3d.js): as cheap
      // as the contour's, so both follow every answer. A paced redraw still waiting holds an
      // older run: let loose once the pointer is up, it would put that run on the scene last.
      this.draw3d.cancel();
      this.lossMarker.cancel();
      this.surface3d.show(run, race, true);
      this.stats.redraws3d += 1;
      this.holdStatus();
      requestAnimationFrame(() => {
        // the overlay is drawn; it shows at this frame
        this.stats.redraws += 1;
        this.stats.latencies.push(performance.now() - pointerTime);
      });
    }
    if (pointerTime === undefined) {
      this.liveReadout.cancel();
      this.readout(run, t);
    } else this.liveReadout(run, t);
    this.onShow?.(run, t); // the data view of a dataset surface (dataview.js)
  }

  // The loss chart of a finished run; `t()` gives the iterate to mark once it is drawn.
  loss(surface, run, pins, t, live = false) {
    if (!live) {
      clearTimeout(this.lossLive.settle);
      this.lossLive.settle = null;
      this.rebuildLoss(surface, run, pins, t);
      return;
    }
    this.rebuildLoss.cancel(); // it would hold an older run
    const l = this.lossLive;
    l.args = [surface, run, pins, t];
    // A drag starts: the chart keeps the run it shows for now (the drag's first answers already
    // cost the 3-D view a WebGL redraw).
    if (l.settle === null) l.at = performance.now();
    clearTimeout(l.settle);
    const build = () => {
      clearTimeout(l.settle);
      l.settle = null;
      l.at = performance.now();
      this.buildLoss(...l.args);
    };
    l.settle = setTimeout(build, SETTLE_MS);
    if (performance.now() - l.at >= LIVE_LOSS_MS) build();
  }

  clear() {
    this.contour.clear();
  }

  readout(run, t) {
    const p = run.path[t];
    const g = run.grad[t];
    const next = run.path[t + 1];
    // The step size this step used (a schedule or line search changes it); on the last iterate,
    // the optimizer's η when nothing changes it.
    const opt = run.body.optimizer;
    const eta = run.eta_t?.[t] ?? (opt.schedule || opt.line_search ? null : opt.eta);
    setText($("r-t"), String(t));
    setText($("r-theta"), pair(p));
    setText($("r-loss"), num(run.loss[t], 6));
    setText($("r-grad"), pair(g));
    setText($("r-gnorm"), num(Math.hypot(g[0], g[1])));
    setText($("r-eta"), eta === null ? "—" : num(eta));
    setText($("r-update"), eta === null ? "—" : pair([-eta * g[0], -eta * g[1]]));
    setText($("r-step"), next ? pair([next[0] - p[0], next[1] - p[1]]) : "— (last iterate)");
    setText($("r-next"), next ? pair(next) : "—");
  }

  status(kind, message) {
    this.liveStatus.cancel();
    this.writeStatus(kind, message);
  }

  writeStatus(kind, message) {
    if ($("status").dataset.status !== kind) $("status").dataset.status = kind;
    setText($("status-badge"), kind === "max_steps" ? "max steps" : kind);
    setText($("status-message"), message);
  }

  holdStatus() {
    const style = $("status").style;
    if (!this.holding) {
      const height = `${this.statusHeight}px`;
      Object.assign(style, { minHeight: height, maxHeight: height, overflow: "hidden" });
    }
    this.holding = true;
    clearTimeout(this.release);
    this.release = setTimeout(() => {
      this.holding = false;
      Object.assign(style, { minHeight: "", maxHeight: "", overflow: "" });
    }, HOLD_MS);
  }
}
