// The network page's settings (network.js): one plain object, to and from the URL, and as the
// body of POST /api/networks/train. Names, defaults and limits come from GET /api/networks.
import { hyperparameters } from "./catalogue.js";

const MAX_DRAWN_THETAS = 200; // θ_t kept for the data view: about this many over a run

// The page opens on Cohen et al.'s Chebyshev setup, where full-batch GD meets 2/η.
export function defaultState(info) {
  const d = info.defaults;
  const cheb = info.datasets.find((s) => s.id === "chebyshev") ?? info.datasets[0];
  return {
    dataset: cheb.id,
    points: cheb.default_points,
    noise: cheb.default_noise,
    dataSeed: d.data.seed ?? 0,
    hidden: [...d.architecture.hidden],
    activation: d.architecture.activation,
    initSeed: d.init.seed,
    optimizer: info.optimizers.includes("gd") ? "gd" : info.optimizers[0],
    eta: 0.15,
    hyper: {}, // the optimizer's hyperparameters that differ from the catalogue's defaults
    batch: null, // full batch
    steps: 4000, // lesson 8's run: the sharpness reaches 2/η = 13.3 well before the end
    every: 10, // sharpness every k steps
    iterations: d.sharpness_iterations,
    tol: d.tol,
    plane: null, // the slice on show: null, "pca" or "random"
    planeSeed: 0,
    through: null, // the step whose θ the plane goes through (null: the final θ)
    m: 41,
    cloud: false, // SGD's noise cloud at the final θ, on the slice (netnoise.js)
    cloudBatch: 1,
    cloudEta: null, // SGD's η for the cloud (null: the run's)
    cloudSampling: "with_replacement",
    lesson: null,
    lessonRun: 0,
    present: false, // presenter mode (presenter.js)
  };
}

export function thetaEvery(state) {
  return Math.max(1, Math.ceil(state.steps / MAX_DRAWN_THETAS));
}

export function trainBody(s) {
  return {
    architecture: { hidden: s.hidden, activation: s.activation },
    data: { dataset: s.dataset, points: s.points, noise: s.noise, seed: s.dataSeed },
    init: { seed: s.initSeed },
    optimizer: { name: s.optimizer, eta: s.eta, ...s.hyper },
    max_steps: s.steps,
    tol: s.tol,
    ...(s.batch ? { batch_size: s.batch } : {}),
    sharpness_every: s.every,
    sharpness_iterations: s.iterations,
    theta_every: thetaEvery(s),
  };
}

export function sliceBody(s) {
  const { theta_every: _, ...run } = trainBody(s);
  return {
    run,
    plane: s.plane,
    m: s.m,
    ...(s.plane === "random" ? { seed: s.planeSeed } : {}),
    ...(s.through !== null ? { through: s.through } : {}),
  };
}

// An optimizer body's hyperparameters: all but its name, η and schedule.
function hyperOf(optimizer) {
  const { name: _n, eta: _e, schedule: _s, line_search: _l, ...hyper } = optimizer ?? {};
  return hyper;
}

// A lesson run (a train body, or a slice body { run, plane, m, seed }) → the page's settings.
export function fromLessonRun(base, r) {
  const run = r.run ?? r;
  const data = run.data ?? {};
  const ds = data.dataset ?? base.dataset;
  const state = {
    ...base,
    dataset: ds,
    points: data.points ?? base.points,
    noise: data.noise ?? null,
    dataSeed: data.seed ?? 0,
    hidden: [...(run.architecture?.hidden ?? base.hidden)],
    activation: run.architecture?.activation ?? base.activation,
    initSeed: run.init?.seed ?? 0,
    optimizer: run.optimizer?.name ?? base.optimizer,
    hyper: hyperOf(run.optimizer),
    eta: run.optimizer?.eta ?? base.eta,
    batch: run.batch_size ?? null,
    steps: run.max_steps ?? base.steps,
    every: run.sharpness_every || base.every,
    iterations: run.sharpness_iterations ?? base.iterations,
    tol: run.tol ?? base.tol,
    plane: r.plane ?? null,
    planeSeed: r.seed ?? 0,
    through: r.through ?? null,
    m: r.m ?? base.m,
  };
  return state;
}

// --- URL ---------------------------------------------------------------------------------------

const KEYS = {
  dataset: "data",
  points: "points",
  noise: "noise",
  dataSeed: "dseed",
  activation: "act",
  initSeed: "seed",
  optimizer: "opt",
  eta: "eta",
  batch: "batch",
  steps: "steps",
  every: "every",
  iterations: "lanczos",
  tol: "tol",
  plane: "plane",
  planeSeed: "pseed",
  through: "through",
  m: "m",
  cloudBatch: "cb",
  cloudEta: "ceta",
  cloudSampling: "cs",
  lesson: "lesson",
};

export function encode(s) {
  const q = new URLSearchParams();
  for (const [k, key] of Object.entries(KEYS)) {
    const v = s[k];
    if (v !== null && v !== undefined && v !== "") q.set(key, String(v));
  }
  q.set("hidden", s.hidden.join("-"));
  if (s.present) q.set("present", "1");
  if (s.cloud) q.set("cloud", "1");
  for (const [k, v] of Object.entries(s.hyper))
    q.set(`h.${k}`, String(typeof v === "boolean" ? Number(v) : v));
  return `?${q.toString()}`;
}

const numeric = new Set(
  Object.keys(KEYS).filter(
    (k) => !["dataset", "activation", "optimizer", "plane", "cloudSampling"].includes(k),
  ),
);

// A state from location.search on top of `base`; the API judges the values (a 422 in words).
export function decode(search, base, info) {
  const q = new URLSearchParams(search);
  const state = { ...base };
  for (const [k, key] of Object.entries(KEYS)) {
    const raw = q.get(key);
    if (raw === null || raw === "") continue;
    if (numeric.has(k)) {
      const v = Number(raw);
      if (Number.isFinite(v)) state[k] = v;
    } else state[k] = raw;
  }
  const hidden = q.get("hidden");
  if (hidden) {
    const widths = hidden.split("-").map(Number);
    if (widths.every((w) => Number.isInteger(w) && w > 0)) state.hidden = widths;
  }
  if (!["pca", "random"].includes(state.plane)) state.plane = null;
  state.present = q.get("present") === "1";
  state.cloud = q.get("cloud") === "1";
  if (!["with_replacement", "without_replacement"].includes(state.cloudSampling))
    state.cloudSampling = "with_replacement";
  state.hyper = {};
  for (const p of hyperparameters(state.optimizer)) {
    const raw = q.get(`h.${p.name}`);
    if (raw === null || raw === "") continue;
    const v = p.type === "bool" ? raw === "1" || raw === "true" : Number(raw);
    if (p.type === "bool" || Number.isFinite(v)) state.hyper[p.name] = v;
  }
  // Another data set than the base's: its own default size and noise, unless the link says.
  const ds = info.datasets.find((d) => d.id === state.dataset);
  if (ds && state.dataset !== base.dataset) {
    if (!q.get("points")) state.points = ds.default_points;
    if (!q.get("noise")) state.noise = ds.default_noise;
  }
  return state;
}
