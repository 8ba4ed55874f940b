// Surfaces the user makes, a formula or regression on data: their ids, their request bodies and
// their URL parameters. An id is a small query string ("formula?f=…&x=-3,3&y=-3,3",
// "data?model=logistic&set=overlap&l2=0.1&std=1&batch=16&seed=1"), so the rest of the page can
// treat it like a preset's id. Uploaded points live only in this page: a URL names an upload by
// its digest ("dataset=upload:…"), which another page cannot resolve (missingUpload says so).

const uploads = new Map(); // "upload:<digest>" → { x, y }
export const DEFAULT_FORMULA = {
  expression: "sin(x)*cos(y) + 0.1*(x**2 + y**2)",
  x: [-3, 3],
  y: [-3, 3],
};
export const DEFAULT_DATASET = { logistic: "overlap", linear: "trend" };
// How minibatches are drawn (POST /api/descent's `sampling`); the first is the API's default.
const EPOCH = "epoch";
const SAMPLINGS = [EPOCH, "with_replacement", "without_replacement"];

export const isCustom = (id) =>
  typeof id === "string" && (id.startsWith("formula?") || id.startsWith("data?"));
export const isUpload = (set) => typeof set === "string" && set.startsWith("upload:");

// A dataset surface whose uploaded points this page does not hold (a link from another page):
// its requests use the model's default dataset instead, and the page says so.
export function missingUpload(id) {
  if (!isCustom(id) || !id.startsWith("data?")) return false;
  const { set } = parseId(id);
  return isUpload(set) && !uploads.has(set);
}

export function rememberUpload(digest, data) {
  uploads.set(`upload:${digest}`, { x: data.x, y: data.y });
  return `upload:${digest}`;
}

function range(text, fallback) {
  const v = String(text ?? "")
    .split(",")
    .map((s) => (s.trim() === "" ? NaN : Number(s)));
  return v.length === 2 && v.every(Number.isFinite) && v[0] < v[1] ? v : fallback;
}
const num = (text, fallback) =>
  text !== null && text !== "" && Number.isFinite(Number(text)) ? Number(text) : fallback;

export function formulaId({ expression, x, y }) {
  return `formula?${new URLSearchParams({ f: expression, x: x.join(","), y: y.join(",") })}`;
}

export function dataId({ model, set, l2 = 0, std = false, batch = 0, seed = 0, sampling = EPOCH }) {
  const q = new URLSearchParams({ model, set });
  if (l2) q.set("l2", String(l2));
  if (std) q.set("std", "1");
  if (batch) {
    q.set("batch", String(batch));
    q.set("seed", String(seed));
    if (sampling !== EPOCH) q.set("sampling", sampling);
  }
  return `data?${q}`;
}

// The settings behind an id: { kind: "formula", expression, x, y } or { kind: "data", model, … }.
export function parseId(id) {
  const q = new URLSearchParams(id.slice(id.indexOf("?") + 1));
  if (id.startsWith("formula?")) {
    return {
      kind: "formula",
      expression: q.get("f") ?? DEFAULT_FORMULA.expression,
      x: range(q.get("x"), DEFAULT_FORMULA.x),
      y: range(q.get("y"), DEFAULT_FORMULA.y),
    };
  }
  return { kind: "data", ...dataSettings(q, "set") };
}

// A regression surface's settings from query parameters (its dataset under `setKey`), each
// malformed value replaced by its default.
function dataSettings(q, setKey) {
  const model = q.get("model") === "linear" ? "linear" : "logistic";
  return {
    model,
    set: q.get(setKey) || DEFAULT_DATASET[model],
    l2: Math.max(0, num(q.get("l2"), 0)),
    std: q.get("std") === "1",
    batch: Math.max(0, Math.round(num(q.get("batch"), 0))),
    seed: Math.max(0, Math.round(num(q.get("seed"), 0))),
    sampling: SAMPLINGS.includes(q.get("sampling")) ? q.get("sampling") : EPOCH,
  };
}

// The `surface` of an API request.
export function surfaceSpec(id) {
  if (!isCustom(id)) return id;
  const p = parseId(id);
  if (p.kind === "formula") return { expression: p.expression, domain: { x: p.x, y: p.y } };
  const spec = { kind: p.model, l2: p.l2, standardize: p.std };
  if (isUpload(p.set) && uploads.has(p.set)) spec.data = uploads.get(p.set);
  else spec.dataset = isUpload(p.set) ? DEFAULT_DATASET[p.model] : p.set;
  return spec;
}

// Fields of a descent request besides the surface: minibatch SGD on a dataset.
export function runExtras(id) {
  if (!isCustom(id)) return {};
  const p = parseId(id);
  if (p.kind !== "data" || !p.batch) return {};
  const extras = { batch_size: p.batch, seed: p.seed };
  return p.sampling === EPOCH ? extras : { ...extras, sampling: p.sampling };
}

// URL parameters of a surface (uploaded data by their digest only: a link cannot carry them).
export function surfaceEntries(id) {
  if (!isCustom(id)) return [["surface", id]];
  const p = parseId(id);
  if (p.kind === "formula")
    return [
      ["surface", "formula"],
      ["f", p.expression],
      ["fx", p.x.join(",")],
      ["fy", p.y.join(",")],
    ];
  const q = new URLSearchParams(id.slice(5));
  return [["surface", "data"], ...[...q].map(([k, v]) => [k === "set" ? "dataset" : k, v])];
}

// The custom surface a URL asks for, or null.
export function idFromQuery(search) {
  const q = new URLSearchParams(search);
  const kind = q.get("surface");
  if (kind === "formula") {
    return formulaId({
      expression: q.get("f") || DEFAULT_FORMULA.expression,
      x: range(q.get("fx"), DEFAULT_FORMULA.x),
      y: range(q.get("fy"), DEFAULT_FORMULA.y),
    });
  }
  if (kind === "data") return dataId(dataSettings(q, "dataset"));
  return null;
}
