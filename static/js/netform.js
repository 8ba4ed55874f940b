// The network page's form: data, architecture, optimizer and run settings. Its choices come from
// GET /api/networks (data sets with their default size and noise, activations, optimizers);
// the API judges the values, and a refusal comes back in words (network.js shows it).
import { hyperparameters } from "./catalogue.js";
import { short } from "./format.js";

const $ = (id) => document.getElementById(id);

const numberOr = (id, fallback) => {
  const text = $(id).value.trim();
  return text === "" ? fallback : Number(text);
};

export class NetForm {
  // info: GET /api/networks; labelOf(name): an optimizer's label (catalogue.js).
  constructor(info, labelOf) {
    this.info = info;
    $("net-dataset").replaceChildren(
      ...info.datasets.map((d) => new Option(`${d.id}: ${d.description}`, d.id)),
    );
    $("net-activation").replaceChildren(...info.activations.map((a) => new Option(a, a)));
    $("net-optimizer").replaceChildren(...info.optimizers.map((o) => new Option(labelOf(o), o)));
    // Another data set: its own default size and noise.
    $("net-dataset").addEventListener("change", () => {
      const d = info.datasets.find((s) => s.id === $("net-dataset").value);
      if (!d) return;
      $("net-points").value = String(d.default_points);
      $("net-noise").value = d.default_noise === null ? "" : String(d.default_noise);
    });
    $("net-optimizer").addEventListener("change", () =>
      this.renderHyper($("net-optimizer").value, {}),
    );
    $("net-hidden").addEventListener("input", () => this.size());
    $("net-dataset").addEventListener("change", () => this.size());
  }

  write(s) {
    $("net-dataset").value = s.dataset;
    $("net-points").value = s.points === null ? "" : String(s.points);
    $("net-noise").value = s.noise === null ? "" : String(s.noise);
    $("net-data-seed").value = String(s.dataSeed);
    $("net-init-seed").value = String(s.initSeed);
    $("net-hidden").value = s.hidden.join(", ");
    $("net-activation").value = s.activation;
    $("net-optimizer").value = s.optimizer;
    this.renderHyper(s.optimizer, s.hyper);
    $("net-eta").value = String(s.eta);
    $("net-batch").value = s.batch ? String(s.batch) : "";
    $("net-steps").value = String(s.steps);
    $("net-every").value = String(s.every);
    this.size();
  }

  // The optimizer's hyperparameters, from the catalogue (GET /api/optimizers), with `hyper`'s values.
  renderHyper(name, hyper) {
    $("net-hyper").replaceChildren(
      ...hyperparameters(name).map((p) => {
        const wrap = Object.assign(document.createElement("div"), { className: "field" });
        const input = document.createElement("input");
        input.id = `nh-${p.name}`;
        input.dataset.param = p.name;
        input.title = p.description ?? "";
        if (p.type === "bool") {
          input.type = "checkbox";
          input.checked = hyper[p.name] ?? p.default;
        } else {
          Object.assign(input, {
            type: "number",
            step: "any",
            value: short(hyper[p.name] ?? p.default),
          });
        }
        const label = Object.assign(document.createElement("label"), {
          htmlFor: input.id,
          textContent: p.symbol && !p.label.includes(p.symbol) ? `${p.label} ${p.symbol}` : p.label,
        });
        wrap.append(label, input);
        return wrap;
      }),
    );
  }

  // The hyperparameters that differ from their defaults, or null when one is not a number.
  readHyper(name) {
    const hyper = {};
    for (const p of hyperparameters(name)) {
      const input = $(`nh-${p.name}`);
      if (!input) continue;
      const v = p.type === "bool" ? input.checked : Number(input.value);
      if (p.type !== "bool" && (input.value.trim() === "" || !Number.isFinite(v))) return null;
      if (v !== p.default) hyper[p.name] = v;
    }
    return hyper;
  }

  // The hidden widths typed, or null when they are not whole numbers.
  hidden() {
    const parts = $("net-hidden")
      .value.split(/[\s,]+/)
      .filter(Boolean)
      .map(Number);
    return parts.length && parts.every((w) => Number.isInteger(w) && w > 0) ? parts : null;
  }

  // The parameter count n of the network typed, next to the Train button.
  size() {
    const hidden = this.hidden();
    const d = this.info.datasets.find((s) => s.id === $("net-dataset").value);
    if (!hidden || !d) {
      $("net-size").textContent = "";
      return;
    }
    const widths = [d.inputs, ...hidden, d.outputs];
    let n = 0;
    for (let i = 1; i < widths.length; i++) n += widths[i] * (widths[i - 1] + 1);
    $("net-size").textContent = `n = ${n.toLocaleString("en")} parameters`;
  }

  // The settings in the form, or null (with the reason under the form) when one is unreadable.
  read() {
    const hidden = this.hidden();
    const error = (text) => {
      $("net-error").textContent = text;
      return null;
    };
    if (!hidden) return error("Hidden widths: whole numbers above 0, such as 32 or 16, 16.");
    const hyper = this.readHyper($("net-optimizer").value);
    if (!hyper) return error("The optimizer's settings: type a number in each box.");
    const change = {
      dataset: $("net-dataset").value,
      points: numberOr("net-points", null),
      noise: numberOr("net-noise", null),
      dataSeed: numberOr("net-data-seed", 0),
      initSeed: numberOr("net-init-seed", 0),
      hidden,
      activation: $("net-activation").value,
      optimizer: $("net-optimizer").value,
      hyper,
      eta: numberOr("net-eta", Number.NaN),
      batch: numberOr("net-batch", null),
      steps: numberOr("net-steps", Number.NaN),
      every: numberOr("net-every", Number.NaN),
    };
    const names = { eta: "η", steps: "Steps", every: "Sharpness every k" };
    for (const [k, label] of Object.entries(names))
      if (!Number.isFinite(change[k])) return error(`${label}: type a number.`);
    for (const k of ["points", "noise", "dataSeed", "initSeed", "batch"])
      if (change[k] !== null && !Number.isFinite(change[k]))
        return error(
          `${$(`net-${k === "dataSeed" ? "data-seed" : k === "initSeed" ? "init-seed" : k}`).labels[0].textContent}: type a number.`,
        );
    $("net-error").textContent = "";
    return change;
  }
}
