// The legend of the race: the run on show, then each pinned run with its colour, optimizer and η,
// θ₀, outcome, steps and final loss, and a remove button.

import { labelOf, takesLineSearch } from "./catalogue.js";
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
function label(s) {
  const base = s.label?.includes("η")
    ? s.label
    : `${s.label || labelOf(s.optimizer)}, η = ${short(s.eta)}`;
  const tuning = [];
  if (s.schedule && s.schedule.name !== "constant") tuning.push(describeSchedule(s.schedule));
  if (s.lineSearch && takesLineSearch(s.optimizer)) tuning.push("Armijo");
  return [base, ...tuning].join(" · ");
}

const outcome = (r) =>
  r?.done
    ? `${r.status.replace("_", " ")} · ${r.steps} steps · L = ${num(r.final?.loss ?? r.loss.at(-1), 4)}`
    : "running…";

function row(color, settings, r, onRemove) {
  const swatch = el("span", "swatch");
  swatch.style.background = color;
  const li = document.createElement("li");
  li.className = onRemove ? "pin" : "current";
  li.dataset.status = r?.done ? r.status : "running";
  const what = el("span", "what", label(settings));
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
  const rows = pins.map((pin, i) =>
    row(PIN_COLORS[i % PIN_COLORS.length], pin, pin.run, () => onRemove(i)),
  );
  if (current && pins.length) rows.unshift(row(RUN_COLOR, current.settings, current.run, null));
  list.replaceChildren(...rows);
}

// The same, compact, over the views (in the status bar): what each colour is and how it ended.
export function renderRaceKey(list, pins, current) {
  const chip = (color, settings, r) => {
    const li = el("li", "");
    const swatch = el("span", "swatch");
    swatch.style.background = color;
    const end =
      !r || !r.done
        ? "…"
        : `${r.status === "converged" ? "✓" : r.status.replace("_", " ")} ${r.steps} steps · L ${num(r.final?.loss ?? r.loss.at(-1), 3)}`;
    li.dataset.status = r?.done ? r.status : "running";
    li.append(swatch, el("b", "", label(settings)), el("span", "", end));
    return li;
  };
  list.hidden = pins.length === 0;
  list.replaceChildren(
    ...(pins.length
      ? [
          chip(RUN_COLOR, current.settings, current.run),
          ...pins.map((p, i) => chip(PIN_COLORS[i % PIN_COLORS.length], p, p.run)),
        ]
      : []),
  );
}
