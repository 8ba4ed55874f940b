// The legend of pinned runs: colour, optimizer and η, θ₀, outcome and steps, and a remove button.
import { pair, short } from "./format.js";
import { PIN_COLORS } from "./plotkit.js";
import { OPTIMIZERS } from "./state.js";

function el(tag, className, text = "") {
  const e = document.createElement(tag);
  e.className = className;
  e.textContent = text;
  return e;
}

export function renderPins(list, pins, onRemove) {
  list.replaceChildren(...pins.map((pin, i) => {
    const swatch = el("span", "swatch");
    swatch.style.background = PIN_COLORS[i % PIN_COLORS.length];
    const remove = el("button", "remove", "×");
    remove.type = "button";
    remove.title = "Remove this run";
    remove.addEventListener("click", () => onRemove(i));
    const r = pin.run;
    const outcome = r ? `${r.status.replace("_", " ")} · ${r.steps} steps` : "not available";
    const li = document.createElement("li");
    li.append(
      swatch,
      el("span", "what", `${OPTIMIZERS[pin.optimizer].label}, η = ${short(pin.eta)}`),
      remove,
      el("span", "how", `θ₀ ${pair(pin.theta0, 3)} · ${outcome}`),
    );
    return li;
  }));
}
