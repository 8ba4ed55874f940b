// Entry module: load the surfaces, wire the form, the views, the player and the URL together.
import { ApiError, fetchGrid, fetchSurfaces } from "./api.js";
import { Controls } from "./controls.js";
import { wireDrag } from "./drag.js";
import { num, pair, short } from "./format.js";
import { Player } from "./player.js";
import { colorField, ContourView, LossView, PIN_COLORS, SurfaceView } from "./plots.js";
import { download, fetchRun, paced, throttle, toCSV, toJSON } from "./runs.js";
import { MAX_PINS, OPTIMIZERS, decode, defaultsFor, encode, requestBody, sameRun } from "./state.js";

const $ = (id) => document.getElementById(id);
const GRID_N = 80;
const STALE_MS = 120; // while dragging, a request older than this is aborted for a newer θ₀

const contour = new ContourView($("contour-frame"), $("contour"));
const surface3d = new SurfaceView($("surface3d"));
const lossChart = new LossView($("losschart"));
const stats = { redraws: 0, latencies: [], requests: 0, aborted: 0 }; // read by benchmarks/page.py and the browser tests

let surfaces;
let controls;
let state;
let grid = null; // { surface, grid, colors } of the surface on show
let run = null; // the current run
let controller = null; // aborts the current run's request
let pinRuns = new Map(); // key of a pin's settings → its finished run
const live = { inflight: null, pending: null };

// --- drawing ---------------------------------------------------------------------------------

// The overlay redraws synchronously; a dragged path counts as drawn at the next frame.
function drawContour(r, t, pointerTime) {
  contour.show(r, t);
  if (pointerTime === undefined) return;
  requestAnimationFrame(() => {
    stats.redraws += 1;
    stats.latencies.push(performance.now() - pointerTime);
  });
}
// The 3-D view and the loss chart cost tens of milliseconds a redraw (far more with software
// WebGL), so they follow the current iterate at a lower rate, paced by what they cost, and more
// sparingly while θ₀ is dragged, when the contour's path must keep up with the pointer.
const draw3d = paced((r, t) => surface3d.show(r, t), 150, 0.3);
const draw3dLive = paced((r, t) => surface3d.show(r, t), 300, 0.1);
const drawLossMarker = throttle((t) => lossChart.show(t), 80);
const buildLoss = (r) => lossChart.build(grid.surface, r, pinList()).then(() => lossChart.show(player.t));
const rebuildLoss = throttle(buildLoss, 250);
const rebuildLossLive = paced(buildLoss, 400, 0.1);

function render(t, pointerTime) {
  if (!run || !run.path.length) return;
  drawContour(run, t, pointerTime);
  if (pointerTime === undefined) {
    draw3d(run, t);
    drawLossMarker(t);
  } else {
    draw3dLive(run, t);
  }
  readout(t);
}

function readout(t) {
  const p = run.path[t];
  const g = run.grad[t];
  const next = run.path[t + 1];
  $("r-t").textContent = String(t);
  $("r-theta").textContent = pair(p);
  $("r-loss").textContent = num(run.loss[t], 6);
  $("r-grad").textContent = pair(g);
  $("r-gnorm").textContent = num(Math.hypot(g[0], g[1]));
  $("r-update").textContent = pair([-state.eta * g[0], -state.eta * g[1]]);
  $("r-step").textContent = next ? pair([next[0] - p[0], next[1] - p[1]]) : "— (last iterate)";
}

const player = new Player({
  length: () => (run ? run.path.length : 0),
  done: () => Boolean(run && run.done),
  render: (t) => render(t),
  onState: () => {
    const n = run ? run.path.length : 0;
    $("play").dataset.playing = String(player.playing);
    $("play").setAttribute("aria-label", player.playing ? "Pause" : "Play");
    $("scrubber").max = String(Math.max(0, n - 1));
    $("scrubber").value = String(player.t);
    $("t-label").textContent = `t = ${player.t} / ${run && run.done ? run.steps : Math.max(0, n - 1)}`;
  },
});

function setStatus(kind, message) {
  $("status").dataset.status = kind;
  $("status-badge").textContent = kind === "max_steps" ? "max steps" : kind;
  $("status-message").textContent = message;
}

function showError(err) {
  if (err.name === "AbortError") return;
  const message = err instanceof ApiError ? err.message : `Could not reach the server: ${err.message}`;
  if (err instanceof ApiError) controls.showApiError(err);
  setStatus("error", message);
}

// --- runs ------------------------------------------------------------------------------------

// Start a run with the current settings and animate it from θ₀ as its iterates arrive.
function startRun() {
  live.pending = null;
  live.inflight?.controller.abort();
  live.inflight = null;
  controller?.abort();
  controller = new AbortController();
  const body = requestBody(state.surface, state);
  const mine = controller;
  setStatus("running", "Running…");
  run = null;
  contour.clear();
  let started = false;
  fetchRun(body, mine.signal, (r) => {
    if (mine !== controller) return;
    run = r;
    if (!started) { started = true; player.reset({ play: true }); }
    player.more();
    if (!r.done) setStatus("running", `Running… ${r.path.length} iterates so far`);
  })
    .then((r) => {
      if (mine !== controller) return;
      finished(r);
      player.more();
    })
    .catch(showError);
}

function finished(r, isLive = false) {
  run = r;
  setStatus(r.status, r.message);
  (isLive ? rebuildLossLive : rebuildLoss)(r);
}

// While θ₀ is dragged (or η slid): recompute continuously and show each whole path at once.
// One request is in flight; a newer θ₀ waits for it unless it has become stale, then aborts it.
function liveRun(pointerTime) {
  controller?.abort();
  live.pending = { body: requestBody(state.surface, state), pointerTime };
  if (live.inflight) {
    if (performance.now() - live.inflight.started < STALE_MS) return;
    live.inflight.controller.abort();
    stats.aborted += 1;
  }
  launchLive();
}

function launchLive() {
  const job = live.pending;
  live.pending = null;
  const mine = { controller: new AbortController(), started: performance.now() };
  stats.requests += 1;
  live.inflight = mine;
  fetchRun(job.body, mine.controller.signal)
    .then((r) => {
      if (live.inflight !== mine) return;
      live.inflight = null;
      if (live.pending) launchLive(); // overlap the next request with this redraw
      run = r;
      player.pause();
      player.t = r.path.length - 1;
      player.pos = player.t;
      player.onState();
      render(player.t, job.pointerTime);
      finished(r, true);
      controls.clearErrors();
    })
    .catch((err) => {
      if (live.inflight === mine) live.inflight = null;
      showError(err);
      if (live.pending && !live.inflight) launchLive();
    });
}

// --- pins ------------------------------------------------------------------------------------

const pinKey = (pin) => encode({ surface: state.surface, ...pin, pins: [] });
function pinList() {
  return state.pins.map((pin) => ({ ...pin, run: pinRuns.get(pinKey(pin)) }));
}

async function loadPins() {
  const missing = state.pins.filter((pin) => !pinRuns.has(pinKey(pin)));
  await Promise.all(missing.map(async (pin) => {
    try {
      pinRuns.set(pinKey(pin), await fetchRun(requestBody(state.surface, pin)));
    } catch (err) {
      showError(err);
    }
  }));
  renderPins();
  const pins = pinList();
  await Promise.all([
    contour.build(grid.surface, grid.grid, grid.colors, state.theta0, pins, box()),
    surface3d.build(grid.surface, grid.grid, grid.colors, pins),
  ]);
  wireDragOnce();
  if (run && run.done) rebuildLoss(run);
  if (run && run.path.length) render(player.t);
}

function renderPins() {
  const items = pinList().map((pin, i) => {
    const li = document.createElement("li");
    const swatch = document.createElement("span");
    swatch.className = "swatch";
    swatch.style.background = PIN_COLORS[i % PIN_COLORS.length];
    const what = document.createElement("span");
    what.className = "what";
    what.textContent = `${OPTIMIZERS[pin.optimizer].label}, η = ${short(pin.eta)}`;
    const remove = document.createElement("button");
    remove.type = "button";
    remove.className = "remove";
    remove.title = "Remove this run";
    remove.textContent = "×";
    remove.addEventListener("click", () => {
      state.pins = state.pins.filter((p) => p !== state.pins[i]);
      commit();
      loadPins();
    });
    const how = document.createElement("span");
    how.className = "how";
    const r = pin.run;
    how.textContent = `θ₀ ${pair(pin.theta0, 3)} · ${r ? `${r.status.replace("_", " ")} · ${r.steps} steps` : "not available"}`;
    li.append(swatch, what, remove, how);
    return li;
  });
  $("pins").replaceChildren(...items);
  $("clear").disabled = state.pins.length === 0;
  $("keep").disabled = state.pins.length >= MAX_PINS;
}

// --- surface and URL -------------------------------------------------------------------------

function box() {
  const el = document.querySelector(".contour-box");
  return { width: el.clientWidth, height: el.clientHeight };
}

async function loadSurface() {
  const surface = surfaces.get(state.surface);
  if (grid && grid.surface.id === surface.id) return;
  const g = await fetchGrid(surface.id, GRID_N);
  grid = { surface, grid: g, colors: colorField(surface, g) };
  pinRuns = new Map();
}

function commit(replace = false) {
  const url = encode(state);
  if (url === location.search) return;
  if (replace) history.replaceState(null, "", url);
  else history.pushState(null, "", url);
}
// A drag of θ₀ or of the η slider is one gesture and one history entry: pushed when it starts,
// replaced while it goes on (at most four times a second) and when it ends.
let inGesture = false;
const replaceLive = throttle(() => inGesture && commit(true), 250);
function commitLive() {
  if (inGesture) {
    replaceLive();
  } else {
    inGesture = true;
    commit();
  }
}
function endGesture() {
  commit(inGesture);
  inGesture = false;
}

async function apply(next, { push }) {
  const surfaceChanged = !grid || next.surface !== state?.surface;
  state = next;
  controls.write(state);
  if (push) commit();
  try {
    if (surfaceChanged) await loadSurface();
    await loadPins();
    startRun();
  } catch (err) {
    showError(err);
  }
}

function onChange(kind) {
  if (kind === "surface") {
    const s = surfaces.get($("surface").value);
    apply({ ...defaultsFor(s), optimizer: state.optimizer, hyper: state.hyper }, { push: true });
    return;
  }
  if (kind === "optimizer") {
    controls.renderHyper($("optimizer").value, {});
  }
  const settings = controls.read();
  if (!settings) return;
  const { surface: _, ...rest } = settings;
  state = { ...state, ...rest };
  if (kind === "eta-live") {
    liveRun(performance.now());
    commitLive();
    return;
  }
  if (kind === "eta-commit") {
    endGesture();
    return; // the slider's live runs already show this η
  }
  commit();
  startRun();
  if (kind === "optimizer") controls.write(state);
}

function moveTheta0(point, { live: isLive, pointerTime }) {
  state = { ...state, theta0: point.map((v) => Number(v.toPrecision(6))) };
  controls.writeTheta0(state.theta0);
  if (isLive) {
    liveRun(pointerTime);
    commitLive();
  } else {
    commit();
    contour.moveTheta0(state.theta0);
    startRun();
  }
}

// Plotly's event methods exist once the contour has been drawn the first time.
let dragWired = false;
function wireDragOnce() {
  if (dragWired) return;
  dragWired = true;
  wireDrag(contour, {
    getTheta0: () => state.theta0,
    onMove: (point, pointerTime) => moveTheta0(point, { live: true, pointerTime }),
    onEnd: (point) => {
      state = { ...state, theta0: point.map((v) => Number(v.toPrecision(6))) };
      controls.writeTheta0(state.theta0);
      endGesture();
      liveRun(performance.now());
    },
    onClick: (point) => moveTheta0(point, { live: false }),
  });
}

// --- start -----------------------------------------------------------------------------------

function wire() {
  controls.listen(onChange);
  // A mouse click leaves no focus on the player's buttons, so that space keeps meaning play/pause.
  document.querySelector(".player").addEventListener("click", (e) => {
    if (e.detail > 0) e.target.closest("button")?.blur();
  });
  $("play").addEventListener("click", () => player.toggle());
  $("back").addEventListener("click", () => player.step(-1));
  $("forward").addEventListener("click", () => player.step(1));
  $("restart").addEventListener("click", () => { player.seek(0); player.play(); });
  $("scrubber").addEventListener("input", () => {
    const t = Number($("scrubber").value); // read first: pause() writes the old t back
    player.pause();
    player.seek(t);
  });
  $("speed").addEventListener("change", () => {
    const v = $("speed").value;
    player.speed = v === "auto" ? "auto" : Number(v);
  });
  document.addEventListener("keydown", (e) => {
    // Form fields keep their keys; on a button, space presses the button.
    if (e.target.closest("input, select, textarea") || e.altKey || e.ctrlKey || e.metaKey || !run) return;
    if (e.key === " " && !e.target.closest("button")) player.toggle();
    else if (e.key === "ArrowLeft") player.step(-1);
    else if (e.key === "ArrowRight") player.step(1);
    else if (e.key === "Home") player.step(-Infinity);
    else if (e.key === "End") player.step(Infinity);
    else return;
    e.preventDefault();
  });
  $("keep").addEventListener("click", () => {
    const { pins, surface, ...settings } = state;
    if (!state.pins.some((p) => sameRun(p, settings)) && state.pins.length < MAX_PINS) {
      if (run && run.done) pinRuns.set(pinKey(settings), run);
      state.pins = [...state.pins, structuredClone(settings)];
      commit();
      loadPins();
    }
  });
  $("clear").addEventListener("click", () => {
    state.pins = [];
    commit();
    loadPins();
  });
  const name = () => `descent-${state.surface}-${state.optimizer}-eta${short(state.eta)}`;
  $("export-csv").addEventListener("click", () => run && download(`${name()}.csv`, toCSV(run), "text/csv"));
  $("export-json").addEventListener("click", () => run && download(`${name()}.json`, toJSON(run), "application/json"));
  window.addEventListener("popstate", () => apply(decode(location.search, surfaces), { push: false }));

  const resize = throttle(() => {
    contour.resize(box());
    window.Plotly.Plots.resize($("surface3d"));
    window.Plotly.Plots.resize($("losschart"));
  }, 100);
  new ResizeObserver(resize).observe(document.querySelector(".main"));
}

async function main() {
  try {
    surfaces = new Map((await fetchSurfaces()).map((s) => [s.id, s]));
  } catch (err) {
    setStatus("error", `Could not load the surfaces: ${err.message}`);
    return;
  }
  controls = new Controls(surfaces);
  wire();
  const initial = decode(location.search, surfaces);
  await apply(initial, { push: false });
  history.replaceState(null, "", encode(state));
  $("app").dataset.state = "ready";
}

// For the browser tests and benchmarks/page.py: read-only views of the page's state.
window.descentLab = {
  stats,
  contour,
  player,
  get state() { return state; },
  get run() { return run; },
  // The run on show is finished and is the one the current settings ask for.
  settled: () => Boolean(run && run.done && !live.inflight && !live.pending
    && JSON.stringify(run.body) === JSON.stringify(requestBody(state.surface, state))),
};
main();
