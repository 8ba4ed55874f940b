// Which run is on show, and the requests behind it. A settings change starts an animated run
// (its stream is read as it arrives). A drag of θ₀ or η asks for runs continuously and shows each
// whole path at once: up to two requests in flight, started at least a frame apart, so that a
// slow round trip does not halve the redraw rate; an answer older than the one on show is
// dropped, and once an answer is shown every request started before it is stale and aborted.
import { fetchRun } from "./runs.js";

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
    this.stats = { requests: 0, aborted: 0 };
  }

  get busy() {
    return Boolean(this.inflight.size || this.pending);
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
    this.pending = { body, pointerTime };
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
