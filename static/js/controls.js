// The settings form: fill it from a state, read a state back, show API errors next to fields.
import {
  etaBounds,
  hasOwnEta,
  hyperparameters,
  optimizerList,
  startEta,
  takesLineSearch,
} from "./catalogue.js";
import { setText, setValue } from "./dom.js";
import { inWords } from "./errorwords.js";
import { latexToText, short } from "./format.js";
import { paramNames } from "./params.js";
import { SPEEDS } from "./player.js";
import { SchedulePanel } from "./schedule.js";

const $ = (id) => document.getElementById(id);
const ETA_MIN = -4; // the slider spans 10^-4 … 10^1 (its max is set in the constructor)
const ETA_MAX = 1;
const PER_DECADE = 100; // slider notches: η moves by a factor 10^0.01 ≈ 1.023 a notch
const toSlider = (eta) => Math.round((Math.log10(eta) - ETA_MIN) * PER_DECADE);

// A notch's η, written with the fewest significant digits that stay within half a notch of it:
// the slider stops on round values (0.9, 0.15) and on the lessons' finer ones (1.05 in lesson 3).
export function fromSlider(v) {
  const exact = 10 ** (ETA_MIN + v / PER_DECADE);
  const half = 10 ** (0.5 / PER_DECADE);
  for (const digits of [1, 2]) {
    const round = Number(exact.toPrecision(digits));
    if (round / exact < half && exact / round < half) return round;
  }
  return Number(exact.toPrecision(3)); // always within half a notch
}

const hasBound = (v) => v !== null && v !== undefined;

// A number box's spinner step for a hyperparameter: on a bounded range of width ≤ 1, the
// default's last decimal (0.9 → 0.01, 0.999 → 0.001); elsewhere any number.
function stepOf(p) {
  if (!hasBound(p.min) || !hasBound(p.max) || p.max - p.min > 1) return "any";
  const decimals = (String(p.default).split(".")[1] ?? "").length;
  return String(10 ** -Math.max(2, decimals));
}

export class Controls {
  constructor() {
    this.offered = [...$("surface").options].map((o) => o.value); // rendered by the server
    $("optimizer").replaceChildren(...optimizerList().map((o) => new Option(o.label, o.name)));
    const eta = etaBounds(); // the box's bounds are η's (the slider spans a useful part of them)
    if (hasBound(eta.min)) $("eta").min = String(eta.min);
    if (hasBound(eta.max)) $("eta").max = String(eta.max);
    $("eta-slider").max = String((ETA_MAX - ETA_MIN) * PER_DECADE);
    $("speed").replaceChildren(
      ...SPEEDS.map((s) => new Option(s === "auto" ? "auto" : `${s} /s`, String(s))),
    );
    this.hyperFor = null;
    this.schedule = new SchedulePanel();
    this.surface = null;
  }

  // onChange(kind): "surface", "optimizer" or "run" (any other setting), after the form changed.
  listen(onChange) {
    $("surface").addEventListener("change", () => onChange("surface"));
    $("optimizer").addEventListener("change", () => {
      // A second-order method starts from its own η (Newton's natural step, 1); leaving it goes
      // back to the surface's η for first-order methods (catalogue.js startEta).
      const from = this.hyperFor;
      const to = $("optimizer").value;
      if (this.surface && from !== to && (hasOwnEta(to) || hasOwnEta(from))) {
        $("eta").value = short(startEta(to, this.surface));
      }
      const search = takesLineSearch(to);
      if (!search) this.schedule.renderLineSearch(null); // gd's own, like a hyperparameter
      this.schedule.showLineSearch(search);
      this.schedule.summarize();
      onChange("optimizer");
    });
    $("eta-slider").addEventListener("input", () => {
      $("eta").value = String(fromSlider(Number($("eta-slider").value)));
      onChange("eta-live");
    });
    $("eta-slider").addEventListener("change", () => onChange("eta-commit"));
    for (const id of ["eta", "x0", "y0", "steps", "tol"])
      $(id).addEventListener("change", () => onChange("run"));
    $("hyper").addEventListener("change", () => onChange("run"));
    this.schedule.listen(() => onChange("run"));
  }

  renderHyper(name, hyper) {
    const fields = hyperparameters(name).map((p) => {
      const key = p.name;
      const wrap = document.createElement("div");
      wrap.className = p.type === "bool" ? "field check" : "field";
      const input = document.createElement("input");
      input.id = `h-${key}`;
      input.dataset.param = key;
      if (p.type === "bool") {
        input.type = "checkbox";
        input.checked = hyper[key] ?? p.default;
      } else {
        Object.assign(input, {
          type: "number",
          step: stepOf(p),
          value: short(hyper[key] ?? p.default),
        });
        if (hasBound(p.min)) input.min = String(p.min);
        if (hasBound(p.max)) input.max = String(p.max);
      }
      input.title = p.description ?? "";
      const label = document.createElement("label");
      label.htmlFor = input.id;
      label.textContent =
        p.symbol && !p.label.includes(p.symbol) ? `${p.label} ${p.symbol}` : p.label;
      const error = document.createElement("p");
      error.className = "error";
      error.dataset.errorFor = key;
      wrap.append(...(p.type === "bool" ? [input, label] : [label, input]), error);
      return wrap;
    });
    $("hyper").replaceChildren(...fields);
    this.hyperFor = name;
  }

  write(state, surface) {
    this.surface = surface;
    $("surface").value = state.surface;
    $("formula").textContent = latexToText(surface.formula);
    $("lesson").textContent = surface.description;
    $("optimizer").value = state.optimizer;
    this.renderHyper(state.optimizer, state.hyper);
    $("eta").value = short(state.eta);
    $("eta-slider").value = String(toSlider(state.eta));
    this.writeTheta0(state.theta0);
    paramNames(surface).forEach((name, i) => {
      document.querySelector(`label[for="${["x0", "y0"][i]}"]`).textContent = `θ₀ ${name}`;
    });
    $("steps").value = String(state.maxSteps);
    $("tol").value = short(state.tol);
    this.schedule.write(state);
    this.clearErrors();
  }

  writeTheta0([x, y]) {
    setValue($("x0"), short(x));
    setValue($("y0"), short(y));
  }

  // The form as run settings; null (with the errors shown) when a box holds no number.
  read() {
    this.clearErrors();
    let ok = true;
    const number = (el, field) => {
      const v = el.valueAsNumber;
      if (Number.isFinite(v)) return v;
      this.showError(field, "Enter a number.");
      ok = false;
      return NaN;
    };
    const hyper = {};
    for (const el of $("hyper").querySelectorAll("input[data-param]")) {
      hyper[el.dataset.param] = el.type === "checkbox" ? el.checked : number(el, el.dataset.param);
    }
    const run = {
      surface: $("surface").value,
      optimizer: $("optimizer").value,
      eta: number($("eta"), "eta"),
      hyper,
      theta0: [number($("x0"), "x0"), number($("y0"), "y0")],
      maxSteps: Math.round(number($("steps"), "steps")),
      tol: number($("tol"), "tol"),
    };
    run.schedule = this.schedule.readSchedule(number);
    run.lineSearch = this.schedule.readLineSearch(number, run.optimizer);
    if (Number.isFinite(run.eta) && run.eta > 0) $("eta-slider").value = String(toSlider(run.eta));
    return ok ? run : null;
  }

  // (Looked for in the settings only: the whole document holds thousands of Plotly nodes, and this
  // runs with every answer while θ₀ is dragged.)
  clearErrors() {
    this.errorsShown = false;
    const settings = document.querySelector(".sidebar") ?? document;
    for (const el of settings.querySelectorAll("[data-error-for]")) setText(el, "");
    for (const el of settings.querySelectorAll("[aria-invalid]"))
      el.removeAttribute("aria-invalid");
  }

  // The errors this form showed, if any: each live answer clears them, and looking for them
  // costs more than drawing the readout.
  clearShownErrors() {
    if (this.errorsShown) this.clearErrors();
  }

  // The error slot of a field and the control it belongs to.
  slotOf(field) {
    const slot = document.querySelector(`[data-error-for="${field}"]`);
    if (!slot) return { slot: null, input: null };
    const input =
      field in { eta: 1, x0: 1, y0: 1, steps: 1, tol: 1 }
        ? $(field)
        : ($(`h-${field}`) ?? slot.parentElement.querySelector("input, select"));
    return { slot, input };
  }

  // Returns false when no field matches, so the caller shows the message elsewhere.
  showError(field, message) {
    const { slot, input } = this.slotOf(field);
    if (!slot) return false;
    slot.textContent = message;
    if (input) input.setAttribute("aria-invalid", "true");
    this.errorsShown = true;
    return true;
  }

  // Map an API error to the fields it concerns: `detail[].loc` for validation errors, in the
  // page's words (errorwords.js), else the field named at the start of `message` ("max_steps =
  // 20000 is above …"). Returns the messages shown next to controls.
  showApiError(error) {
    const alias = { theta0: null, max_steps: "steps", tol: "tol", eta: "eta" };
    const shown = [];
    for (const d of error.detail) {
      const loc = (d.loc || []).filter((p) => p !== "body");
      let field = String(loc.at(-1));
      if (loc[0] === "theta0") field = loc[1] === 1 || loc[1] === "1" ? "y0" : "x0";
      else if (
        loc[0] === "optimizer" &&
        (loc.includes("schedule") || loc.includes("line_search"))
      ) {
        // ["optimizer", "gd", "schedule", "step", "gamma"] → "schedule.gamma"
        const part = loc.includes("schedule") ? "schedule" : "line_search";
        const rest = loc.slice(loc.indexOf(part) + (part === "schedule" ? 2 : 1)); // past the schedule's name
        field = rest.length ? `${part}.${rest.at(-1)}` : part;
      } else if (field in alias && alias[field]) field = alias[field];
      const words = inWords(d.msg, this.slotOf(field).input);
      if (this.showError(field, words)) shown.push(words);
    }
    if (!shown.length) {
      const m = /^([a-z_0-9]+)/.exec(error.message);
      const field = m && (alias[m[1]] || m[1]);
      if (field && this.showError(field, error.message)) shown.push(error.message);
    }
    return shown;
  }
}
