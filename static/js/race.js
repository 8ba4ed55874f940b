// The race: several optimizers (and/or step sizes) from the same θ₀, as pinned runs that the
// player animates together with the run on show.
import {
  etaBounds,
  hasOwnEta,
  optimizerList,
  optimizerOf,
  rangeText,
  within,
} from "./catalogue.js";
import { MAX_PINS, sameRun } from "./state.js";

const PICKED = ["gd", "momentum", "adam"]; // ticked at first, when the catalogue offers them

export function renderRacePick(fieldset) {
  for (const o of optimizerList()) {
    const label = document.createElement("label");
    const box = document.createElement("input");
    Object.assign(box, { type: "checkbox", value: o.name, checked: PICKED.includes(o.name) });
    label.append(box, o.label);
    label.title = o.summary ?? o.label;
    fieldset.append(label);
  }
}

// "0.005, 0.02" → [0.005, 0.02]; "" → null (each racer keeps this run's η); an error message for
// anything else.
export function parseEtas(text) {
  const parts = text.split(/[\s,;]+/).filter(Boolean);
  if (!parts.length) return { etas: null };
  const etas = parts.map(Number);
  const bad = parts.find((_p, i) => !within(etas[i], etaBounds()));
  if (bad !== undefined) {
    const range = rangeText(etaBounds());
    return { error: `η = ${bad} is not a step size: give numbers ${range}, separated by commas.` };
  }
  return { etas };
}

// The racers besides the run on show: every picked optimizer at every η listed (or at this run's
// η), except a second-order method, which races at its own η (Newton's 1, or this run's when it
// is the run on show) whatever the list says; each from this run's θ₀ with its step limit and
// tolerance. The run on show keeps its own hyperparameters; the others take torch's defaults.
const etasOf = (optimizer, settings, etas) => {
  if (!hasOwnEta(optimizer)) return etas ?? [settings.eta];
  return [optimizer === settings.optimizer ? settings.eta : optimizerOf(optimizer).default_eta];
};

export function racers(settings, picked, etas) {
  const out = [];
  for (const optimizer of picked) {
    for (const eta of etasOf(optimizer, settings, etas)) {
      const hyper = optimizer === settings.optimizer ? { ...settings.hyper } : {};
      const racer = { ...structuredClone(settings), optimizer, eta, hyper };
      if (!sameRun(racer, settings) && !out.some((r) => sameRun(r, racer))) out.push(racer);
    }
  }
  return out.slice(0, MAX_PINS);
}

// The racers the form asks for ({ list }), or what is wrong with it ({ error }).
export function racersFromForm(settings, fieldset, etaText) {
  const { etas, error } = parseEtas(etaText);
  if (error) return { error };
  const list = racers(settings, pickedOptimizers(fieldset), etas);
  if (!list.length)
    return { error: "Tick at least one optimizer (or list η values) that differs from this run." };
  return { list };
}

export const pickedOptimizers = (fieldset) =>
  [...fieldset.querySelectorAll("input:checked")].map((b) => b.value);

// A racing pin follows the run on show: same θ₀, step limit and tolerance.
export const follow = (pin, state) => ({
  ...pin,
  theta0: [...state.theta0],
  maxSteps: state.maxSteps,
  tol: state.tol,
});
