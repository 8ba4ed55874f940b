// "Regression on data": the model, the dataset (built-in, or a CSV uploaded and kept in this page
// only), λ, "standardize x", and minibatch SGD's batch size, seed and sampling.
import { getDatasets, postDatasetCSV } from "./api.js";
import { DEFAULT_DATASET, dataId, isUpload, missingUpload, rememberUpload } from "./custom.js";

const $ = (id) => document.getElementById(id);

export const DATA_PANEL = `
<div id="data-panel" class="kind-panel" hidden>
  <p class="error" id="ds-error" role="alert" hidden></p>
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
    <div class="field"><label for="ds-sampling">Batches</label>
      <select id="ds-sampling" title="Reshuffle the data each epoch and cut it in order; or draw each step's B points independently, with replacement or as a fresh subset"><option value="epoch">reshuffle each epoch</option><option value="with_replacement">with replacement</option><option value="without_replacement">fresh subset each step</option></select></div>
  </div>
</div>`;

export class DataPanel {
  // onPick(id): load the dataset surface the fields describe.
  constructor(onPick) {
    this.onPick = onPick;
    this.datasets = [];
    this.uploads = []; // [{ value, label, kind }]
    this.shown = null; // the dataset of the surface on show: the box returns to it
    // Without the built-in datasets an upload still works: say what failed, above the fields.
    this.ready = getDatasets().then(
      (d) => {
        this.datasets = d;
      },
      (err) => {
        $("ds-error").textContent =
          `Could not load the built-in datasets (${err.message}). ` +
          "Upload a CSV, or reload the page to try again.";
        $("ds-error").hidden = false;
      },
    );
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
    // No file chosen: the box shows the data on show again.
    $("ds-file").addEventListener("cancel", () => this.fillSets($("ds-model").value, this.shown));
    for (const id of ["ds-l2", "ds-std", "ds-batch", "ds-seed", "ds-sampling"])
      $(id).addEventListener("change", () => this.pickData());
    $("ds-l2").value = "0";
    $("ds-seed").value = "0";
  }

  async start() {
    await this.ready;
    if ($("ds-set").options.length === 0) this.fillSets("logistic", DEFAULT_DATASET.logistic);
    this.pickData();
  }

  // Show dataset settings from a link (custom.js parseId; `id` the surface's) without picking
  // them again. A link's upload this page does not hold is said above the fields.
  async write(p, id) {
    await this.ready;
    this.fillSets(p.model, p.set);
    this.shown = $("ds-set").value;
    const missing = missingUpload(id);
    if (missing || $("ds-error").dataset.upload) {
      $("ds-error").textContent = missing
        ? "This link was made with uploaded data, which a link cannot carry: the plots show " +
          `the “${DEFAULT_DATASET[p.model]}” dataset instead. Upload the CSV again to see yours.`
        : "";
      $("ds-error").hidden = !missing;
      $("ds-error").dataset.upload = missing ? "1" : "";
    }
    $("ds-l2").value = String(p.l2);
    $("ds-std").checked = p.std;
    $("ds-batch").value = p.batch ? String(p.batch) : "";
    $("ds-seed").value = String(p.seed);
    $("ds-sampling").value = p.sampling;
  }

  fillSets(model, value) {
    $("ds-model").value = model;
    const options = this.datasets
      .filter((d) => d.kinds.includes(model))
      .map((d) => new Option(d.name, d.id));
    for (const u of this.uploads.filter((u) => u.kind === model))
      options.push(new Option(u.label, u.value));
    options.push(new Option("upload CSV…", "upload"));
    $("ds-set").replaceChildren(...options);
    $("ds-set").value = value;
    if ($("ds-set").value !== value) $("ds-set").value = DEFAULT_DATASET[model];
    $("ds-upload-row").hidden = !isUpload($("ds-set").value);
  }

  pickData() {
    this.shown = $("ds-set").value;
    if ($("ds-error").dataset.upload) {
      // a link's missing upload is no longer what the fields ask for
      $("ds-error").hidden = true;
      $("ds-error").dataset.upload = "";
    }
    const int = (id) =>
      Number.isFinite($(id).valueAsNumber) ? Math.max(0, Math.round($(id).valueAsNumber)) : 0;
    this.onPick(
      dataId({
        model: $("ds-model").value,
        set: $("ds-set").value,
        l2: Number.isFinite($("ds-l2").valueAsNumber) ? Math.max(0, $("ds-l2").valueAsNumber) : 0,
        std: $("ds-std").checked,
        batch: int("ds-batch"),
        seed: int("ds-seed"),
        sampling: $("ds-sampling").value,
      }),
    );
  }

  async upload() {
    const file = $("ds-file").files[0];
    if (!file) return;
    const model = $("ds-model").value;
    $("ds-file-error").textContent = "";
    try {
      const text = await file.text();
      const d = await postDatasetCSV(model, text);
      const value = rememberUpload(d.digest, d);
      if (!this.uploads.some((u) => u.value === value))
        this.uploads.push({ value, label: `${file.name} (${d.n} points)`, kind: model });
      this.fillSets(model, value);
      this.pickData();
    } catch (err) {
      // The box goes back to the data on show; the error stays in sight under it.
      this.fillSets(model, this.shown);
      $("ds-upload-row").hidden = false;
      $("ds-file-error").textContent = err.message;
    }
  }
}
