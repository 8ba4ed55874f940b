// The page's settings: one plain object, written to and read from the URL.

import { hasOptimizer, hyperparameters, optimizerList, startEta } from "./catalogue.js";
import { idFromQuery, isCustom, runExtras, surfaceEntries, surfaceSpec } from "./custom.js";
import { short } from "./format.js";
import { CONSTANT, decodeSchedule, scheduleBody, scheduleEntries } from "./schedule.js";

const DEFAULT_SURFACE = "himmelblau";
const DEFAULT_OPTIMIZER = "gd"; // the page opens on plain gradient descent (else the first offered)
const DEFAULT_STEPS = 1000;
const DEFAULT_TOL = 1e-6;
export const MAX_PINS = 8;

const defaultOptimizer = () =>
  hasOptimizer(DEFAULT_OPTIMIZER) ? DEFAULT_OPTIMIZER : optimizerList()[0].name;

export function defaultsFor(surface) {
  return {
    surface: surface.id,
    optimizer: defaultOptimizer(),
    eta: startEta(defaultOptimizer(), surface),
    hyper: {},
    schedule: { ...CONSTANT }, // issue 7 (schedule.js): η_t's schedule, and gd's line search
    lineSearch: null,
    theta0: [...surface.default_start],
    maxSteps: DEFAULT_STEPS,
    tol: DEFAULT_TOL,
    pins: [],
    race: false, // the pinned runs start from θ₀ too, and follow it when it moves
    field: false, // the gradient field over the contour (gradfield.js)
    flow: false, // the gradient flow and the modified flow beside the run (flow.js)
    noise: false, // minibatch SGD's noise cloud around θ* (noise.js)
    chain: [], // a continued run's earlier segments (chain.js)
  };
}

// The settings of the run on show, without what belongs to the page (pins, views, lesson): the
// shape of a pin.
export const runPart = ({
  chain,
  pins,
  surface,
  race,
  field,
  flow,
  noise,
  basins,
  lesson,
  lessonRun,
  present,
  ...settings
}) => settings;

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
  for (const p of hyperparameters(run.optimizer)) {
    const v = run.hyper[p.name];
    if (v !== undefined && v !== p.default) {
      entries.push([p.name, typeof v === "boolean" ? String(Number(v)) : short(v)]);
    }
  }
  entries.push(...scheduleEntries(run));
  return entries;
}

// What every segment of a continued run shares: a link gives it once.
const COMMON = new Set(["x0", "y0", "steps", "tol"]);

export function encode(state) {
  const q = new URLSearchParams([...surfaceEntries(state.surface), ...runEntries(state)]);
  for (const pin of state.pins)
    q.append(
      "pin",
      runEntries(pin)
        .map(([k, v]) => `${k}:${v}`)
        .join(","),
    );
  // A continued run's earlier segments: their optimizer settings and where the next takes over.
  for (const c of state.chain ?? [])
    q.append(
      "cont",
      [...runEntries(c).filter(([k]) => !COMMON.has(k)), ["at", String(c.at)]]
        .map(([k, v]) => `${k}:${v}`)
        .join(","),
    );
  if (state.race && state.pins.length) q.set("race", "1");
  if (state.basins) q.set("basins", "1");
  if (state.lesson) q.set("lesson", String(state.lesson));
  if (state.present) q.set("present", "1");
  if (state.field) q.set("field", "1");
  if (state.flow) q.set("flow", "1");
  if (state.noise) q.set("noise", "1");
  return `?${q.toString()}`;
}

function number(text, fallback) {
  const v = Number(text);
  return text !== null && text !== "" && Number.isFinite(v) ? v : fallback;
}

// `base`: the defaults on `surface`.
function decodeRun(get, base, surface) {
  const optimizer = hasOptimizer(get("opt")) ? get("opt") : base.optimizer;
  const hyper = {};
  for (const p of hyperparameters(optimizer)) {
    const raw = get(p.name);
    if (raw === null) continue;
    hyper[p.name] = p.type === "bool" ? raw === "1" || raw === "true" : number(raw, p.default);
  }
  return {
    optimizer,
    eta: number(get("eta"), startEta(optimizer, surface)),
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
  const state = { ...base, ...decodeRun((k) => q.get(k), base, surface) };
  state.pins = q
    .getAll("pin")
    .slice(0, MAX_PINS)
    .map((text) => {
      const fields = new Map(text.split(",").map((kv) => kv.split(":", 2)));
      return decodeRun((k) => (fields.has(k) ? fields.get(k) : null), base, surface);
    });
  state.chain = [];
  for (const text of q.getAll("cont")) {
    const fields = new Map(text.split(",").map((kv) => kv.split(":", 2)));
    const get = (k) => (COMMON.has(k) ? q.get(k) : (fields.get(k) ?? null)); // θ₀ …: the run's
    const at = Math.round(number(fields.get("at") ?? null, 0));
    const last = state.chain.at(-1)?.at ?? 0;
    if (at > last && at < state.maxSteps)
      state.chain.push({ ...decodeRun(get, base, surface), at });
  }
  state.race = q.get("race") === "1" && state.pins.length > 0;
  state.basins = q.get("basins") === "1";
  state.lesson = Number(q.get("lesson")) || null;
  state.present = q.get("present") === "1";
  state.field = q.get("field") === "1";
  state.flow = q.get("flow") === "1";
  state.noise = q.get("noise") === "1";
  return state;
}

export const sameRun = (a, b) => JSON.stringify(runEntries(a)) === JSON.stringify(runEntries(b));
