// Which run is on show, and the requests behind it. A settings change starts an animated run
// (its stream is read as it arrives). A drag of θ₀ or η asks for runs continuously and shows each
// whole path at once. The live settings go out on a WebSocket (socket.js) without waiting for
// each other, so the round trip does not set the redraw rate; the server answers the newest. If
// the socket cannot be used they go over HTTP instead: up to two requests in flight, started at
// least a frame apart. Either way every setting has a number (seq), an answer older than the one
// on show is dropped, and once an answer is shown every request started before it is stale.
import { ApiError } from "./api.js";
import { fetchRun, Run } from "./runs.js";
import { LiveSocket } from "./socket.js";

const MAX_INFLIGHT = 2;
const GAP_MS = 16; // between two live requests
const STALE_MS = 250; // a request this old is aborted when a newer setting waits

export class Runs {
  // onStart(run): a new animated run has its first iterates; onProgress(run): more arrived;
  // onDone(run, live): it ended; onLive(run, pointerTime): a dragged run to show whole;
  // onError(err): anything but an abort.
  constructor(handlers) {
    Object.assign(this, handlers);
    this.current = null;
    this.controller = null;
    this.inflight = new Map(); // seq → { controller, started }
    this.pending = null;
    this.seq = 0;
    this.shown = 0; // seq of the live answer on show
    this.timer = null;
    this.sent = new Map(); // seq → { body, pointerTime }: on the socket, not answered yet
    this.stats = { requests: 0, aborted: 0, socketSent: 0, socketAnswers: 0 };
    this.socket = new LiveSocket({
      onAnswer: (answer) => this.answered(answer),
      onDown: () => this.socketDown(),
      stats: this.stats,
    });
  }

  get busy() {
    return Boolean(this.inflight.size || this.pending || this.sent.size);
  }

  abortLive(before = Infinity) {
    for (const [seq, job] of this.inflight) {
      if (seq < before) {
        job.controller.abort();
        this.inflight.delete(seq);
        this.stats.aborted += 1;
      }
    }
  }

  // `init` continues a run (see fetchRun): the new run starts with the old one's first iterates.
  start(body, init = null) {
    this.pending = null;
    this.abortLive();
    this.shown = ++this.seq; // live answers still on their way are stale
    this.sent.clear();
    this.controller?.abort();
    const mine = new AbortController();
    this.controller = mine;
    this.current = null;
    let started = false;
    fetchRun(
      body,
      mine.signal,
      (r) => {
        if (mine !== this.controller) return;
        this.current = r;
        if (!started) {
          started = true;
          this.onStart(r);
        }
        this.onProgress(r);
      },
      init,
    )
      .then((r) => {
        if (mine !== this.controller) return;
        this.current = r;
        this.onDone(r, false);
      })
      .catch((err) => err.name !== "AbortError" && this.onError(err));
  }

  live(body, pointerTime) {
    this.controller?.abort();
    this.controller = null;
    const seq = ++this.seq;
    if (this.socket.send(seq, body)) {
      this.sent.set(seq, { body, pointerTime });
      this.stats.socketSent += 1;
      return;
    }
    this.pending = { body, pointerTime };
    this.pump();
  }

  // An answer on the socket: answers come in the order of their settings; older ones than the
  // answer on show are dropped.
  answered({ id, result, status, error }) {
    const job = this.sent.get(id);
    for (const seq of this.sent.keys()) if (seq <= id) this.sent.delete(seq);
    if (!job || id < this.shown) return;
    this.stats.socketAnswers += 1;
    this.shown = id;
    this.abortLive(id); // HTTP requests started before it (before the socket was back): stale
    if (error) {
      this.onError(new ApiError(status, error.message, error.detail));
      return;
    }
    const r = runOf(job.body, result);
    this.current = r;
    this.onLive(r, job.pointerTime);
    this.onDone(r, true);
  }

  // The socket dropped: the newest setting it had not answered is asked over HTTP.
  socketDown() {
    const newest = Math.max(...this.sent.keys());
    const job = this.sent.get(newest);
    this.sent.clear();
    if (!job || newest < this.shown) return;
    this.pending = job;
    this.pump();
  }

  pump() {
    if (!this.pending || this.timer) return;
    const now = performance.now();
    const starts = [...this.inflight.values()].map((j) => j.started);
    if (starts.length && now - Math.max(...starts) < GAP_MS) {
      this.timer = setTimeout(
        () => {
          this.timer = null;
          this.pump();
        },
        GAP_MS - (now - Math.max(...starts)),
      );
      return;
    }
    if (this.inflight.size >= MAX_INFLIGHT) {
      const [oldest] = this.inflight.keys();
      if (now - this.inflight.get(oldest).started < STALE_MS) return; // an answer will pump again
      this.abortLive(oldest + 1);
    }
    this.launch();
  }

  launch() {
    const job = this.pending;
    this.pending = null;
    const seq = ++this.seq;
    const controller = new AbortController();
    this.inflight.set(seq, { controller, started: performance.now() });
    this.stats.requests += 1;
    fetchRun(job.body, controller.signal)
      .then((r) => {
        if (!this.inflight.delete(seq) || seq < this.shown) return;
        this.shown = seq;
        this.abortLive(seq); // started before this one: stale now
        this.pump();
        this.current = r;
        this.onLive(r, job.pointerTime);
        this.onDone(r, true);
      })
      .catch((err) => {
        this.inflight.delete(seq);
        if (err.name !== "AbortError") this.onError(err);
        this.pump();
      });
  }
}

// A Run from POST /api/descent's answer (the socket's result is that body).
function runOf(body, result) {
  const run = new Run(body);
  run.path = result.path;
  run.loss = result.loss;
  run.grad = result.grad;
  run.eta_t = result.path.map((_, i) => result.eta?.[i] ?? null);
  run.add({ type: "end", ...result });
  return run;
}
