// Entry module: load the surfaces, and wire the form, the views, the player, the runs and the URL.
import { ApiError, fetchGrid, fetchSurface } from "./api.js";
import { Basins } from "./basins.js";
import { Controls } from "./controls.js";
import { DataFigure } from "./dataview.js";
import { wireDrag } from "./drag.js";
import { short } from "./format.js";
import { GradField } from "./gradfield.js";
import { Lessons, stateOfLesson } from "./lessons.js";
import { Runs } from "./live.js";
import { SurfacePicker } from "./picker.js";
import { renderPins, renderRaceKey } from "./pins.js";
import { Player } from "./player.js";
import { wirePlayer } from "./playerkeys.js";
import { colorField } from "./plotkit.js";
import { Presenter } from "./presenter.js";
import { follow, racersFromForm, renderRacePick } from "./race.js";
import { ResumeOffer } from "./resume.js";
import { download, fetchRun, throttle, toCSV, toJSON } from "./runs.js";
import {
  decode,
  defaultsFor,
  encode,
  MAX_PINS,
  requestBody,
  sameRun,
  surfaceIdOf,
} from "./state.js";
import { Sweep } from "./sweep.js";
import { Views } from "./views.js";

const $ = (id) => document.getElementById(id);
const GRID_N = 80; // grid points per axis: the grid is most of a first load after Plotly.js

const views = new Views();
const dataView = new DataFigure($("dataview-figure"), $("dataview"), $("dataview-note"));
views.onShow = (r, t) => {
  dataView.show(r, t);
  gradField.show(r, t);
};
const basins = new Basins(views.contour, () => requestBody(state.surface, state), {
  button: $("basins"),
  n: $("basins-n"),
  bar: $("basins-progress"),
  legend: $("basins-legend"),
});
basins.onToggle = (on) => {
  state = { ...state, basins: on };
  commit();
};
const sweep = new Sweep(
  () => requestBody(state.surface, state),
  { button: $("sweep"), chart: $("sweep-chart"), note: $("sweep-note") },
  (eta) => {
    $("eta").value = String(Number(eta.toPrecision(4)));
    $("eta").dispatchEvent(new Event("change"));
  },
);
// The gradient field sits over the basins canvas (made first) and under the path overlay.
const gradField = new GradField(views.contour, {
  toggle: $("gradfield-toggle"),
  onToggle: (on) => {
    state = { ...state, field: on };
    commit();
  },
});
let picker;
const surfaces = new Map(); // id → the surface as GET /api/surfaces/{id} describes it
let controls;
let state;
let grid = null; // { surface, grid, colors } of the surface on show
let pinRuns = new Map(); // key of a pin's settings → its finished run
let loading = 0; // surface changes under way (their details and grid are being fetched)

const run = () => runs.current;
// The settings of the run on show, without what belongs to the page (pins, views, lesson).
// eslint-disable-next-line no-unused-vars
const runPart = ({
  pins,
  surface,
  race,
  field,
  basins: _b,
  lesson,
  lessonRun,
  present,
  ...settings
}) => settings;
// The pinned runs race the one on show: the player runs until the longest of them ends.
const raceLength = () =>
  run() ? Math.max(run().path.length, ...pinList().map((p) => (p.run ? p.run.path.length : 0))) : 0;

const player = new Player({
  length: raceLength,
  done: () => Boolean(run()?.done),
  render: (t) => run() && views.show(run(), t),
  onState: () => {
    const n = raceLength();
    $("play").dataset.playing = String(player.playing);
    $("play").setAttribute("aria-label", player.playing ? "Pause" : "Play");
    $("scrubber").max = String(Math.max(0, n - 1));
    $("scrubber").value = String(player.t);
    $("t-label").textContent = `t = ${player.t} / ${Math.max(0, n - 1)}`;
  },
});

const runs = new Runs({
  onStart: (r) => {
    // a continued run plays on from where it continues; a step-by-step lesson waits
    player.reset({ play: !holdPlayer, t: Math.max(0, r.startT - 1) });
    if (holdPlayer) player.seek(player.t);
    holdPlayer = false;
  },
  onProgress: (r) => {
    player.more();
    if (!r.done) views.status("running", `Running… ${r.path.length} iterates so far`);
  },
  onDone: (r, live) => {
    views.status(r.status, r.message);
    renderLegend();
    views.loss(grid.surface, r, pinList(), () => player.t, live);
    player.more();
  },
  onLive: (r, pointerTime) => {
    player.pause();
    player.t = player.pos = raceLength() - 1;
    player.onState();
    views.show(r, player.t, pointerTime);
    controls.clearErrors();
  },
  onError: showError,
});

function showError(err) {
  if (err instanceof ApiError) controls.showApiError(err);
  views.status(
    "error",
    err instanceof ApiError ? err.message : `Could not reach the server: ${err.message}`,
  );
}

// "Continue from here" (resume.js): a change mid-run restarts it, and offers to continue instead.
const offer = new ResumeOffer({
  run,
  start: (body, init) => {
    views.status("running", "Continuing…");
    runs.start(body, init);
  },
  onError: showError,
});
const offerContinue = () =>
  offer.changed(run(), player.t, player.playing, requestBody(state.surface, state));

function startRun() {
  offerContinue();
  views.status("running", "Running…");
  views.clear();
  runs.start(requestBody(state.surface, state));
  basins.refresh();
}

const liveRun = (pointerTime) => {
  offerContinue();
  runs.live(requestBody(state.surface, state), pointerTime);
};

// --- pins ------------------------------------------------------------------------------------

const pinKey = (pin) => encode({ surface: state.surface, ...pin, pins: [] });
const pinList = () => state.pins.map((pin) => ({ ...pin, run: pinRuns.get(pinKey(pin)) }));

async function loadPins() {
  const missing = state.pins.filter((pin) => !pinRuns.has(pinKey(pin)));
  await Promise.all(
    missing.map(async (pin) => {
      try {
        pinRuns.set(pinKey(pin), await fetchRun(requestBody(state.surface, pin)));
      } catch (err) {
        showError(err);
      }
    }),
  );
  renderLegend();
  $("clear").disabled = state.pins.length === 0;
  $("keep").disabled = state.pins.length >= MAX_PINS;
  await views.build(grid, state.theta0, pinList());
  wireDragOnce();
  const r = run();
  if (r?.done) views.loss(grid.surface, r, pinList(), () => player.t);
  if (r?.path.length) views.show(r, player.t);
}

function renderLegend() {
  const settings = runPart(state);
  const r = run();
  const current =
    r && JSON.stringify(r.body) === JSON.stringify(requestBody(state.surface, state)) ? r : null;
  renderPins($("pins"), pinList(), (i) => setPins(state.pins.filter((_, j) => j !== i)), {
    settings,
    run: current,
  });
  renderRaceKey($("race-legend"), pinList(), { settings, run: current });
}

function setPins(pins) {
  state.pins = pins;
  if (!pins.length) state.race = false;
  commit();
  return loadPins();
}

// Racing pins start where the run on show starts: move them with θ₀ (and its limits).
function followRace() {
  if (!state.race) return false;
  const pins = state.pins.map((pin) => follow(pin, state));
  if (JSON.stringify(pins) === JSON.stringify(state.pins)) return false;
  state.pins = pins;
  return true;
}

async function startRace() {
  const { list, error } = racersFromForm(runPart(state), $("race-pick"), $("race-etas").value);
  document.querySelector('[data-error-for="race"]').textContent = error ?? "";
  if (error) return;
  state.race = true;
  await setPins(list);
  startRun();
}

// --- surface and URL -------------------------------------------------------------------------

async function surfaceOf(id) {
  if (!surfaces.has(id)) surfaces.set(id, await fetchSurface(id));
  return surfaces.get(id);
}

// A lesson link (?lesson=3) sets the lesson's whole state; with run settings besides, those win.
async function fromURL() {
  const q = new URLSearchParams(location.search);
  const lesson = Number(q.get("lesson"));
  if (lesson && !q.has("opt")) {
    const next = await lessonState(lesson, 0);
    if (next) return { ...next, present: q.get("present") === "1" };
  }
  const surface = await surfaceOf(surfaceIdOf(location.search, controls.offered));
  const state_ = decode(location.search, surface);
  // A lesson whose settings were changed keeps its card; an unknown lesson number is dropped.
  if (state_.lesson) {
    await lessons.load();
    if (!lessons.get(state_.lesson)) state_.lesson = null;
  }
  return state_;
}

// --- lessons and presenter mode ------------------------------------------------------------------

let holdPlayer = false; // the next run waits at t = 0: a lesson that is stepped through by hand
const lessons = new Lessons({
  onOpen: (id, k) => openLesson(id, k),
  onClose: () => {
    state.lesson = null;
    lessons.show(null);
    commit();
  },
});
const presenter = new Presenter($("present"), (on) => {
  state = { ...state, present: on };
  commit(true);
});

async function lessonState(id, k) {
  await lessons.load();
  const lesson = lessons.get(id);
  if (!lesson) return null;
  holdPlayer = Boolean(lesson.views.paused);
  const next = await stateOfLesson(lesson, k, async (sid) => defaultsFor(await surfaceOf(sid)));
  return { ...next, present: Boolean(state?.present) };
}

async function openLesson(id, k = 0) {
  loading += 1;
  try {
    const next = await lessonState(id, k);
    if (!next) return;
    await apply(next, { push: true });
    document.querySelector(".sidebar").scrollTop = 0;
  } catch (err) {
    showError(err);
  } finally {
    loading -= 1;
  }
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
  if (!inGesture && followRace()) loadPins();
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
  const replace = inGesture;
  inGesture = false;
  commit(replace);
}

async function apply(next, { push }) {
  const surfaceChanged = !grid || next.surface !== state?.surface;
  state = next;
  gradField.set(state.field);
  lessons.show(state.lesson ?? null, state.lessonRun ?? 0);
  presenter.set(Boolean(state.present));
  controls.write(state, surfaces.get(state.surface));
  picker.write(state.surface);
  if (push) commit();
  try {
    if (surfaceChanged) await loadSurface();
    await loadPins();
    startRun();
    if (state.basins) basins.ensure();
    else basins.hide();
  } catch (err) {
    showError(err);
  }
}

async function onChange(kind, surfaceId = $("surface").value) {
  if (kind === "surface") {
    loading += 1;
    try {
      const s = await surfaceOf(surfaceId);
      await apply(
        {
          ...defaultsFor(s),
          lesson: state.lesson,
          present: state.present,
          basins: state.basins,
          optimizer: state.optimizer,
          hyper: state.hyper,
          field: state.field,
          schedule: state.schedule,
          lineSearch: state.lineSearch,
          ...(state.optimizer === "newton" ? { eta: 1 } : {}),
        },
        { push: true },
      );
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
  state = { ...state, ...rest, label: "" }; // a lesson's label no longer describes this run
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
    state = { ...state, theta0: rounded(point), label: "" }; // a lesson's label no longer fits
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

function wire() {
  controls.listen(onChange);
  wirePlayer(player, () => Boolean(run()));
  $("keep").addEventListener("click", () => {
    const settings = runPart(state);
    if (state.pins.some((p) => sameRun(p, settings)) || state.pins.length >= MAX_PINS) return;
    if (run()?.done && run().segments.length === 1) pinRuns.set(pinKey(settings), run()); // not a continued run
    setPins([...state.pins, structuredClone(settings)]);
  });
  $("clear").addEventListener("click", () => setPins([]));
  renderRacePick($("race-pick"));
  $("race").addEventListener("click", startRace);
  $("race-etas").addEventListener("keydown", (e) => {
    if (e.key === "Enter") startRace();
  });
  const name = () =>
    `descent-${state.surface.split("?")[0]}-${state.optimizer}-eta${short(state.eta)}`;
  $("export-csv").addEventListener(
    "click",
    () => run() && download(`${name()}.csv`, toCSV(run()), "text/csv"),
  );
  $("export-json").addEventListener(
    "click",
    () => run() && download(`${name()}.json`, toJSON(run()), "application/json"),
  );
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
  // The figures' boxes change with the window, and with what sits above them (the race key, a
  // wrapped status message, presenter mode).
  const resized = new ResizeObserver(
    throttle(() => {
      views.resize();
      dataView.resize();
    }, 100),
  );
  for (const el of [".main", ".contour-box", "#surface3d"])
    resized.observe(document.querySelector(el));
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
  get stats() {
    return { ...views.stats, ...runs.stats };
  },
  contour: views.contour,
  basins,
  gradField,
  sweep,
  dataView,
  player,
  get state() {
    return state;
  },
  get run() {
    return run();
  },
  get pins() {
    return pinList();
  }, // the pinned runs (racers), each with its finished run
  // The run on show is finished and is the one the current settings ask for.
  settled: () =>
    Boolean(
      !loading &&
        run() &&
        run().done &&
        !runs.busy &&
        JSON.stringify(run().body) === JSON.stringify(requestBody(state.surface, state)),
    ),
};
main();
