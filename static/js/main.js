// Entry module: load the surfaces, and wire the form, the views, the player, the runs and the URL.
import { ApiError, fetchGrid, fetchSurface } from "./api.js";
import { Basins } from "./basins.js";
import { Sweep } from "./sweep.js";
import { Controls } from "./controls.js";
import { DataView } from "./dataview.js";
import { wireDrag } from "./drag.js";
import { short } from "./format.js";
import { Runs } from "./live.js";
import { renderPins } from "./pins.js";
import { SurfacePicker } from "./picker.js";
import { Player } from "./player.js";
import { GradField } from "./gradfield.js";
import { colorField } from "./plotkit.js";
import { download, fetchRun, throttle, toCSV, toJSON } from "./runs.js";
import { MAX_PINS, decode, defaultsFor, encode, requestBody, sameRun, surfaceIdOf } from "./state.js";
import { Views } from "./views.js";

const $ = (id) => document.getElementById(id);
const GRID_N = 80; // grid points per axis: the grid is most of a first load after Plotly.js

const views = new Views();
const dataView = new DataView($("dataview-figure"), $("dataview"), $("dataview-note"));
views.onShow = (r, t) => { dataView.show(r, t); gradField.show(r, t); };
const basins = new Basins(views.contour, () => requestBody(state.surface, state), {
  button: $("basins"), n: $("basins-n"), bar: $("basins-progress"), legend: $("basins-legend"),
});
const sweep = new Sweep(() => requestBody(state.surface, state), { button: $("sweep"), chart: $("sweep-chart"), note: $("sweep-note") },
  (eta) => { $("eta").value = String(Number(eta.toPrecision(4))); $("eta").dispatchEvent(new Event("change")); });
// The gradient field sits over the basins canvas (made first) and under the path overlay.
const gradField = new GradField(views.contour, {
  toggle: $("gradfield-toggle"),
  onToggle: (on) => { state = { ...state, field: on }; commit(); },
});
let picker;
const surfaces = new Map(); // id → the surface as GET /api/surfaces/{id} describes it
let controls;
let state;
let grid = null; // { surface, grid, colors } of the surface on show
let pinRuns = new Map(); // key of a pin's settings → its finished run
let loading = 0; // surface changes under way (their details and grid are being fetched)

const run = () => runs.current;

const player = new Player({
  length: () => (run() ? run().path.length : 0),
  done: () => Boolean(run() && run().done),
  render: (t) => run() && views.show(run(), t),
  onState: () => {
    const r = run();
    const n = r ? r.path.length : 0;
    $("play").dataset.playing = String(player.playing);
    $("play").setAttribute("aria-label", player.playing ? "Pause" : "Play");
    $("scrubber").max = String(Math.max(0, n - 1));
    $("scrubber").value = String(player.t);
    $("t-label").textContent = `t = ${player.t} / ${r && r.done ? r.steps : Math.max(0, n - 1)}`;
  },
});

const runs = new Runs({
  onStart: () => player.reset({ play: true }),
  onProgress: (r) => {
    player.more();
    if (!r.done) views.status("running", `Running… ${r.path.length} iterates so far`);
  },
  onDone: (r, live) => {
    views.status(r.status, r.message);
    views.loss(grid.surface, r, pinList(), () => player.t, live);
    player.more();
  },
  onLive: (r, pointerTime) => {
    player.pause();
    player.t = player.pos = r.path.length - 1;
    player.onState();
    views.show(r, player.t, pointerTime);
    controls.clearErrors();
  },
  onError: showError,
});

function showError(err) {
  if (err instanceof ApiError) controls.showApiError(err);
  views.status("error", err instanceof ApiError ? err.message : `Could not reach the server: ${err.message}`);
}

function startRun() {
  views.status("running", "Running…");
  views.clear();
  runs.start(requestBody(state.surface, state));
  basins.refresh();
}

const liveRun = (pointerTime) => runs.live(requestBody(state.surface, state), pointerTime);

// --- pins ------------------------------------------------------------------------------------

const pinKey = (pin) => encode({ surface: state.surface, ...pin, pins: [] });
const pinList = () => state.pins.map((pin) => ({ ...pin, run: pinRuns.get(pinKey(pin)) }));

async function loadPins() {
  const missing = state.pins.filter((pin) => !pinRuns.has(pinKey(pin)));
  await Promise.all(missing.map(async (pin) => {
    try {
      pinRuns.set(pinKey(pin), await fetchRun(requestBody(state.surface, pin)));
    } catch (err) {
      showError(err);
    }
  }));
  renderPins($("pins"), pinList(), (i) => setPins(state.pins.filter((_, j) => j !== i)));
  $("clear").disabled = state.pins.length === 0;
  $("keep").disabled = state.pins.length >= MAX_PINS;
  await views.build(grid, state.theta0, pinList());
  wireDragOnce();
  const r = run();
  if (r && r.done) views.loss(grid.surface, r, pinList(), () => player.t);
  if (r && r.path.length) views.show(r, player.t);
}

function setPins(pins) {
  state.pins = pins;
  commit();
  loadPins();
}

// --- surface and URL -------------------------------------------------------------------------

async function surfaceOf(id) {
  if (!surfaces.has(id)) surfaces.set(id, await fetchSurface(id));
  return surfaces.get(id);
}

async function fromURL() {
  const surface = await surfaceOf(surfaceIdOf(location.search, controls.offered));
  return decode(location.search, surface);
}

async function loadSurface() {
  const surface = surfaces.get(state.surface);
  if (grid && grid.surface.id === surface.id) return;
  const g = await fetchGrid(surface.id, GRID_N);
  grid = { surface, grid: g, colors: colorField(surface, g) };
  pinRuns = new Map();
  await dataView.build(surface);
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
  gradField.set(state.field);
  controls.write(state, surfaces.get(state.surface));
  picker.write(state.surface);
  if (push) commit();
  try {
    if (surfaceChanged) await loadSurface();
    await loadPins();
    startRun();
  } catch (err) {
    showError(err);
  }
}

async function onChange(kind, surfaceId = $("surface").value) {
  if (kind === "surface") {
    loading += 1;
    try {
      const s = await surfaceOf(surfaceId);
      await apply({ ...defaultsFor(s), optimizer: state.optimizer, hyper: state.hyper, field: state.field }, { push: true });
    } catch (err) {
      showError(err);
    } finally {
      loading -= 1;
    }
    return;
  }
  if (kind === "optimizer") controls.renderHyper($("optimizer").value, {});
  const settings = controls.read();
  if (!settings) return;
  const { surface: _, ...rest } = settings;
  state = { ...state, ...rest };
  if (kind === "eta-live") {
    liveRun(performance.now());
    commitLive();
  } else if (kind === "eta-commit") {
    endGesture(); // the slider's live runs already show this η
  } else {
    commit();
    startRun();
  }
}

const rounded = (point) => point.map((v) => Number(v.toPrecision(6)));

// Plotly's event methods exist once the contour has been drawn the first time.
let dragWired = false;
function wireDragOnce() {
  if (dragWired) return;
  dragWired = true;
  const setTheta0 = (point) => {
    state = { ...state, theta0: rounded(point) };
    controls.writeTheta0(state.theta0);
  };
  wireDrag(views.contour, {
    getTheta0: () => state.theta0,
    onMove: (point, pointerTime) => {
      setTheta0(point);
      liveRun(pointerTime);
      commitLive();
    },
    onEnd: (point) => {
      setTheta0(point);
      endGesture();
      liveRun(performance.now());
    },
    onClick: (point) => {
      setTheta0(point);
      commit();
      views.contour.moveTheta0(state.theta0);
      startRun();
    },
  });
}

// --- start -----------------------------------------------------------------------------------

function wirePlayer() {
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
    if (e.target.closest("input, select, textarea") || e.altKey || e.ctrlKey || e.metaKey || !run()) return;
    if (e.key === " " && !e.target.closest("button")) player.toggle();
    else if (e.key === "ArrowLeft") player.step(-1);
    else if (e.key === "ArrowRight") player.step(1);
    else if (e.key === "Home") player.step(-Infinity);
    else if (e.key === "End") player.step(Infinity);
    else return;
    e.preventDefault();
  });
}

function wire() {
  controls.listen(onChange);
  wirePlayer();
  $("keep").addEventListener("click", () => {
    const { pins, surface, ...settings } = state;
    if (state.pins.some((p) => sameRun(p, settings)) || state.pins.length >= MAX_PINS) return;
    if (run() && run().done) pinRuns.set(pinKey(settings), run());
    setPins([...state.pins, structuredClone(settings)]);
  });
  $("clear").addEventListener("click", () => setPins([]));
  const name = () => `descent-${state.surface.split("?")[0]}-${state.optimizer}-eta${short(state.eta)}`;
  $("export-csv").addEventListener("click", () => run() && download(`${name()}.csv`, toCSV(run()), "text/csv"));
  $("export-json").addEventListener("click", () => run() && download(`${name()}.json`, toJSON(run()), "application/json"));
  window.addEventListener("popstate", async () => {
    loading += 1;
    try {
      await apply(await fromURL(), { push: false });
    } catch (err) {
      showError(err);
    } finally {
      loading -= 1;
    }
  });
  new ResizeObserver(throttle(() => { views.resize(); dataView.resize(); }, 100)).observe(document.querySelector(".main"));
}

async function main() {
  controls = new Controls();
  picker = new SurfacePicker((id) => onChange("surface", id));
  wire();
  let initial;
  try {
    initial = await fromURL();
  } catch (err) {
    views.status("error", `Could not load the surface: ${err.message}`);
    return;
  }
  await apply(initial, { push: false });
  history.replaceState(null, "", encode(state));
  $("app").dataset.state = "ready";
}

// For the browser tests and benchmarks/page.py: read-only views of the page's state.
window.descentLab = {
  get stats() { return { ...views.stats, ...runs.stats }; },
  contour: views.contour,
  basins,
  gradField,
  sweep,
  dataView,
  player,
  get state() { return state; },
  get run() { return run(); },
  // The run on show is finished and is the one the current settings ask for.
  settled: () => Boolean(!loading && run() && run().done && !runs.busy
    && JSON.stringify(run().body) === JSON.stringify(requestBody(state.surface, state))),
};
main();
