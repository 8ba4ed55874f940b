// A 2-D slice of a network's loss (POST /api/networks/slice) in the page's own contour and 3-D
// views: the m × m grid is a surface on (α, β), the projected path is a run on it, drawn at the
// loss of its projection. Beside them, how faithful the picture is: the share of the path's
// variance in the plane, and per iterate its distance from the plane and its true loss against
// the drawn one, with the API's sentence when the slice misleads.
import { ContourView } from "./contour.js";
import { num } from "./format.js";
import { colorField } from "./plotkit.js";
import { paced } from "./runs.js";
import { SurfaceView } from "./surface3d.js";

const Plotly = window.Plotly;
const $ = (id) => document.getElementById(id);
const MAX_STRETCH = 4;

// The iterate of a kept path `ts` (ascending steps) on show at step t: the last one at or before.
export function keptIndex(ts, t) {
  let lo = 0;
  let hi = ts.length - 1;
  if (hi < 0 || t < ts[0]) return 0;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (ts[mid] <= t) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

// How the drawn scales of β and α differ, when they do by more than a pixel's worth.
function scaleNote(stretch) {
  if (Math.abs(Math.log(stretch)) < 0.02) return "";
  return stretch > 1
    ? ` · β's unit drawn ${num(stretch, 2)}× as long as α's`
    : ` · α's unit drawn ${num(1 / stretch, 2)}× as long as β's`;
}

export class SliceView {
  constructor() {
    // A PCA plane is often far longer along PC1 than PC2: drawn to one scale, it would be a thin
    // strip. Its axes may differ in scale (up to MAX_STRETCH), and the caption says by how much.
    this.contour = new ContourView($("slice-frame"), $("slice-contour"), {
      maxStretch: MAX_STRETCH,
    });
    this.surface3d = new SurfaceView($("slice-3d"));
    // the 3-D view costs tens of milliseconds a redraw: it follows the player at a lower rate
    // (the slice on show when it fires: a new slice may have been built meanwhile)
    this.draw3d = paced((k) => this.run && this.surface3d.show(this.run, k), 150, 0.3);
    this.slice = null;
    this.run = null;
  }

  box() {
    const el = $("slice-frame").parentElement;
    return { width: el.clientWidth, height: el.clientHeight };
  }

  async build(slice) {
    this.slice = slice;
    $("slice-frame").hidden = false;
    $("slice-empty").hidden = true;
    $("slice3d-empty").hidden = true;
    // the caption first: its line changes the height left for the contour
    const caption = `${slice.plane === "pca" ? "α, β along PC1, PC2" : "α, β along two random directions"}, through θ at t = ${slice.through}`;
    $("slice-caption").textContent = caption;
    const tr = slice.trajectory;
    const span = (v) => [v[0], v[v.length - 1]];
    const surface = {
      id: `slice-${slice.plane}`,
      domain: { x: span(slice.alpha), y: span(slice.beta) },
      minima: [],
      saddles: [],
      maxima: [],
      log_colors: true,
      parameters: ["α", "β"], // the axes' names (params.js)
    };
    const grid = { x: slice.alpha, y: slice.beta, z: slice.loss };
    const colors = colorField(surface, grid);
    const path = tr.alpha.map((a, i) => [a, tr.beta[i]]);
    // The projected path as a run of the 2-D views: drawn at the loss of each projection.
    this.run = {
      path,
      loss: tr.plane_loss.map((v) => (v === null ? Number.NaN : v)),
      grad: path.map(() => [0, 0]),
      status: slice.run.status,
      body: {},
    };
    await Promise.all([
      this.contour.build(surface, grid, colors, path[0], [], this.box()),
      this.surface3d.build(surface, grid, colors, []),
    ]);
    this.caption = caption;
    $("slice-caption").textContent = caption + scaleNote(this.contour.stretch);
    // θ₀'s ring marks the projected θ₀ here: nothing to drag
    await Plotly.relayout($("slice-contour"), { "shapes[0].editable": false });
    const ev = slice.explained_variance;
    $("n-variance").textContent =
      `${num(100 * slice.faithfulness.variance_in_plane, 3)} %` +
      (ev ? ` (PC1 ${num(100 * ev[0], 3)}, PC2 ${num(100 * ev[1], 3)})` : "");
    $("n-variance").title = "The share of the path's variance that lies in the plane";
    const f = $("n-faithful");
    f.textContent = slice.faithfulness.message;
    f.dataset.misleading = String(slice.faithfulness.misleading.length > 0);
  }

  clear() {
    this.slice = null;
    this.run = null;
    $("slice-frame").hidden = true;
    $("slice-empty").hidden = false;
    $("slice3d-empty").hidden = false;
    for (const id of ["n-variance", "n-distance", "n-heights"]) $(id).textContent = "—";
    $("n-faithful").textContent = "";
    $("slice-caption").textContent = "";
  }

  // Step t of the run: the last kept iterate at or before it.
  show(t) {
    if (!this.slice) return;
    const tr = this.slice.trajectory;
    const k = keptIndex(tr.t, t);
    this.contour.show(this.run, k);
    this.draw3d(k);
    $("n-distance").textContent = `${num(tr.distance[k], 4)} at t = ${tr.t[k]}`;
    $("n-heights").textContent = `${num(tr.true_loss[k], 4)} / ${num(tr.plane_loss[k], 4)}`;
  }

  async resize() {
    if (!this.slice) return;
    await this.contour.resize(this.box());
    $("slice-caption").textContent = this.caption + scaleNote(this.contour.stretch);
  }
}
