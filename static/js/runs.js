// A run: the iterates of one descent, filled in as the JSON Lines stream arrives.
import { streamDescent } from "./api.js";

class Run {
  constructor(body) {
    this.body = body;
    this.path = [];
    this.loss = [];
    this.grad = [];
    this.done = false;
    this.status = null;
    this.message = "";
    this.steps = 0;
    this.nearest = null;
  }

  add(line) {
    if (line.type === "step") {
      this.path.push(line.theta);
      this.loss.push(line.loss);
      this.grad.push(line.grad);
    } else if (line.type === "end") {
      Object.assign(this, { done: true, status: line.status, message: line.message, steps: line.steps, nearest: line.nearest_minimum, final: line.final });
    }
  }
}

// Stream a run; onProgress(run) after every batch of lines. Rejects with ApiError or AbortError.
export async function fetchRun(body, signal, onProgress = () => {}) {
  const run = new Run(body);
  await streamDescent(body, {
    signal,
    onLines(lines) {
      for (const line of lines) run.add(line);
      onProgress(run);
    },
  });
  if (!run.done) throw new Error("The run's stream ended early: the server closed the connection.");
  return run;
}

// At most one call per `ms` (a number, or a function giving it), always ending with the newest
// arguments.
export function throttle(fn, ms) {
  let last = 0;
  let timer = null;
  let args = null;
  const fire = () => {
    timer = null;
    last = performance.now();
    fn(...args);
  };
  return (...a) => {
    args = a;
    if (timer) return;
    const wait = last + (typeof ms === "function" ? ms() : ms) - performance.now();
    if (wait <= 0) fire();
    else timer = setTimeout(fire, wait);
  };
}

// Like throttle, but the interval grows with what a call costs: from the call until the second
// frame after it (which includes the compositing of a WebGL canvas), so the calls take at most
// `share` of the main thread. With software WebGL one 3-D redraw can take 100 ms.
export function paced(fn, minMs, share) {
  let interval = minMs;
  const run = throttle(async (...args) => {
    const t0 = performance.now();
    await fn(...args);
    await new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
    interval = Math.max(minMs, (performance.now() - t0) / share);
  }, () => interval);
  return run;
}

export function toCSV(run) {
  const rows = ["t,x,y,loss,grad_x,grad_y"];
  run.path.forEach((p, t) => rows.push([t, p[0], p[1], run.loss[t], run.grad[t][0], run.grad[t][1]].join(",")));
  return `${rows.join("\n")}\n`;
}

export function toJSON(run) {
  const { body, status, message, steps, path, loss, grad, final, nearest } = run;
  return JSON.stringify({ request: body, status, message, steps, path, loss, grad, final, nearest_minimum: nearest }, null, 1);
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
