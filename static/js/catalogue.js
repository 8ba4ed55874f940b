// The optimizer catalogue (GET /api/optimizers), loaded once at start: every optimizer's name,
// label, hyperparameters with their defaults and bounds, and default η. The page's optimizer
// picker, hyperparameter inputs, race chips, URL and resume notes are built from it, so nothing
// about an optimizer is written in static/js.

let catalogue = null; // { eta, optimizers, schedules, lineSearch, byName }

export function setCatalogue({ eta, optimizers, schedules, line_search }) {
  const byName = new Map(optimizers.map((o) => [o.name, o]));
  catalogue = { eta, optimizers, schedules, lineSearch: line_search, byName };
}

export const optimizerList = () => catalogue.optimizers;
// The step-size schedules ({ name, description, parameters }) and the line search's parameters
// ({ name, type, default, min, max, min_exclusive, max_exclusive }).
export const scheduleSettings = () => catalogue.schedules;
export const lineSearchSettings = () => catalogue.lineSearch;
export const hasOptimizer = (name) => catalogue.byName.has(name);
export const optimizerOf = (name) => catalogue.byName.get(name);
export const hyperparameters = (name) => optimizerOf(name)?.hyperparameters ?? [];
export const labelOf = (name) => optimizerOf(name)?.label ?? name;
export const takesLineSearch = (name) => Boolean(optimizerOf(name)?.line_search);

// The η a run starts with: a second-order method's own (Newton's natural step, the minimum of
// the local quadratic model); a first-order method takes the surface's, tuned to its scale.
export const hasOwnEta = (name) => Boolean(optimizerOf(name)?.needs_hessian);
export const startEta = (name, surface) =>
  hasOwnEta(name) ? optimizerOf(name).default_eta : surface.default_eta;

// A hyperparameter's symbol or label, for a short note ("β₁ 0.9 → 0.8").
export function symbolOf(name, key) {
  const p = hyperparameters(name).find((h) => h.name === key);
  return p ? p.symbol || p.label : key.replaceAll("_", " ");
}

// Whether `v` lies in a bounds object { min, max, min_exclusive, max_exclusive } (null: no bound).
export function within(v, b) {
  if (!Number.isFinite(v)) return false;
  if (b.min !== null && b.min !== undefined && (b.min_exclusive ? v <= b.min : v < b.min)) {
    return false;
  }
  return !(b.max !== null && b.max !== undefined && (b.max_exclusive ? v >= b.max : v > b.max));
}

// The bounds in words: "in (0, 1)", "≥ 0", "in (0, 10000]".
export function rangeText(b) {
  const lo = b.min !== null && b.min !== undefined;
  const hi = b.max !== null && b.max !== undefined;
  if (lo && hi) {
    return `in ${b.min_exclusive ? "(" : "["}${b.min}, ${b.max}${b.max_exclusive ? ")" : "]"}`;
  }
  if (lo) return `${b.min_exclusive ? ">" : "≥"} ${b.min}`;
  return hi ? `${b.max_exclusive ? "<" : "≤"} ${b.max}` : "any number";
}

// η's bounds, as the API states them.
export const etaBounds = () => catalogue.eta;
