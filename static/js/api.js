// The REST API: every URL the page asks lives here. Every failure becomes an ApiError with a
// readable message (a network failure keeps fetch's TypeError, which says so).
import { isCustom, surfaceSpec } from "./custom.js";

export class ApiError extends Error {
  constructor(status, message, detail) {
    super(message);
    this.status = status;
    this.detail = Array.isArray(detail) ? detail : [];
  }
}

async function failure(response) {
  let body = null;
  try {
    body = await response.json();
  } catch {
    /* not JSON: fall through to the status text */
  }
  const message = body?.message || `${response.status} ${response.statusText}`;
  return new ApiError(response.status, message, body?.detail);
}

async function getJSON(url, signal) {
  const response = await fetch(url, { signal });
  if (!response.ok) throw await failure(response);
  return response.json();
}

async function postJSON(url, body, signal, headers = { "content-type": "application/json" }) {
  const response = await fetch(url, {
    method: "POST",
    headers,
    body: typeof body === "string" ? body : JSON.stringify(body),
    signal,
  });
  if (!response.ok) throw await failure(response);
  return response.json();
}

// A formula or dataset surface (custom.js) is described and sampled by POST; its id stays ours.
export const fetchSurface = (id) =>
  isCustom(id)
    ? postJSON("/api/surface", { surface: surfaceSpec(id) }).then((s) => ({ ...s, id }))
    : getJSON(`/api/surfaces/${encodeURIComponent(id)}`);

export const getLessons = () => getJSON("/api/lessons");

// The optimizer catalogue: names, labels, hyperparameters with defaults and bounds (catalogue.js).
export const getOptimizers = () => getJSON("/api/optimizers");

// The built-in datasets, with their points; a CSV the user uploads, parsed and checked for `kind`.
export const getDatasets = () => getJSON("/api/datasets");
export const postDatasetCSV = (kind, text) =>
  postJSON(`/api/datasets?${new URLSearchParams({ kind })}`, text, undefined, {
    "content-type": "text/csv",
  });

// A formula's canonical form, LaTeX and MathML of f and ∇f (formula.js).
export const postExpression = (expression, domain, signal) =>
  postJSON("/api/expressions", { expression, domain }, signal);

// A whole run at once (resume.js replays a run's first steps this way).
export const postDescent = (body, signal) => postJSON("/api/descent", body, signal);

// A run beside its gradient flow and modified flow (flow.js): the body of POST /api/descent.
export const postFlow = (body, signal) => postJSON("/api/flow", body, signal);

// SGD's noise cloud around θ*, predicted and measured on a run (noise.js).
export const postNoise = (body, signal) => postJSON("/api/noise", body, signal);

// Final loss, steps and status over a range of η (sweep.js).
export const postSweep = (body, signal) => postJSON("/api/sweep", body, signal);

export const fetchGrid = (id, n, signal) =>
  isCustom(id)
    ? postJSON("/api/grid", { surface: surfaceSpec(id), n, precision: "single" }, signal)
    : getJSON(`/api/surfaces/${encodeURIComponent(id)}/grid?n=${n}&precision=single`, signal);

// ∇L on an n × n grid over box = { xmin, xmax, ymin, ymax } (gradfield.js), asked like the grid.
export const fetchField = (id, n, box, signal) =>
  isCustom(id)
    ? postJSON("/api/field", { surface: surfaceSpec(id), n, ...box }, signal)
    : getJSON(
        `/api/surfaces/${encodeURIComponent(id)}/field?${new URLSearchParams({ n, ...box })}`,
        signal,
      );

// POST a body to a JSON Lines endpoint (/api/descent/stream, /api/basins) and hand each batch of
// parsed lines to onLines as it arrives; a 4xx/5xx becomes an ApiError.
async function streamLines(url, body, { signal, onLines }) {
  const response = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
    signal,
  });
  if (!response.ok) throw await failure(response);
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let rest = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    rest += value;
    const cut = rest.lastIndexOf("\n");
    if (cut < 0) continue;
    const lines = rest
      .slice(0, cut)
      .split("\n")
      .filter((line) => line.trim());
    rest = rest.slice(cut + 1);
    if (lines.length) onLines(lines.map((line) => JSON.parse(line)));
  }
  if (rest.trim()) onLines([JSON.parse(rest)]);
}

export const streamDescent = (body, options) => streamLines("/api/descent/stream", body, options);
// The WebSocket of live runs (live.js): a whole run for each setting sent, the newest last.
export const liveSocketURL = () =>
  `${location.protocol === "https:" ? "wss:" : "ws:"}//${location.host}/api/descent/live`;
export const streamBasins = (body, options) => streamLines("/api/basins", body, options);

// Small networks (network.js): what can be built, a training run streamed, a 2-D slice of its loss.
export const getNetworks = () => getJSON("/api/networks");
export const streamNetwork = (body, options) =>
  streamLines("/api/networks/train/stream", body, options);
export const postNetworkSlice = (body, signal) => postJSON("/api/networks/slice", body, signal);
export const postNetworkNoise = (body, signal) => postJSON("/api/networks/noise", body, signal);
