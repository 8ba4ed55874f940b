import { streamBasins } from "./api.js";
import { rangesOf } from "./plotkit.js";

// Basins of attraction (issue 6): POST /api/basins for the surface and optimizer on show, a progress
// bar while its progress lines arrive, then a canvas under the path overlay on the contour, coloured
// by destination (one colour per landmark; grey diverged, black not converged), lighter where more
// steps were taken, with a legend. The canvas lets pointer events through, so a click on a cell
// still moves θ₀ there and starts a run.
const COLORS = [
  "#1b9e77",
  "#7570b3",
  "#1f78b4",
  "#e7298a",
  "#66a61e",
  "#a6761d",
  "#17becf",
  "#6a3d9a",
]; // none near the run's red
const DIVERGED = [150, 150, 150];
const STUCK = [20, 20, 20];

const MAX_STEPS = 2000; // POST /api/basins's cap: every start of the grid runs up to this many
const basinSteps = (steps) => Math.max(1, Math.min(steps, MAX_STEPS));

const rgb = (hex) => [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16));
const fmt = (v) => Number(v.toPrecision(3));

export class Basins {
  // view: the ContourView; body(): the run's request body; els: {button, n, bar, legend}
  constructor(view, body, els) {
    this.view = view;
    this.body = body;
    this.els = els;
    this.result = null;
    this.key = null;
    this.canvas = document.createElement("canvas");
    this.canvas.className = "basins-canvas";
    this.canvas.hidden = true;
    view.frame.insertBefore(this.canvas, view.overlay);
    els.button.addEventListener("click", () => {
      const on = !(this.result && !this.stale());
      if (on) this.compute();
      else this.hide();
      this.onToggle?.(on); // the page keeps the overlay's state in its URL
    });
    new ResizeObserver(() => this.place()).observe(view.frame);
  }

  keyOf() {
    const { surface, optimizer, max_steps: steps, tol } = this.body();
    return JSON.stringify({
      surface,
      optimizer,
      tol,
      steps: basinSteps(steps),
      n: this.els.n.value,
    });
  }

  stale() {
    return this.key !== null && this.key !== this.keyOf();
  }

  // Called after every change of settings: an overlay computed for other settings is marked stale.
  refresh() {
    if (!this.result) return;
    this.els.legend.dataset.stale = String(this.stale());
    this.place();
  }

  // Show the overlay for the current settings, computing it unless it is already on show.
  ensure() {
    if (this.result && !this.stale()) return;
    this.compute();
  }

  hide() {
    this.abort?.abort();
    this.els.bar.hidden = true;
    this.result = null;
    this.key = null;
    this.canvas.hidden = true;
    this.els.legend.replaceChildren();
    this.els.button.setAttribute("aria-pressed", "false");
  }

  async compute() {
    this.abort?.abort();
    this.abort = new AbortController();
    const { surface, optimizer, tol, max_steps: steps } = this.body();
    const key = this.keyOf();
    const { bar, legend, button } = this.els;
    bar.hidden = false;
    bar.value = 0;
    legend.textContent = "Computing basins…";
    try {
      const body = {
        surface,
        optimizer,
        n: Number(this.els.n.value),
        max_steps: basinSteps(steps),
        tol,
      };
      await streamBasins(body, {
        signal: this.abort.signal,
        onLines: (lines) => {
          for (const line of lines) {
            if (line.type === "progress") bar.value = line.done;
            else if (line.type === "result") this.result = line;
          }
        },
      });
      this.key = key;
      bar.value = 1;
      bar.hidden = true;
      button.setAttribute("aria-pressed", "true");
      this.paint();
      this.renderLegend();
      this.refresh();
    } catch (err) {
      if (err.name === "AbortError") return;
      bar.hidden = true;
      legend.textContent = `Basins failed: ${err.message}`;
    }
  }

  paint() {
    const { x, y, destination, steps, landmarks } = this.result;
    const nx = x.length;
    const ny = y.length;
    const maxSteps = Math.max(1, ...steps.flat());
    this.canvas.width = nx;
    this.canvas.height = ny;
    const ctx = this.canvas.getContext("2d");
    const img = ctx.createImageData(nx, ny);
    const colours = landmarks.map((_, k) => rgb(COLORS[k % COLORS.length]));
    for (let j = 0; j < ny; j++) {
      for (let i = 0; i < nx; i++) {
        const d = destination[j][i];
        const base = d >= 0 ? colours[d] : d === -1 ? DIVERGED : STUCK;
        const light = d >= 0 ? 0.55 * Math.sqrt(steps[j][i] / maxSteps) : 0; // lighter = more steps
        const o = ((ny - 1 - j) * nx + i) * 4; // row 0 of the image is the top (largest y)
        for (let c = 0; c < 3; c++) img.data[o + c] = Math.round(base[c] + (255 - base[c]) * light);
        img.data[o + 3] = 255;
      }
    }
    ctx.putImageData(img, 0, 0);
    this.canvas.hidden = false;
  }

  // Follow the contour's pans and zooms, live while they happen (as the path overlay does).
  wire() {
    const div = this.view.div;
    if (this.wired || typeof div.on !== "function") return;
    this.wired = true;
    div.on("plotly_relayouting", (e) => this.place(rangesOf(e, div.layout)));
    div.on("plotly_relayout", () => this.place());
  }

  // The canvas covers the grid's cells, placed through the contour's public mapping; `ranges`
  // overrides the axes' while Plotly pans.
  place(ranges = null) {
    if (!this.result || !this.view.div.layout) return;
    this.wire();
    const { x, y } = this.result;
    const hx = (x[x.length - 1] - x[0]) / (2 * Math.max(1, x.length - 1));
    const hy = (y[y.length - 1] - y[0]) / (2 * Math.max(1, y.length - 1));
    const frame = this.view.frame.getBoundingClientRect();
    const [l, t] = this.view.toPixels(x[0] - hx, y[y.length - 1] + hy, ranges);
    const [r, b] = this.view.toPixels(x[x.length - 1] + hx, y[0] - hy, ranges);
    Object.assign(this.canvas.style, {
      left: `${l - frame.left}px`,
      top: `${t - frame.top}px`,
      width: `${r - l}px`,
      height: `${b - t}px`,
    });
    const clip = this.view.overlay.getBoundingClientRect(); // the plot area
    const cl = Math.max(0, clip.left - l);
    const ct = Math.max(0, clip.top - t);
    const cr = Math.max(0, r - clip.right);
    const cb = Math.max(0, b - clip.bottom);
    this.canvas.style.clipPath = `inset(${ct}px ${cr}px ${cb}px ${cl}px)`;
  }

  renderLegend() {
    const { landmarks, counts, destination } = this.result;
    const total = destination.flat().length;
    const share = (d) => destination.flat().filter((v) => v === d).length / total;
    const items = landmarks
      .map((m, k) => [COLORS[k % COLORS.length], `${m.kind} (${fmt(m.x)}, ${fmt(m.y)})`, share(k)])
      .filter(([, , s]) => s > 0);
    if (share(-1) > 0) items.push(["rgb(150,150,150)", "diverged", share(-1)]);
    if (share(-2) > 0) items.push(["rgb(20,20,20)", "not converged", share(-2)]);
    const legend = this.els.legend;
    legend.replaceChildren(
      ...items.map(([colour, label, s]) => {
        const li = document.createElement("li");
        const sw = document.createElement("i");
        sw.style.background = colour;
        li.append(sw, `${label} · ${Math.round(100 * s)}%`);
        return li;
      }),
    );
    void counts;
  }
}
