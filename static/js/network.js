// Entry module of the network page (templates/network.html, issue 18): train a small network
// (POST /api/networks/train/stream), chart its loss and sharpness against 2/η, slice its loss on
// a PCA or random plane (POST /api/networks/slice) in the contour and 3-D views, and draw the data
// with the network at θ_t. The settings live in one store; the URL, the form and the requests
// follow it by subscription.
import {
  ApiError,
  getLessons,
  getNetworks,
  getOptimizers,
  postNetworkNoise,
  postNetworkSlice,
  streamNetwork,
} from "./api.js";
import { labelOf, setCatalogue } from "./catalogue.js";
import { num } from "./format.js";
import { NetCharts } from "./netcharts.js";
import { forward, NetData } from "./netdata.js";
import { NetForm } from "./netform.js";
import { NetLessons } from "./netlessons.js";
import { CloudView, cloudBody } from "./netnoise.js";
import { SliceView } from "./netslice.js";
import { decode, defaultState, encode, fromLessonRun, sliceBody, trainBody } from "./netstate.js";
import { Player, SPEEDS } from "./player.js";
import { wirePlayer } from "./playerkeys.js";
import { Presenter } from "./presenter.js";
import { throttle } from "./runs.js";
import { Store } from "./store.js";
import { UrlSync } from "./url.js";

const $ = (id) => document.getElementById(id);
const store = new Store();
const now = () => store.state;

const charts = new NetCharts($("net-chart"));
const dataView = new NetData($("net-data"), $("netdata-note"));
const slice = new SliceView();
const cloud = new CloudView(slice.contour, $("cloud-readout"));
let info = null; // GET /api/networks
let form = null;
let lessons = null;
let presenter = null;
let run = null; // the run on show (see newRun)
let training = null; // AbortController of the stream under way
let slicing = null; // AbortController of the slice request under way
let clouding = null; // AbortController of the noise-cloud request under way
let busy = 0; // requests under way (settled() waits for them)

function status(kind, message) {
  $("status").dataset.status = kind;
  $("status-badge").textContent = kind === "max_steps" ? "max steps" : kind.replace("_", " ");
  $("status-message").textContent = message;
}

function showError(err, where = "") {
  if (err?.name === "AbortError") return;
  const message =
    err instanceof ApiError ? err.message : `Could not reach the server: ${err.message}`;
  $("net-error").textContent = message;
  status("error", `${where}${message}`);
}

// --- the run -----------------------------------------------------------------------------------

function newRun(body) {
  return {
    body: JSON.stringify(body),
    start: null,
    t: [],
    loss: [],
    gnorm: [],
    eta: [],
    sharpT: [],
    sharp: [],
    thetaT: [], // steps whose θ was sent, ascending
    theta: [],
    limit: 2 / body.optimizer.eta,
    steps: body.max_steps,
    end: null,
  };
}

// θ at step t: the last one sent at or before it.
function thetaAt(r, t) {
  let k = -1;
  for (let i = 0; i < r.thetaT.length && r.thetaT[i] <= t; i++) k = i;
  return k < 0 ? null : r.theta[k];
}

const drawCharts = throttle(() => run && charts.draw(run), 200);
const chartMarker = throttle((t) => charts.show(t), 80); // a relayout of the chart costs a few ms

function take(lines) {
  for (const line of lines) {
    if (line.type === "start") {
      run.start = line;
      run.limit = line.stability_limit;
      dataView.build(line).catch((err) => showError(err, "The data view: "));
    } else if (line.type === "step") {
      run.t.push(line.t);
      run.loss.push(line.loss);
      run.gnorm.push(line.grad_norm);
      run.eta.push(line.eta);
      if (line.sharpness !== undefined && line.sharpness !== null) {
        run.sharpT.push(line.t);
        run.sharp.push(line.sharpness);
      }
      if (line.theta) {
        run.thetaT.push(line.t);
        run.theta.push(line.theta);
      }
    } else if (line.type === "end") {
      run.end = line;
    } else if (line.type === "error") {
      run.end = { status: "error", message: line.message };
    }
  }
}

async function train() {
  training?.abort();
  slicing?.abort();
  const controller = new AbortController();
  training = controller;
  const body = trainBody(now());
  run = newRun(body);
  $("net-error").textContent = "";
  $("eos-sentence").textContent = "";
  $("n-limit").textContent = num(run.limit, 4);
  slice.clear();
  cloud.clear();
  player.reset({ play: true });
  status("running", "Training…");
  busy += 1;
  try {
    await streamNetwork(body, {
      signal: controller.signal,
      onLines: (lines) => {
        if (training !== controller) return;
        take(lines);
        drawCharts();
        player.more();
        if (!run.end) status("running", `Training… step ${run.t.at(-1) ?? 0} of ${run.steps}`);
      },
    });
    if (training !== controller) return;
    await charts.draw(run);
    const end = run.end;
    status(end?.status ?? "error", end?.message ?? "The stream ended without an end line.");
    $("eos-sentence").textContent = end?.sharpness?.sentence ?? "";
    player.more();
    if (end?.status !== "error" && now().plane) await loadSlice();
  } catch (err) {
    if (training === controller) showError(err);
  } finally {
    busy -= 1;
  }
}

async function loadSlice() {
  slicing?.abort();
  const controller = new AbortController();
  slicing = controller;
  const s = now();
  const wasStatus = $("status-message").textContent;
  const wasKind = $("status").dataset.status;
  status("running", `Slicing the loss on the ${s.plane === "pca" ? "PCA" : "random"} plane…`);
  busy += 1;
  try {
    const result = await postNetworkSlice(sliceBody(s), controller.signal);
    if (slicing !== controller) return;
    await slice.build(result);
    slice.show(player.t);
    status(wasKind, wasStatus);
    loadCloud();
  } catch (err) {
    if (slicing === controller) showError(err, "The slice: ");
  } finally {
    busy -= 1;
  }
}

// SGD's cloud around the final θ on the slice on show (netnoise.js), when asked for.
async function loadCloud() {
  clouding?.abort();
  const s = now();
  if (!s.cloud || !slice.slice) return cloud.clear();
  if (s.through !== null)
    return cloud.fail("The cloud is around the final θ: slice through the final θ to see it.");
  const controller = new AbortController();
  clouding = controller;
  cloud.loading();
  busy += 1;
  try {
    const result = await postNetworkNoise(cloudBody(sliceBody(s), s), controller.signal);
    if (clouding === controller) cloud.show(result);
  } catch (err) {
    if (clouding === controller && err?.name !== "AbortError")
      cloud.fail(
        err instanceof ApiError ? err.message : `Could not reach the server: ${err.message}`,
      );
  } finally {
    busy -= 1;
  }
}

// --- the player --------------------------------------------------------------------------------

function render(t) {
  if (!run || !run.t.length) return;
  const i = Math.min(t, run.t.length - 1);
  const step = run.t[i];
  $("n-t").textContent = String(step);
  $("n-loss").textContent = num(run.loss[i], 6);
  $("n-gnorm").textContent = num(run.gnorm[i], 4);
  let k = -1;
  for (let j = 0; j < run.sharpT.length && run.sharpT[j] <= step; j++) k = j;
  $("n-sharp").textContent = k < 0 ? "—" : `${num(run.sharp[k], 4)} (at t = ${run.sharpT[k]})`;
  chartMarker(step);
  slice.show(step);
  dataView.show(thetaAt(run, step));
}

const player = new Player({
  length: () => run?.t.length ?? 0,
  done: () => Boolean(run?.end),
  render,
  onState: () => {
    const n = run?.t.length ?? 0;
    $("play").dataset.playing = String(player.playing);
    $("play").setAttribute("aria-label", player.playing ? "Pause" : "Play");
    $("scrubber").max = String(Math.max(0, n - 1));
    $("scrubber").value = String(player.t);
    $("t-label").textContent = `t = ${player.t} / ${Math.max(0, n - 1)}`;
  },
});

// --- state -------------------------------------------------------------------------------------

async function lessonState(id, k) {
  const lesson = await lessons.get(id);
  if (!lesson?.views?.network) return null;
  const r = lesson.runs[k] ?? lesson.runs[0];
  return {
    ...fromLessonRun(defaultState(info), r),
    lesson: id,
    lessonRun: lesson.runs.indexOf(r),
    present: Boolean(now()?.present) || new URLSearchParams(location.search).get("present") === "1",
  };
}

async function fromURL() {
  const q = new URLSearchParams(location.search);
  const id = Number(q.get("lesson"));
  if (id && !q.has("opt")) {
    const s = await lessonState(id, 0);
    if (s) return s;
  }
  return decode(location.search, defaultState(info), info);
}

function subscribe() {
  new UrlSync(store, { encode, beforeCommit: () => {} });
  store.subscribe((s, { whole, fromForm, changed }) => {
    if (!fromForm) form.write(s);
    if (whole || changed("lesson") || changed("lessonRun")) lessons.show(s.lesson, s.lessonRun);
    if (whole || changed("present")) presenter.set(Boolean(s.present));
    for (const b of document.querySelectorAll("[data-plane]"))
      b.setAttribute("aria-pressed", String(b.dataset.plane === s.plane));
    $("slice-through").setAttribute("aria-pressed", String(s.through !== null));
    $("slice-centre").textContent = s.through === null ? "the final θ" : `θ at t = ${s.through}`;
    $("cloud-on").checked = s.cloud;
    $("cloud-b").value = String(s.cloudBatch);
    $("cloud-eta").value = s.cloudEta ? String(s.cloudEta) : "";
    $("cloud-sampling").value = s.cloudSampling;
  });
  store.subscribe((s, cause) => {
    if (cause.run === "train") train();
    else if (cause.run === "cloud" && slice.slice) loadCloud();
    else if (cause.run === "slice" || cause.run === "cloud") {
      if (!s.plane) {
        slice.clear();
        cloud.clear();
      } else if (run?.end && run.body === JSON.stringify(trainBody(s))) loadSlice();
      else train();
    }
  });
}

async function openLesson(id, k) {
  const s = await lessonState(id, k);
  if (s) store.replace(s, { history: "push", whole: true, run: "train" });
  else location.assign(`/?lesson=${id}${now().present ? "&present=1" : ""}`); // a 2-D lesson
}

function wire() {
  $("net-form").addEventListener("submit", (e) => {
    e.preventDefault();
    const change = form.read();
    if (!change) return;
    // a new run: its plane goes through its final θ (a step of the old one may not exist)
    const fresh = { ...change, lesson: null, through: null };
    store.set(fresh, { history: "push", run: "train", fromForm: true });
  });
  for (const b of document.querySelectorAll("[data-plane]"))
    b.addEventListener("click", () => {
      const plane = now().plane === b.dataset.plane ? null : b.dataset.plane;
      store.set({ plane }, { history: "push", run: "slice" });
    });
  // The cloud needs a slice to be drawn on: the PCA plane unless one is on show.
  const cloudChange = (change) =>
    store.set(
      { ...change, plane: now().plane ?? "pca" },
      { history: "push", run: now().plane ? "cloud" : "slice" },
    );
  $("cloud-on").addEventListener("change", (e) => cloudChange({ cloud: e.target.checked }));
  $("cloud-b").addEventListener("change", (e) => {
    const b = Math.round(e.target.valueAsNumber);
    if (Number.isFinite(b) && b >= 1) cloudChange({ cloud: true, cloudBatch: b });
  });
  $("cloud-eta").addEventListener("change", (e) => {
    const eta = e.target.valueAsNumber;
    cloudChange({ cloud: true, cloudEta: Number.isFinite(eta) && eta > 0 ? eta : null });
  });
  $("cloud-sampling").addEventListener("change", (e) =>
    cloudChange({ cloud: true, cloudSampling: e.target.value }),
  );
  $("speed").replaceChildren(
    ...SPEEDS.map((v) => new Option(v === "auto" ? "auto" : `${v} /s`, String(v))),
  );
  // The plane through θ at the player's step, or (again) back through the final θ.
  $("slice-through").addEventListener("click", () => {
    const step = run?.t[Math.min(player.t, run.t.length - 1)];
    const through = now().through === null && step !== undefined ? step : null;
    store.set({ through, plane: now().plane ?? "pca" }, { history: "push", run: "slice" });
  });
  wirePlayer(player, () => Boolean(run?.t.length));
  window.addEventListener("popstate", async () => {
    try {
      store.replace(await fromURL(), { history: "none", whole: true, run: "train" });
    } catch (err) {
      showError(err);
    }
  });
  const resized = new ResizeObserver(
    throttle(() => {
      slice.resize();
      for (const id of ["net-chart", "net-data", "slice-3d"])
        if ($(id).layout) window.Plotly.Plots.resize($(id));
    }, 150),
  );
  // The views' boxes change with the window and with what sits above them (a wrapped status line).
  for (const el of [".main", ".contour-box", "#slice-3d"])
    resized.observe(document.querySelector(el));
}

async function main() {
  try {
    const [networks, optimizers] = await Promise.all([getNetworks(), getOptimizers()]);
    info = networks;
    setCatalogue(optimizers);
  } catch (err) {
    showError(err, "Could not load what networks can be built: ");
    return;
  }
  form = new NetForm(info, labelOf);
  presenter = new Presenter($("present"), (on) =>
    store.set({ present: on }, { history: "replace" }),
  );
  lessons = new NetLessons(getLessons, (id, k) => openLesson(id, k));
  subscribe();
  wire();
  let initial;
  try {
    initial = await fromURL();
  } catch (err) {
    showError(err);
    return;
  }
  store.replace(initial, { history: "none", whole: true, run: "train" });
  history.replaceState(null, "", encode(now()));
  $("app").dataset.state = "ready";
}

// For the browser tests: read-only views of the page.
window.networkLab = {
  get state() {
    return now();
  },
  get run() {
    return run;
  },
  get slice() {
    return slice.slice;
  },
  get drawnTheta() {
    return dataView.theta;
  },
  get cloud() {
    return cloud.data;
  },
  forward, // the data view's forward pass (netdata.js), for the tests

  player,
  settled: () =>
    Boolean(busy === 0 && run?.end && run.body === JSON.stringify(trainBody(now()))) &&
    (!now().plane || Boolean(slice.slice && slice.slice.plane === now().plane)),
};
main();
