// Which run is on show, and the requests behind it. A settings change starts an animated run
// (its stream is read as it arrives); a drag of θ₀ or η asks for runs continuously and shows each
// whole path at once: one request in flight, a newer setting waits for it unless it has become
// stale, and then aborts it.
import { fetchRun } from "./runs.js";

const STALE_MS = 120;

export class Runs {
  // onStart(run): a new animated run has its first iterates; onProgress(run): more arrived;
  // onDone(run, live): it ended; onLive(run, pointerTime): a dragged run to show whole;
  // onError(err): anything but an abort.
  constructor(handlers) {
    Object.assign(this, handlers);
    this.current = null;
    this.controller = null;
    this.inflight = null;
    this.pending = null;
    this.stats = { requests: 0, aborted: 0 };
  }

  get busy() {
    return Boolean(this.inflight || this.pending);
  }

  start(body) {
    this.pending = null;
    this.inflight?.controller.abort();
    this.inflight = null;
    this.controller?.abort();
    const mine = new AbortController();
    this.controller = mine;
    this.current = null;
    let started = false;
    fetchRun(body, mine.signal, (r) => {
      if (mine !== this.controller) return;
      this.current = r;
      if (!started) {
        started = true;
        this.onStart(r);
      }
      this.onProgress(r);
    })
      .then((r) => {
        if (mine !== this.controller) return;
        this.current = r;
        this.onDone(r, false);
      })
      .catch((err) => err.name !== "AbortError" && this.onError(err));
  }

  live(body, pointerTime) {
    this.controller?.abort();
    this.pending = { body, pointerTime };
    if (this.inflight) {
      if (performance.now() - this.inflight.started < STALE_MS) return;
      this.inflight.controller.abort();
      this.stats.aborted += 1;
    }
    this.launch();
  }

  launch() {
    const job = this.pending;
    this.pending = null;
    const mine = { controller: new AbortController(), started: performance.now() };
    this.stats.requests += 1;
    this.inflight = mine;
    fetchRun(job.body, mine.controller.signal)
      .then((r) => {
        if (this.inflight !== mine) return;
        this.inflight = null;
        if (this.pending) this.launch(); // overlap the next request with this redraw
        this.current = r;
        this.onLive(r, job.pointerTime);
        this.onDone(r, true);
      })
      .catch((err) => {
        if (this.inflight === mine) this.inflight = null;
        if (err.name !== "AbortError") this.onError(err);
        if (this.pending && !this.inflight) this.launch();
      });
  }
}
