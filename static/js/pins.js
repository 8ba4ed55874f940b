// The legend of the race: the run on show, then each pinned run with its colour, optimizer and η,
// θ₀, outcome, steps and final loss, and a remove button.

import { labelOf, symbolOf, takesLineSearch } from "./catalogue.js";
import { num, pair, short } from "./format.js";
import { PIN_COLORS, RUN_COLOR } from "./plotkit.js";
import { describeSchedule } from "./schedule.js";

function el(tag, className, text = "") {
  const e = document.createElement(tag);
  e.className = className;
  e.textContent = text;
  return e;
}

// A lesson's label when it names the step size, else the optimizer and η; then η's schedule and
// the line search, when the run has them.
function baseLabel(s) {
  const base = s.label?.includes("η")
    ? s.label
    : `${s.label || labelOf(s.optimizer)}, η = ${short(s.eta)}`;
  const tuning = [];
  if (s.schedule && s.schedule.name !== "constant") tuning.push(describeSchedule(s.schedule));
  if (s.lineSearch && takesLineSearch(s.optimizer)) tuning.push("Armijo");
  return [base, ...tuning].join(" · ");
}

// What else can tell runs apart, each as (key to compare, words to show).
const OTHER = [
  [(s) => pair(s.theta0, 3), (s) => `θ₀ ${pair(s.theta0, 3)}`],
  [
    (s) => JSON.stringify(s.hyper ?? {}),
    (s) =>
      Object.entries(s.hyper ?? {})
        .map(([k, v]) => `${symbolOf(s.optimizer, k)} ${short(v)}`)
        .join(", "),
  ],
  [(s) => String(s.maxSteps), (s) => `${s.maxSteps} steps max`],
  [(s) => String(s.tol), (s) => `tol ${short(s.tol)}`],
];

// The labels of runs shown together: each says what tells it apart from the others (θ₀ too, and
// the hyperparameters, step limit and tolerance, when they differ between the runs).
export function labels(runs) {
  return runs.map((s) => {
    const parts = [baseLabel(s)];
    for (const [key, words] of OTHER) {
      if (new Set(runs.map(key)).size > 1 && words(s)) parts.push(words(s));
    }
    return parts.join(" · ");
  });
}

const outcome = (r) =>
  r?.done
    ? `${r.status.replace("_", " ")} · ${r.steps} steps · L = ${num(r.final?.loss ?? r.loss.at(-1), 4)}`
    : "running…";

function row(color, settings, text, r, onRemove) {
  const swatch = el("span", "swatch");
  swatch.style.background = color;
  const li = document.createElement("li");
  li.className = onRemove ? "pin" : "current";
  li.dataset.status = r?.done ? r.status : "running";
  const what = el("span", "what", text);
  const end = onRemove ? el("button", "remove", "×") : el("span", "this", "this run");
  if (onRemove) {
    end.type = "button";
    end.title = "Remove this run";
    end.addEventListener("click", onRemove);
  }
  li.append(
    swatch,
    what,
    end,
    el("span", "how", `θ₀ ${pair(settings.theta0, 3)} · ${r ? outcome(r) : "not available"}`),
  );
  return li;
}

// `current` ({ settings, run }) heads the list when there are pinned runs to compare it with.
export function renderPins(list, pins, onRemove, current = null) {
  const shown = current && pins.length ? [current.settings, ...pins] : pins;
  const names = labels(shown).slice(shown.length - pins.length);
  const rows = pins.map((pin, i) =>
    row(PIN_COLORS[i % PIN_COLORS.length], pin, names[i], pin.run, () => onRemove(i)),
  );
  if (current && pins.length) {
    rows.unshift(row(RUN_COLOR, current.settings, labels(shown)[0], current.run, null));
  }
  if (rows.length || list.firstChild) list.replaceChildren(...rows); // (with every live answer)
}

// The same, compact, over the views (in the status bar): what each colour is and how it ended.
export function renderRaceKey(list, pins, current) {
  const names = labels([current.settings, ...pins]);
  const chip = (color, r, text) => {
    const li = el("li", "");
    const swatch = el("span", "swatch");
    swatch.style.background = color;
    const end =
      !r || !r.done
        ? "…"
        : `${r.status === "converged" ? "✓" : r.status.replace("_", " ")} ${r.steps} steps · L ${num(r.final?.loss ?? r.loss.at(-1), 3)}`;
    li.dataset.status = r?.done ? r.status : "running";
    li.append(swatch, el("b", "", text), el("span", "", end));
    return li;
  };
  if (list.hidden !== (pins.length === 0)) list.hidden = pins.length === 0;
  if (!pins.length && !list.firstChild) return; // (with every live answer)
  list.replaceChildren(
    ...(pins.length
      ? [
          chip(RUN_COLOR, current.run, names[0]),
          ...pins.map((p, i) => chip(PIN_COLORS[i % PIN_COLORS.length], p.run, names[i + 1])),
        ]
      : []),
  );
}

// Keep run is off when `max` runs are pinned; the note under it says why, and what to do.
export function renderKeep(button, note, count, max) {
  const full = count >= max;
  button.disabled = full;
  button.title = full
    ? `${max} runs are pinned, the most the page keeps`
    : "Pin this run to compare it with others";
  note.textContent = full
    ? `${max} runs are pinned, the most the page keeps: remove one (×) or Clear them to keep another.`
    : "";
  note.hidden = !full;
}
