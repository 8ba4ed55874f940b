// The page's settings: one plain object, written to and read from the URL.
import { idFromQuery, isCustom, runExtras, surfaceEntries, surfaceSpec } from "./custom.js";
import { short } from "./format.js";
import { CONSTANT, decodeSchedule, scheduleBody, scheduleEntries } from "./schedule.js";

// Hyperparameters besides η, with the API's bounds (see /openapi.json) and torch.optim's defaults.
const unit = { min: 0, max: 1, step: 0.01 };
const open = { min: 0, max: 0.999999, step: 0.001 };
const big = { min: 0, max: 1e6, step: "any" };
export const OPTIMIZERS = {
  gd: { label: "Gradient descent", params: {} },
  momentum: {
    label: "Momentum",
    params: {
      momentum: { label: "momentum μ", value: 0.9, ...unit },
      dampening: { label: "dampening", value: 0, ...unit },
      weight_decay: { label: "weight decay", value: 0, ...big },
    },
  },
  nesterov: {
    label: "Nesterov momentum",
    params: {
      momentum: { label: "momentum μ", value: 0.9, ...unit },
      weight_decay: { label: "weight decay", value: 0, ...big },
    },
  },
  adagrad: {
    label: "Adagrad",
    params: {
      lr_decay: { label: "η decay", value: 0, ...big },
      weight_decay: { label: "weight decay", value: 0, ...big },
      initial_accumulator_value: { label: "initial accumulator", value: 0, ...big },
      eps: { label: "ε", value: 1e-10, ...big },
    },
  },
  rmsprop: {
    label: "RMSprop",
    params: {
      alpha: { label: "α (smoothing)", value: 0.99, ...unit },
      eps: { label: "ε", value: 1e-8, ...big },
      momentum: { label: "momentum μ", value: 0, ...unit },
      weight_decay: { label: "weight decay", value: 0, ...big },
      centered: { label: "centered", value: false, type: "bool" },
    },
  },
  adam: {
    label: "Adam",
    params: {
      beta1: { label: "β₁", value: 0.9, ...open },
      beta2: { label: "β₂", value: 0.999, ...open },
      eps: { label: "ε", value: 1e-8, ...big },
      weight_decay: { label: "weight decay", value: 0, ...big },
      amsgrad: { label: "AMSGrad", value: false, type: "bool" },
    },
  },
  newton: {
    label: "Newton's method",
    params: {
      min_curvature: { label: "min curvature", value: 0.01, min: 1e-12, max: 1e6, step: "any" },
    },
  },
};

const DEFAULT_SURFACE = "himmelblau";
const DEFAULT_STEPS = 1000;
const DEFAULT_TOL = 1e-6;
export const MAX_PINS = 8;

export function defaultsFor(surface) {
  return {
    surface: surface.id,
    optimizer: "gd",
    eta: surface.default_eta,
    hyper: {},
    schedule: { ...CONSTANT }, // issue 7 (schedule.js): η_t's schedule, and gd's line search
    lineSearch: null,
    theta0: [...surface.default_start],
    maxSteps: DEFAULT_STEPS,
    tol: DEFAULT_TOL,
    pins: [],
    race: false, // the pinned runs start from θ₀ too, and follow it when it moves
    field: false, // the gradient field over the contour (gradfield.js)
  };
}

// The run settings of a state or a pin, as the body of POST /api/descent.
export function requestBody(surfaceId, run) {
  return {
    surface: surfaceSpec(surfaceId),
    ...runExtras(surfaceId),
    theta0: run.theta0,
    optimizer: { name: run.optimizer, eta: run.eta, ...run.hyper, ...scheduleBody(run) },
    max_steps: run.maxSteps,
    tol: run.tol,
  };
}

// --- URL ---------------------------------------------------------------------------------------

function runEntries(run) {
  const entries = [
    ["opt", run.optimizer],
    ["eta", short(run.eta)],
    ["x0", short(run.theta0[0])],
    ["y0", short(run.theta0[1])],
    ["steps", String(run.maxSteps)],
    ["tol", short(run.tol)],
  ];
  const spec = OPTIMIZERS[run.optimizer].params;
  for (const [k, v] of Object.entries(run.hyper)) {
    if (k in spec && v !== spec[k].value)
      entries.push([k, typeof v === "boolean" ? String(Number(v)) : short(v)]);
  }
  entries.push(...scheduleEntries(run));
  return entries;
}

export function encode(state) {
  const q = new URLSearchParams([...surfaceEntries(state.surface), ...runEntries(state)]);
  for (const pin of state.pins)
    q.append(
      "pin",
      runEntries(pin)
        .map(([k, v]) => `${k}:${v}`)
        .join(","),
    );
  if (state.race && state.pins.length) q.set("race", "1");
  if (state.basins) q.set("basins", "1");
  if (state.lesson) q.set("lesson", String(state.lesson));
  if (state.present) q.set("present", "1");
  if (state.field) q.set("field", "1");
  return `?${q.toString()}`;
}

function number(text, fallback) {
  const v = Number(text);
  return text !== null && text !== "" && Number.isFinite(v) ? v : fallback;
}

function decodeRun(get, base) {
  const optimizer = get("opt") in OPTIMIZERS ? get("opt") : base.optimizer;
  const hyper = {};
  for (const [k, p] of Object.entries(OPTIMIZERS[optimizer].params)) {
    const raw = get(k);
    if (raw === null) continue;
    hyper[k] = p.type === "bool" ? raw === "1" || raw === "true" : number(raw, p.value);
  }
  return {
    optimizer,
    eta: number(get("eta"), optimizer === "newton" ? 1 : base.eta),
    hyper,
    theta0: [number(get("x0"), base.theta0[0]), number(get("y0"), base.theta0[1])],
    maxSteps: Math.round(number(get("steps"), base.maxSteps)),
    tol: number(get("tol"), base.tol),
    ...decodeSchedule(get, optimizer),
  };
}

// The surface a URL asks for, if the page offers it, else the default (or the first offered).
export function surfaceIdOf(search, offered) {
  const id = idFromQuery(search) ?? new URLSearchParams(search).get("surface");
  if (offered.includes(id) || isCustom(id)) return id;
  return offered.includes(DEFAULT_SURFACE) ? DEFAULT_SURFACE : offered[0];
}

// Read a state on `surface` from location.search; anything missing or malformed falls back to
// the defaults.
export function decode(search, surface) {
  const q = new URLSearchParams(search);
  const base = defaultsFor(surface);
  const state = { ...base, ...decodeRun((k) => q.get(k), base) };
  state.pins = q
    .getAll("pin")
    .slice(0, MAX_PINS)
    .map((text) => {
      const fields = new Map(text.split(",").map((kv) => kv.split(":", 2)));
      return decodeRun((k) => (fields.has(k) ? fields.get(k) : null), base);
    });
  state.race = q.get("race") === "1" && state.pins.length > 0;
  state.basins = q.get("basins") === "1";
  state.lesson = Number(q.get("lesson")) || null;
  state.present = q.get("present") === "1";
  state.field = q.get("field") === "1";
  return state;
}

export const sameRun = (a, b) => JSON.stringify(runEntries(a)) === JSON.stringify(runEntries(b));
