// Entry module: wiring. The page's state lives in one store (store.js). The form, the drag of θ₀,
// the view toggles, the pins and the lessons change it only with store.set, saying how history
// records the change and whether a run starts; the URL (url.js), the views and the requests
// follow by subscription.
import { ApiError, fetchGrid, getOptimizers } from "./api.js";
import { Basins } from "./basins.js";
import { setCatalogue, startEta } from "./catalogue.js";
import { chainOf, replayChain } from "./chain.js";
import { Controls } from "./controls.js";
import { dataId, parseId } from "./custom.js";
import { DataFigure } from "./dataview.js";
import { setAttr, setText, setValue } from "./dom.js";
import { wireDrag } from "./drag.js";
import { FlowView } from "./flow.js";
import { short } from "./format.js";
import { GradField } from "./gradfield.js";
import { Lessons } from "./lessons.js";
import { Runs } from "./live.js";
import { NoiseView } from "./noise.js";
import { paramNames } from "./params.js";
import { SurfacePicker } from "./picker.js";
import { PinnedRuns } from "./pinned.js";
import { renderKeep, renderPins, renderRaceKey } from "./pins.js";
import { Player } from "./player.js";
import { wirePlayer } from "./playerkeys.js";
import { colorField } from "./plotkit.js";
import { Presenter } from "./presenter.js";
import { follow, racersFromForm, renderRacePick } from "./race.js";
import { ResumeOffer } from "./resume.js";
import { download, StreamError, throttle, toCSV, toJSON } from "./runs.js";
import { Sources } from "./sources.js";
import { defaultsFor, encode, MAX_PINS, requestBody, runPart, sameRun } from "./state.js";
import { Store } from "./store.js";
import { Sweep } from "./sweep.js";
import { untabToolbars } from "./toolbars.js";
import { UrlSync } from "./url.js";
import { Views } from "./views.js";

const $ = (id) => document.getElementById(id);
const GRID_N = 80; // grid points per axis: the grid is most of a first load after Plotly.js

const store = new Store();
const now = () => store.state;
const body = () => requestBody(now().surface, now());
const pinned = new PinnedRuns();
let controls;
let picker;
let sources;
let grid = null; // { surface, grid, colors } of the surface on show
let loading = 0; // surface changes under way (their details and grid are being fetched)
let holdPlayer = false; // the next run waits at t = 0: a lesson that is stepped through by hand

// --- views -------------------------------------------------------------------------------------

const views = new Views();
untabToolbars(document.body);
const dataView = new DataFigure($("dataview-figure"), $("dataview"), $("dataview-note"));
views.onShow = (r, t) => {
  dataView.show(r, t);
  gradField.show(r, t);
  flowView.show(r, t);
  noiseView.show(r, t);
};
const basins = new Basins(views.contour, body, {
  button: $("basins"),
  n: $("basins-n"),
  bar: $("basins-progress"),
  legend: $("basins-legend"),
});
basins.onToggle = (on) => store.set({ basins: on }, { history: "push" });
const sweep = new Sweep(
  body,
  { button: $("sweep"), chart: $("sweep-chart"), note: $("sweep-note") },
  (eta) => {
    $("eta").value = String(Number(eta.toPrecision(4)));
    $("eta").dispatchEvent(new Event("change"));
  },
);
// The gradient field sits over the basins canvas (made first) and under the path overlay.
const gradField = new GradField(views.contour, {
  toggle: $("gradfield-toggle"),
  onToggle: (on) => store.set({ field: on }, { history: "push" }),
});
const flowView = new FlowView(views.contour, {
  toggle: $("flow-toggle"),
  onToggle: (on) => store.set({ flow: on }, { history: "push" }),
});
const noiseView = new NoiseView(views.contour, {
  toggle: $("noise-toggle"),
  onToggle: (on) => store.set({ noise: on }, { history: "push" }),
  onData: (change) => setData(change),
});
const lessons = new Lessons({
  onOpen: (id, k) => openLesson(id, k),
  onClose: () => store.set({ lesson: null }, { history: "push" }),
});
const presenter = new Presenter($("present"), (on) =>
  store.set({ present: on }, { history: "replace" }),
);

const run = () => runs.current;
const pinList = () => pinned.list(now());
// The pinned runs race the one on show: the player runs until the longest of them ends.
const raceLength = () =>
  run() ? Math.max(run().path.length, ...pinList().map((p) => (p.run ? p.run.path.length : 0))) : 0;

const player = new Player({
  length: raceLength,
  done: () => Boolean(run()?.done),
  render: (t) => run() && views.show(run(), t),
  onState: () => {
    const n = raceLength();
    setAttr($("play"), "data-playing", String(player.playing));
    setAttr($("play"), "aria-label", player.playing ? "Pause" : "Play");
    setAttr($("scrubber"), "max", String(Math.max(0, n - 1)));
    setValue($("scrubber"), String(player.t));
    setText($("t-label"), `t = ${player.t} / ${Math.max(0, n - 1)}`);
  },
});

// An API error is shown next to the controls it concerns and, in the same words, in the status
// line; a run the server stopped (runs.js StreamError) says why; anything else is the network.
function showError(err) {
  const words = err instanceof ApiError ? controls.showApiError(err) : [];
  let message = `Could not reach the server: ${err.message}`;
  if (words.length) message = words.map((w) => w.replace(/\.?$/, ".")).join(" ");
  else if (err instanceof ApiError || err instanceof StreamError) message = err.message;
  views.status("error", message);
}

// --- runs --------------------------------------------------------------------------------------

const runs = new Runs({
  onStart: (r) => {
    ownRun(r);
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
    if (live) views.liveStatus(r.status, r.message);
    else views.status(r.status, r.message);
    renderLegend();
    views.loss(grid.surface, r, pinList(), () => player.t, live);
    player.more();
  },
  onLive: (r, pointerTime) => {
    ownRun(r);
    player.pause();
    player.t = player.pos = raceLength() - 1;
    player.onState();
    views.show(r, player.t, pointerTime);
    controls.clearShownErrors();
  },
  onError: showError,
});

// "Continue from here" (resume.js): a change mid-run restarts it, and offers to continue instead.
const offer = new ResumeOffer({
  run,
  start: (request, init) => {
    views.status("running", "Continuing…");
    runs.start(request, init);
  },
  onError: showError,
});
const offerContinue = () => offer.changed(run(), player.t, player.playing, body());

// Each segment of the run on show keeps the settings it ran with; the state's chain (chain.js)
// follows the run, so the link holds a continued run: a restart clears it, a continuation adds to it.
function ownRun(r) {
  const last = r.segments.at(-1);
  if (!last.settings) last.settings = runPart(now());
  const chain = chainOf(r);
  if (JSON.stringify(chain) !== JSON.stringify(now().chain ?? []))
    store.set({ chain }, { history: "replace" });
}

// A link to a continued run: replay its earlier segments, then stream the last one on.
async function restoreChain() {
  const s = now();
  views.status("running", "Replaying the continued run…");
  views.clear();
  const bodyOf = (settings) => requestBody(s.surface, settings);
  const { request, prefix } = await replayChain(s.chain, runPart(s), body(), bodyOf);
  if (now() === s) runs.start(body(), { request, prefix });
}

function startRun() {
  offerContinue();
  views.status("running", "Running…");
  views.clear();
  runs.start(body());
  basins.refresh();
}

function liveRun(pointerTime) {
  offerContinue();
  runs.live(body(), pointerTime);
}

// --- pins --------------------------------------------------------------------------------------

async function loadPins() {
  await pinned.fetchMissing(now(), showError);
  renderLegend();
  $("clear").disabled = now().pins.length === 0;
  renderKeep($("keep"), $("keep-note"), now().pins.length, MAX_PINS);
  await views.build(grid, now().theta0, pinList());
  wireDragOnce();
  const r = run();
  if (r?.done) views.loss(grid.surface, r, pinList(), () => player.t);
  if (r?.path.length) views.show(r, player.t);
}

function renderLegend() {
  const settings = runPart(now());
  const r = run();
  const current = r && JSON.stringify(r.body) === JSON.stringify(body()) ? r : null;
  renderPins($("pins"), pinList(), (i) => setPins(now().pins.filter((_, j) => j !== i)), {
    settings,
    run: current,
  });
  renderRaceKey($("race-legend"), pinList(), { settings, run: current });
}

function setPins(pins, change = {}) {
  const race = pins.length > 0 && (change.race ?? now().race); // no race without racers
  store.set({ ...change, pins, race }, { history: "push" });
  return loadPins();
}

// Racing pins start where the run on show starts: move them with θ₀ (and its limits). Called
// before every URL commit outside a gesture.
function followRace() {
  const s = now();
  if (!s.race) return;
  const pins = s.pins.map((pin) => follow(pin, s));
  if (JSON.stringify(pins) === JSON.stringify(s.pins)) return;
  store.set({ pins });
  loadPins();
}

async function startRace() {
  const { list, error } = racersFromForm(runPart(now()), $("race-pick"), $("race-etas").value);
  document.querySelector('[data-error-for="race"]').textContent = error ?? "";
  if (error) return;
  await setPins(list, { race: true });
  startRun();
}

function keepRun() {
  const settings = runPart(now());
  const { pins } = now();
  if (pins.some((p) => sameRun(p, settings)) || pins.length >= MAX_PINS) return;
  if (run()?.done && run().segments.length === 1) pinned.remember(now(), settings, run()); // not a continued run
  setPins([...pins, structuredClone(settings)]);
}

// --- surfaces, lessons and the URL -------------------------------------------------------------

// Work that counts as loading (window.descentLab.settled waits for it); errors are shown.
async function loadingWhile(work) {
  loading += 1;
  try {
    await work();
  } catch (err) {
    showError(err);
  } finally {
    loading -= 1;
  }
}

const openLesson = (id, k = 0) =>
  loadingWhile(async () => {
    const found = await sources.lesson(id, k, Boolean(now()?.present));
    if (!found) return;
    await apply(found, { push: true });
    document.querySelector(".sidebar").scrollTop = 0;
  });

const fromURL = () => sources.fromURL(location.search);

async function loadSurface() {
  const surface = sources.surface(now().surface);
  if (grid && grid.surface.id === surface.id) return;
  const g = await fetchGrid(surface.id, GRID_N);
  grid = { surface, grid: g, colors: colorField(surface, g) };
  pinned.forget();
  await dataView.build(surface);
}

// A whole new state (a link, back or forward, a lesson, another surface): the form shows it, then
// its surface, pins and run load. `hold`: the run waits at t = 0 (a lesson stepped by hand).
async function apply({ state: next, hold = false }, { push }) {
  holdPlayer = hold;
  const surfaceChanged = !grid || next.surface !== now()?.surface;
  store.replace(next, { history: push ? "push" : "none", whole: true });
  try {
    if (surfaceChanged) await loadSurface();
    await loadPins();
    if (now().chain?.length) await restoreChain();
    else startRun();
    if (now().basins) basins.ensure();
    else basins.hide();
  } catch (err) {
    showError(err);
  }
}

// The form changed (controls.js): another surface loads whole; the rest updates the state.
function onChange(kind, surfaceId = $("surface").value) {
  if (kind === "surface") {
    loadingWhile(async () => {
      const s = await sources.surfaceOf(surfaceId);
      const keep = [
        "lesson",
        "present",
        "basins",
        "optimizer",
        "hyper",
        "field",
        "schedule",
        "noise",
      ];
      const kept = Object.fromEntries(keep.map((k) => [k, now()[k]]));
      const next = { ...defaultsFor(s), ...kept, lineSearch: now().lineSearch };
      await apply({ state: { ...next, eta: startEta(now().optimizer, s) } }, { push: true });
    });
    return;
  }
  if (kind === "optimizer") controls.renderHyper($("optimizer").value, {});
  const settings = controls.read();
  if (!settings) return;
  const { surface: _, ...rest } = settings;
  const change = { ...rest, label: "" }; // a lesson's label no longer describes this run
  const fromForm = true; // the form already shows it
  if (kind === "eta-live") {
    store.set(change, { history: "live", run: "live", pointerTime: performance.now(), fromForm });
  } else if (kind === "eta-commit") {
    store.set(change, { history: "end", fromForm }); // the slider's live runs already show this η
  } else {
    store.set(change, { history: "push", run: "start", fromForm });
  }
}

// The noise cloud's batch size or sampling changed: the same run on the dataset with that change.
function setData(change) {
  const id = dataId({ ...parseId(now().surface), ...change });
  loadingWhile(async () => {
    await sources.surfaceOf(id);
    await apply(
      { state: { ...now(), surface: id, chain: [], pins: [], label: "" } },
      { push: true },
    );
  });
}

const rounded = (point) => point.map((v) => Number(v.toPrecision(6)));

// Plotly's event methods exist once the contour has been drawn the first time.
let dragWired = false;
function wireDragOnce() {
  if (dragWired) return;
  dragWired = true;
  // a lesson's label no longer fits a moved θ₀
  const moveTo = (point, cause) => store.set({ theta0: rounded(point), label: "" }, cause);
  wireDrag(views.contour, {
    getTheta0: () => now().theta0,
    onMove: (point, pointerTime) => moveTo(point, { history: "live", run: "live", pointerTime }),
    // Plotly's final anchor of the ring is the last dragged θ₀ to within a pixel: then the run on
    // show (or on its way) is the final one, and the drag ends without another round trip.
    onEnd: (point) => {
      const [ax, ay] = views.contour.toPixels(...point);
      const [bx, by] = views.contour.toPixels(...now().theta0);
      if (Math.hypot(ax - bx, ay - by) <= 1) store.set({}, { history: "end" });
      else moveTo(point, { history: "end", run: "live", pointerTime: performance.now() });
    },
    onClick: (point) => moveTo(point, { history: "push", run: "start", click: true }),
  });
}

// --- subscriptions: in this order, the URL, the views, then the requests -----------------------

// θ₀'s boxes follow a drag ten times a second, ending with the newest: writing a number box costs
// ~0.4 ms of script (its editor is rebuilt), and the pointer moves with every frame.
const writeTheta0 = throttle((theta0) => controls.writeTheta0(theta0), 100);

function subscribe() {
  new UrlSync(store, { encode, beforeCommit: followRace });
  store.subscribe((s, { whole, changed, fromForm, click }) => {
    if (whole || changed("field")) gradField.set(s.field);
    if (whole || changed("flow")) flowView.set(s.flow);
    noiseView.offer(body(), sources.surface(s.surface)?.data?.n ?? 1);
    if (whole || changed("noise")) noiseView.set(s.noise);
    if (whole || changed("lesson") || changed("lessonRun")) {
      lessons.show(s.lesson ?? null, s.lessonRun ?? 0);
    }
    if (whole || changed("present")) presenter.set(Boolean(s.present));
    if (whole) {
      writeTheta0.cancel(); // a dragged θ₀ still waiting would overwrite the new state's
      controls.write(s, sources.surface(s.surface));
      picker.write(s.surface);
    } else if (changed("theta0") && !fromForm) {
      writeTheta0(s.theta0);
    }
    if (click) views.contour.moveTheta0(s.theta0);
  });
  store.subscribe((_, cause) => {
    if (cause.run === "start") startRun();
    else if (cause.run === "live") liveRun(cause.pointerTime);
  });
}

// --- start -------------------------------------------------------------------------------------

function wire() {
  controls.listen(onChange);
  wirePlayer(player, () => Boolean(run()));
  $("keep").addEventListener("click", keepRun);
  $("clear").addEventListener("click", () => setPins([]));
  renderRacePick($("race-pick"));
  $("race").addEventListener("click", startRace);
  $("race-etas").addEventListener("keydown", (e) => {
    if (e.key === "Enter") startRace();
  });
  const name = () => {
    const s = now();
    return `descent-${s.surface.split("?")[0]}-${s.optimizer}-eta${short(s.eta)}`;
  };
  const names = () => paramNames(sources.surface(now().surface));
  $("export-csv").addEventListener(
    "click",
    () => run() && download(`${name()}.csv`, toCSV(run(), names()), "text/csv"),
  );
  $("export-json").addEventListener(
    "click",
    () => run() && download(`${name()}.json`, toJSON(run(), names()), "application/json"),
  );
  window.addEventListener("popstate", () =>
    loadingWhile(async () => apply(await fromURL(), { push: false })),
  );
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
  try {
    setCatalogue(await getOptimizers()); // the optimizer controls are built from it
  } catch (err) {
    views.status("error", `Could not load the optimizers: ${err.message}`);
    return;
  }
  controls = new Controls();
  sources = new Sources(lessons, controls.offered);
  picker = new SurfacePicker((id) => onChange("surface", id));
  subscribe();
  wire();
  let initial;
  try {
    initial = await fromURL();
  } catch (err) {
    views.status("error", `Could not load the surface: ${err.message}`);
    return;
  }
  await apply(initial, { push: false });
  history.replaceState(null, "", encode(now()));
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
  flowView,
  noiseView,
  sweep,
  dataView,
  player,
  get state() {
    return now();
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
        JSON.stringify(run().body) === JSON.stringify(body()),
    ),
};
main();
