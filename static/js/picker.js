// The kind of surface: a preset, your formula, or regression on data. Shows only the fields of
// the kind picked, checks a formula as it is typed (typesetting f and ∇f, or showing the error
// with its caret), uploads a CSV, and hands the page a surface id (custom.js) to load.
import { ApiError, postJSON } from "./api.js";
import {
  DEFAULT_DATASET, DEFAULT_FORMULA, dataId, formulaId, isCustom, isUpload, parseId, rememberUpload,
} from "./custom.js";

const $ = (id) => document.getElementById(id);
const DEBOUNCE_MS = 400;

const PANELS = `
<div class="kinds" role="group" aria-label="Kind of surface">
  <button type="button" data-kind="preset" aria-pressed="true">Preset</button>
  <button type="button" data-kind="formula" aria-pressed="false">Your formula</button>
  <button type="button" data-kind="data" aria-pressed="false" title="Regression on data">Regression</button>
</div>
<div id="formula-panel" class="kind-panel" hidden>
  <label for="fx-text">f(x, y) =</label>
  <input type="text" id="fx-text" spellcheck="false" autocomplete="off" autocapitalize="off" aria-describedby="fx-error">
  <pre id="fx-error" class="fx-error" role="alert" hidden></pre>
  <div class="grid2">
    <div class="field"><label for="fx-xmin">x from … to</label>
      <div class="pair"><input type="number" id="fx-xmin" step="any" aria-label="x from"><input type="number" id="fx-xmax" step="any" aria-label="x to"></div></div>
    <div class="field"><label for="fx-ymin">y from … to</label>
      <div class="pair"><input type="number" id="fx-ymin" step="any" aria-label="y from"><input type="number" id="fx-ymax" step="any" aria-label="y to"></div></div>
  </div>
  <div id="fx-math" class="fx-math" data-testid="fx-math" aria-live="polite"></div>
</div>
<div id="data-panel" class="kind-panel" hidden>
  <div class="grid2">
    <div class="field"><label for="ds-model">Model</label>
      <select id="ds-model"><option value="logistic">logistic</option><option value="linear">linear</option></select></div>
    <div class="field"><label for="ds-set">Dataset</label><select id="ds-set"></select></div>
  </div>
  <div id="ds-upload-row" class="field" hidden>
    <input type="file" id="ds-file" accept=".csv,text/csv" aria-label="CSV file: x, y">
    <p class="error" id="ds-file-error" role="alert"></p>
    <p class="hint-text">Columns x, y; header optional. Uploaded data is not kept in links.</p>
  </div>
  <div class="grid2">
    <div class="field"><label for="ds-l2">L2 penalty λ</label><input type="number" id="ds-l2" min="0" step="any"></div>
    <div class="field check"><input type="checkbox" id="ds-std"><label for="ds-std">standardize x</label></div>
    <div class="field"><label for="ds-batch">Minibatch size</label><input type="number" id="ds-batch" min="0" step="1" placeholder="all"></div>
    <div class="field"><label for="ds-seed">Seed</label><input type="number" id="ds-seed" min="0" step="1"></div>
  </div>
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
    this.datasets = [];
    this.uploads = []; // [{ value, label, kind }]
    this.typeset = null; // the formula whose f and ∇f are on show
    this.timer = null;
    this.check = null; // AbortController of the formula check under way
    $("surface").insertAdjacentHTML("beforebegin", PANELS);
    this.wire();
    this.ready = fetch("/api/datasets").then((r) => r.json()).then((d) => { this.datasets = d; }).catch(() => {});
  }

  wire() {
    for (const b of document.querySelectorAll(".kinds button")) b.addEventListener("click", () => this.pickKind(b.dataset.kind));
    $("fx-text").addEventListener("input", () => this.debounce());
    for (const id of ["fx-xmin", "fx-xmax", "fx-ymin", "fx-ymax"]) $(id).addEventListener("change", () => this.debounce(0));
    $("ds-model").addEventListener("change", () => {
      this.fillSets($("ds-model").value, DEFAULT_DATASET[$("ds-model").value]);
      this.pickData();
    });
    $("ds-set").addEventListener("change", () => {
      $("ds-upload-row").hidden = $("ds-set").value !== "upload";
      if ($("ds-set").value !== "upload") this.pickData();
      else $("ds-file").click();
    });
    $("ds-file").addEventListener("change", () => this.upload());
    for (const id of ["ds-l2", "ds-std", "ds-batch", "ds-seed"]) $(id).addEventListener("change", () => this.pickData());
  }

  show(kind) {
    this.kind = kind;
    for (const b of document.querySelectorAll(".kinds button")) b.setAttribute("aria-pressed", String(b.dataset.kind === kind));
    $("surface").hidden = kind !== "preset";
    $("formula-panel").hidden = kind !== "formula";
    $("data-panel").hidden = kind !== "data";
  }

  async pickKind(kind) {
    if (kind === this.kind) return;
    this.show(kind);
    const offered = [...$("surface").options].map((o) => o.value);
    if (kind === "preset") this.onPick(this.lastPreset || (offered.includes("himmelblau") ? "himmelblau" : offered[0]));
    else if (kind === "formula") this.debounce(0);
    else {
      await this.ready;
      if ($("ds-set").options.length === 0) this.fillSets("logistic", DEFAULT_DATASET.logistic);
      this.pickData();
    }
  }

  // --- formula -------------------------------------------------------------------------------

  formula() {
    const v = (id) => $(id).valueAsNumber;
    const x = [v("fx-xmin"), v("fx-xmax")];
    const y = [v("fx-ymin"), v("fx-ymax")];
    const ok = (r) => r.every(Number.isFinite) && r[0] < r[1];
    return { expression: $("fx-text").value.trim(), x: ok(x) ? x : DEFAULT_FORMULA.x, y: ok(y) ? y : DEFAULT_FORMULA.y };
  }

  debounce(ms = DEBOUNCE_MS) {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.submit(), ms);
  }

  async submit() {
    const f = this.formula();
    if (!f.expression) return this.error("Type a formula in x and y, e.g. x**2 + 3*y**2.");
    if (await this.render(f)) this.onPick(formulaId(f));
  }

  // Check a formula and typeset f and ∇f; false (with the error shown) when it is rejected.
  async render(f) {
    this.check?.abort();
    const mine = new AbortController();
    this.check = mine;
    $("app").dataset.formula = "checking";
    try {
      const e = await postJSON("/api/expressions", { expression: f.expression, domain: { x: f.x, y: f.y } }, mine.signal);
      if (mine !== this.check) return false;
      this.error("");
      const [gx, gy] = e.gradient;
      $("fx-math").innerHTML = `<div class="eq"><span>f =</span> ${e.f.mathml}</div>`
        + `<div class="eq"><span>∂f/∂x =</span> ${gx.mathml}</div><div class="eq"><span>∂f/∂y =</span> ${gy.mathml}</div>`;
      this.typeset = JSON.stringify(f);
      $("app").dataset.formula = "ok";
      return true;
    } catch (err) {
      if (err.name === "AbortError" || mine !== this.check) return false;
      if (err instanceof ApiError && err.status === 503) {
        this.error("The formula compiler is busy; trying again…");
        this.debounce(1500);
      } else {
        this.error(err.message);
        $("fx-math").replaceChildren();
        this.typeset = null;
      }
      $("app").dataset.formula = "error";
      return false;
    }
  }

  // The message wraps; the formula and the caret under it do not (they scroll together).
  error(message) {
    const lines = message ? message.split("\n") : [];
    const at = lines.findIndex((l) => /^\s*\^+\s*$/.test(l));
    if (at > 0) {
      const prose = document.createElement("span");
      prose.className = "fx-prose";
      prose.textContent = `${[...lines.slice(0, at - 1), ...lines.slice(at + 1)].join("\n")}\n`;
      const code = document.createElement("span");
      code.className = "fx-code";
      code.textContent = `${lines[at - 1]}\n${lines[at]}`;
      $("fx-error").replaceChildren(prose, code);
    } else {
      $("fx-error").textContent = message;
    }
    $("fx-error").hidden = !message;
    if (message) $("fx-text").setAttribute("aria-invalid", "true");
    else $("fx-text").removeAttribute("aria-invalid");
  }

  // --- data ----------------------------------------------------------------------------------

  fillSets(model, value) {
    $("ds-model").value = model;
    const options = this.datasets.filter((d) => d.kinds.includes(model)).map((d) => new Option(d.name, d.id));
    for (const u of this.uploads.filter((u) => u.kind === model)) options.push(new Option(u.label, u.value));
    options.push(new Option("upload CSV…", "upload"));
    $("ds-set").replaceChildren(...options);
    $("ds-set").value = value;
    if ($("ds-set").value !== value) $("ds-set").value = DEFAULT_DATASET[model];
    $("ds-upload-row").hidden = !isUpload($("ds-set").value);
  }

  pickData() {
    const int = (id) => (Number.isFinite($(id).valueAsNumber) ? Math.max(0, Math.round($(id).valueAsNumber)) : 0);
    this.onPick(dataId({
      model: $("ds-model").value,
      set: $("ds-set").value,
      l2: Number.isFinite($("ds-l2").valueAsNumber) ? Math.max(0, $("ds-l2").valueAsNumber) : 0,
      std: $("ds-std").checked,
      batch: int("ds-batch"),
      seed: int("ds-seed"),
    }));
  }

  async upload() {
    const file = $("ds-file").files[0];
    if (!file) return;
    const model = $("ds-model").value;
    $("ds-file-error").textContent = "";
    try {
      const text = await file.text();
      const d = await postJSON(`/api/datasets?kind=${model}`, text, undefined, { "content-type": "text/csv" });
      const value = rememberUpload(d.digest, d);
      if (!this.uploads.some((u) => u.value === value)) this.uploads.push({ value, label: `${file.name} (${d.n} points)`, kind: model });
      this.fillSets(model, value);
      this.pickData();
    } catch (err) {
      $("ds-file-error").textContent = err.message;
    }
  }

  // --- state → form --------------------------------------------------------------------------

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
    if (p.kind === "formula") {
      const f = { expression: p.expression, x: p.x, y: p.y };
      if ($("fx-text").value.trim() !== p.expression) $("fx-text").value = p.expression;
      [$("fx-xmin").value, $("fx-xmax").value, $("fx-ymin").value, $("fx-ymax").value] = [...p.x, ...p.y].map(String);
      if (this.typeset !== JSON.stringify(f)) await this.render(f);
      return;
    }
    await this.ready;
    this.fillSets(p.model, p.set);
    $("ds-l2").value = String(p.l2);
    $("ds-std").checked = p.std;
    $("ds-batch").value = p.batch ? String(p.batch) : "";
    $("ds-seed").value = String(p.seed);
  }

  init() {
    $("fx-text").value = DEFAULT_FORMULA.expression;
    [$("fx-xmin").value, $("fx-xmax").value, $("fx-ymin").value, $("fx-ymax").value] = [...DEFAULT_FORMULA.x, ...DEFAULT_FORMULA.y].map(String);
    $("ds-l2").value = "0";
    $("ds-seed").value = "0";
  }
}
