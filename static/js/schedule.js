// Step-size schedules and gd's backtracking line search (issue 7): their parameters with the API's
// defaults and bounds (see /openapi.json: StepSchedule … LineSearchParams), their part of a
// request body and of the URL, and the collapsible "Step size schedule" section of the form.
import { lineSearchSettings, scheduleSettings, takesLineSearch } from "./catalogue.js";
import { short } from "./format.js";

// Words for the page; every default and bound comes from the catalogue (GET /api/optimizers,
// read from the request models the API validates with).
const LABELS = {
  constant: { label: "constant", params: {} },
  step: {
    label: "step decay (StepLR)",
    params: { step_size: "every (steps)", gamma: "multiply by γ" },
  },
  exponential: { label: "exponential (ExponentialLR)", params: { gamma: "γ per step" } },
  cosine: {
    label: "cosine (CosineAnnealingLR)",
    params: { t_max: "T_max (steps)", eta_min: "η_min" },
  },
  inverse_sqrt: { label: "1/√t, with warmup", params: { warmup: "warmup (steps)" } },
};
const LINE_SEARCH_LABELS = { c: "c (Armijo)", shrink: "shrink" };

const asParam = (s, label) => ({
  label: label ?? s.name.replaceAll("_", " "),
  value: s.default,
  min: s.min,
  max: s.max,
  step: s.type === "int" ? 1 : "any",
  int: s.type === "int",
});
const paramsOf = (settings, labels) =>
  Object.fromEntries(settings.map((s) => [s.name, asParam(s, labels[s.name])]));

// { name: { label, params: { key: { label, value, min, max, step, int } } } }, in API order.
export const schedules = () =>
  Object.fromEntries(
    scheduleSettings().map((s) => [
      s.name,
      {
        label: LABELS[s.name]?.label ?? s.name,
        params: paramsOf(s.parameters, LABELS[s.name]?.params ?? {}),
      },
    ]),
  );
// Armijo backtracking's parameters, as above.
export const lineSearch = () => paramsOf(lineSearchSettings(), LINE_SEARCH_LABELS);
export const CONSTANT = Object.freeze({ name: "constant" });

const defaults = (params) =>
  Object.fromEntries(Object.entries(params).map(([k, p]) => [k, p.value]));
export const scheduleOf = (name, values = {}) => ({
  name,
  ...defaults(schedules()[name].params),
  ...values,
});
export const lineSearchOf = (values = {}) => ({ ...defaults(lineSearch()), ...values });

// The optimizer's schedule and line search as the API takes them: a constant schedule is left
// out (so a request stays what it was before schedules existed), and only an optimizer whose
// catalogue entry says `line_search` searches (gd).
export function scheduleBody(run) {
  const out = {};
  if (run.schedule && run.schedule.name !== "constant") out.schedule = { ...run.schedule };
  if (run.lineSearch && takesLineSearch(run.optimizer)) out.line_search = { ...run.lineSearch };
  return out;
}

// --- URL: only what differs from the defaults ---------------------------------------------------

export function scheduleEntries(run) {
  const entries = [];
  const s = run.schedule;
  if (s && s.name !== "constant" && s.name in schedules()) {
    entries.push(["sched", s.name]);
    for (const [k, p] of Object.entries(schedules()[s.name].params)) {
      if (k in s && s[k] !== p.value) entries.push([`sched_${k}`, short(s[k])]);
    }
  }
  if (run.lineSearch && takesLineSearch(run.optimizer)) {
    entries.push(["ls", "1"]);
    for (const [k, p] of Object.entries(lineSearch())) {
      if (run.lineSearch[k] !== p.value) entries.push([`ls_${k}`, short(run.lineSearch[k])]);
    }
  }
  return entries;
}

function number(text, fallback) {
  const v = Number(text);
  return text !== null && text !== "" && Number.isFinite(v) ? v : fallback;
}

// `get(key)` reads a URL entry (null when absent); a malformed value falls back to its default.
export function decodeSchedule(get, optimizer) {
  const name = get("sched") in schedules() ? get("sched") : "constant";
  const values = {};
  for (const [k, p] of Object.entries(schedules()[name].params))
    values[k] = number(get(`sched_${k}`), p.value);
  let search = null; // not `lineSearch`, which would hide the function of that name
  if (takesLineSearch(optimizer) && (get("ls") === "1" || get("ls") === "true")) {
    search = lineSearchOf(
      Object.fromEntries(
        Object.entries(lineSearch()).map(([k, p]) => [k, number(get(`ls_${k}`), p.value)]),
      ),
    );
  }
  return { schedule: scheduleOf(name, values), lineSearch: search };
}

// A few words for a schedule: "step: ×0.5 every 20", "cosine to 0 over 100".
export function describeSchedule(s) {
  if (!s || s.name === "constant") return "constant";
  if (s.name === "step") return `×${short(s.gamma)} every ${s.step_size}`;
  if (s.name === "exponential") return `×${short(s.gamma)} per step`;
  if (s.name === "cosine") return `cosine to ${short(s.eta_min)} over ${s.t_max}`;
  return s.warmup ? `1/√t, warmup ${s.warmup}` : "1/√t";
}

// --- the form section ---------------------------------------------------------------------------

const $ = (id) => document.getElementById(id);

function field(id, key, errorKey, p, value) {
  const wrap = document.createElement("div");
  wrap.className = "field";
  const label = document.createElement("label");
  label.htmlFor = id;
  label.textContent = p.label;
  const input = document.createElement("input");
  Object.assign(input, {
    id,
    type: "number",
    min: p.min,
    max: p.max,
    step: p.step,
    value: short(value ?? p.value),
  });
  input.dataset.key = key;
  const error = document.createElement("p");
  error.className = "error";
  error.dataset.errorFor = errorKey;
  wrap.append(label, input, error);
  return wrap;
}

// The collapsible section: a schedule picker with its parameters, and (for gd) the line search.
export class SchedulePanel {
  constructor() {
    this.details = $("schedule-panel");
    $("schedule").replaceChildren(
      ...Object.entries(schedules()).map(([k, s]) => new Option(s.label, k)),
    );
  }

  // onChange() after any of its settings changed.
  listen(onChange) {
    $("schedule").addEventListener("change", () => {
      this.renderParams(scheduleOf($("schedule").value));
      this.summarize();
      onChange();
    });
    $("schedule-params").addEventListener("change", () => {
      this.summarize();
      onChange();
    });
    $("line-search").addEventListener("change", () => {
      this.renderLineSearch($("line-search").checked ? lineSearchOf() : null);
      this.summarize();
      onChange();
    });
    $("line-search-params").addEventListener("change", () => onChange());
  }

  renderParams(schedule) {
    $("schedule").value = schedule.name;
    const params = schedules()[schedule.name].params;
    $("schedule-params").replaceChildren(
      ...Object.entries(params).map(([k, p]) =>
        field(`sched-${k}`, k, `schedule.${k}`, p, schedule[k]),
      ),
    );
  }

  renderLineSearch(search) {
    $("line-search").checked = Boolean(search);
    const fields = search
      ? Object.entries(lineSearch()).map(([k, p]) =>
          field(`ls-${k}`, k, `line_search.${k}`, p, search[k]),
        )
      : [];
    $("line-search-params").replaceChildren(...fields);
  }

  // Line search belongs to the optimizers that take one (gd): hidden for the others.
  showLineSearch(shown) {
    $("line-search-box").hidden = !shown;
  }

  write(state) {
    this.renderParams(state.schedule ?? CONSTANT);
    const search = takesLineSearch(state.optimizer);
    this.renderLineSearch(search ? state.lineSearch : null);
    this.showLineSearch(search);
    this.summarize();
    if (this.custom(state)) this.details.open = true; // a link with a schedule shows it
  }

  custom(state) {
    return Boolean(
      (state.schedule && state.schedule.name !== "constant") ||
        (takesLineSearch(state.optimizer) && state.lineSearch),
    );
  }

  // The section's summary line says what is set while it is closed: "×0.5 every 20 · Armijo".
  summarize() {
    const s = this.readSchedule();
    const search = !$("line-search-box").hidden && $("line-search").checked;
    $("schedule-summary").textContent = [describeSchedule(s), ...(search ? ["Armijo"] : [])].join(
      " · ",
    );
    $("schedule-summary").title =
      `${schedules()[s.name].label}${search ? ", with backtracking line search" : ""}`;
  }

  // `number(input, errorKey)` reads a box: NaN (with the error shown) when it holds no number.
  readSchedule(number = (el) => el.valueAsNumber) {
    const name = $("schedule").value in schedules() ? $("schedule").value : "constant";
    const values = {};
    for (const el of $("schedule-params").querySelectorAll("input[data-key]"))
      values[el.dataset.key] = number(el, `schedule.${el.dataset.key}`);
    return scheduleOf(name, values);
  }

  readLineSearch(number, optimizer) {
    if (!takesLineSearch(optimizer) || !$("line-search").checked) return null;
    const values = {};
    for (const el of $("line-search-params").querySelectorAll("input[data-key]"))
      values[el.dataset.key] = number(el, `line_search.${el.dataset.key}`);
    return lineSearchOf(values);
  }
}
