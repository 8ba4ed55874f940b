// A run: the iterates of one descent, filled in as the JSON Lines stream arrives.
import { streamDescent } from "./api.js";

// A run continued from another (resume.js) starts with that run's first iterates (`prefix`: path,
// loss, grad, eta_t up to the iterate it continues from, and its segments) and counts t on.
export class Run {
  constructor(body, prefix = null) {
    this.body = body; // the settings it was asked with (a continued run: the newest settings)
    this.path = prefix ? prefix.path.slice() : [];
    this.loss = prefix ? prefix.loss.slice() : [];
    this.grad = prefix ? prefix.grad.slice() : [];
    this.eta_t = prefix ? prefix.eta_t.slice() : []; // η used to leave θ_t (null on the last iterate)
    this.startT = this.path.length; // t of the first iterate this request streams
    this.segments = prefix ? prefix.segments : [{ t: 0, body, resume: null, note: "" }];
    this.resume = null; // from the end line: continues this run exactly
    this.done = false;
    this.status = null;
    this.message = "";
    this.steps = 0;
    this.nearest = null;
    this.error = null;
  }

  add(line) {
    if (line.type === "step") {
      // A resumed stream begins with the iterate it resumes from, which the prefix ends with.
      const i = line.t >= this.startT - 1 && this.startT > 0 ? line.t : this.path.length;
      this.path[i] = line.theta;
      this.loss[i] = line.loss;
      this.grad[i] = line.grad;
      this.eta_t[i] = line.eta ?? null;
    } else if (line.type === "error") {
      this.error = line.message; // the server stopped the run (its time budget): fetchRun throws
    } else if (line.type === "end") {
      const steps = this.startT > 0 ? this.startT - 1 + line.steps : line.steps;
      let message = line.message;
      if (this.segments.length > 1) {
        const changes = this.segments.slice(1);
        message += ` Continued at ${changes.map((c) => `t = ${c.t} (${c.note})`).join(", ")}; steps counted from there.`;
      }
      Object.assign(this, {
        done: true,
        status: line.status,
        message,
        steps,
        nearest: line.nearest_minimum,
        final: line.final,
        resume: line.resume ?? null,
      });
    }
  }
}

// Stream a run; onProgress(run) after every batch of lines. Rejects with ApiError or AbortError.
// `init` continues a run instead: { request (the body actually sent, with "resume"), prefix }.
export async function fetchRun(body, signal, onProgress = () => {}, init = null) {
  const run = new Run(body, init?.prefix);
  await streamDescent(init ? init.request : body, {
    signal,
    onLines(lines) {
      for (const line of lines) run.add(line);
      onProgress(run);
    },
  });
  if (run.error) throw new StreamError(run.error);
  if (!run.done) throw new Error("The run's stream ended early: the server closed the connection.");
  return run;
}

// A run that could not carry on, with a message for the user: a stream that ended with an error
// line (the server's own words), or a continued run's link that cannot be replayed (chain.js).
export class StreamError extends Error {}

// At most one call per `ms` (a number, or a function giving it), always ending with the newest
// arguments. `cancel()` drops a call still waiting: its arguments may be older than what is shown.
export function throttle(fn, ms) {
  let last = 0;
  let timer = null;
  let args = null;
  const fire = () => {
    timer = null;
    last = performance.now();
    fn(...args);
  };
  const call = (...a) => {
    args = a;
    if (timer) return;
    const wait = last + (typeof ms === "function" ? ms() : ms) - performance.now();
    if (wait <= 0) fire();
    else timer = setTimeout(fire, wait);
  };
  call.cancel = () => {
    clearTimeout(timer);
    timer = null;
  };
  return call;
}

// Like throttle, but the interval grows with what a call costs: from the call until the second
// frame after it (which includes the compositing of a WebGL canvas), so the calls take at most
// `share` of the main thread. With software WebGL one 3-D redraw can take 100 ms.
export function paced(fn, minMs, share) {
  let interval = minMs;
  const run = throttle(
    async (...args) => {
      const t0 = performance.now();
      await fn(...args);
      await new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
      interval = Math.max(minMs, (performance.now() - t0) / share);
    },
    () => interval,
  );
  return run;
}

// `names`: θ's coordinates (params.js), the columns' names: t,w,b,loss,grad_w,grad_b,eta_t.
export function toCSV(run, [a, b] = ["x", "y"]) {
  const rows = run.path.map((p, t) =>
    [t, p[0], p[1], run.loss[t], run.grad[t][0], run.grad[t][1], run.eta_t?.[t] ?? ""].join(","),
  );
  return `${[`t,${a},${b},loss,grad_${a},grad_${b},eta_t`, ...rows].join("\n")}\n`;
}

export function toJSON(run, parameters = ["x", "y"]) {
  const { body, status, message, steps, path, loss, grad, eta_t, final, nearest, resume } = run;
  const segments =
    run.segments?.length > 1
      ? run.segments.map(({ t, body: b, note }) => ({ t, request: b, note }))
      : undefined;
  return JSON.stringify(
    {
      request: body,
      parameters, // the names of θ's coordinates in path and grad
      status,
      message,
      steps,
      path,
      loss,
      grad,
      eta: eta_t?.slice(0, -1),
      final,
      nearest_minimum: nearest,
      resume,
      segments,
    },
    null,
    1,
  );
}

export function download(name, text, type) {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const a = document.createElement("a");
  a.href = url;
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}
