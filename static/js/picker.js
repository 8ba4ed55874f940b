// The kind of surface: a preset, your formula (formula.js) or regression on data (datasets.js).
// Shows only the fields of the kind picked and hands the page a surface id (custom.js) to load.
import { isCustom, parseId } from "./custom.js";
import { DATA_PANEL, DataPanel } from "./datasets.js";
import { FORMULA_PANEL, FormulaBox } from "./formula.js";

const $ = (id) => document.getElementById(id);

const KINDS = `
<div class="kinds" role="group" aria-label="Kind of surface">
  <button type="button" data-kind="preset" aria-pressed="true">Preset</button>
  <button type="button" data-kind="formula" aria-pressed="false">Your formula</button>
  <button type="button" data-kind="data" aria-pressed="false" title="Regression on data">Regression</button>
</div>`;

export class SurfacePicker {
  // onPick(id): load the surface with this id (a preset's id or a custom.js id).
  constructor(onPick) {
    this.onPick = (id) => {
      this.picked = id; // the form already shows it: write(id) leaves the fields alone
      onPick(id);
    };
    this.picked = null;
    this.kind = "preset";
    this.lastPreset = null;
    $("surface").insertAdjacentHTML("beforebegin", KINDS + FORMULA_PANEL + DATA_PANEL);
    this.formula = new FormulaBox(this.onPick);
    this.data = new DataPanel(this.onPick);
    for (const b of document.querySelectorAll(".kinds button"))
      b.addEventListener("click", () => this.pickKind(b.dataset.kind));
  }

  show(kind) {
    this.kind = kind;
    for (const b of document.querySelectorAll(".kinds button"))
      b.setAttribute("aria-pressed", String(b.dataset.kind === kind));
    $("surface").hidden = kind !== "preset";
    $("formula-panel").hidden = kind !== "formula";
    $("data-panel").hidden = kind !== "data";
  }

  pickKind(kind) {
    if (kind === this.kind) return;
    this.show(kind);
    const offered = [...$("surface").options].map((o) => o.value);
    if (kind === "preset")
      this.onPick(this.lastPreset || (offered.includes("himmelblau") ? "himmelblau" : offered[0]));
    else if (kind === "formula") this.formula.debounce(0);
    else this.data.start();
  }

  // The form for the state on show (after a link, back or forward, or a pick made here).
  async write(id) {
    $("formula").hidden = isCustom(id); // f and ∇f are typeset above; a dataset's loss is in words
    if (!isCustom(id)) {
      this.lastPreset = id;
      this.show("preset");
      return;
    }
    const p = parseId(id);
    this.show(p.kind);
    if (id === this.picked) return; // picked here: the fields may already hold newer input
    this.picked = id;
    await (p.kind === "formula" ? this.formula.write(p) : this.data.write(p, id));
  }
}
