// The live runs' WebSocket (/api/descent/live): each setting goes out at once, without waiting for
// the answers, and the server answers the newest it has (whole runs, in the order of their ids;
// a setting superseded before its turn is dropped). If the socket cannot open or drops, send()
// says so (false) and onDown() is called, so that the caller asks over HTTP instead; a new
// socket is opened RETRY_MS later (twice as late after each socket that never opened, up to
// MAX_RETRY_MS).
import { liveSocketURL } from "./api.js";

const RETRY_MS = 1000;
const MAX_RETRY_MS = 30_000;

export class LiveSocket {
  // onAnswer({ id, result } | { id, status, error }); onDown(): the socket closed or failed;
  // `stats` gets the sockets opened and dropped (for the tests and benchmarks/page.py).
  constructor({ onAnswer, onDown, stats }) {
    this.onAnswer = onAnswer;
    this.onDown = onDown;
    this.ws = null;
    this.waiting = null; // the newest message while the socket opens
    this.newest = null; // the newest answer not read yet
    this.drawn = false; // an answer was read since the last frame
    this.retryMs = RETRY_MS;
    this.timer = null;
    // readMs: time spent reading and drawing answers (the page's script per redraw)
    this.stats = Object.assign(stats, { opened: 0, dropped: 0, readMs: 0 });
  }

  get open() {
    return this.ws?.readyState === WebSocket.OPEN;
  }

  // Send { id, request }; false when no socket is usable now (ask over HTTP).
  send(id, request) {
    const text = JSON.stringify({ id, request });
    if (!this.ws) {
      if (this.timer || typeof WebSocket !== "function") return false;
      this.connect();
    }
    if (this.open) this.ws.send(text);
    else this.waiting = text;
    return true;
  }

  // Read the newest answer now, and the next one no sooner than the next frame.
  deliver() {
    const text = this.newest;
    this.newest = null;
    this.drawn = true;
    requestAnimationFrame(() => {
      this.drawn = false;
      if (this.newest !== null) this.deliver();
    });
    const t0 = performance.now();
    this.onAnswer(JSON.parse(text));
    this.stats.readMs += performance.now() - t0;
  }

  connect() {
    const ws = new WebSocket(liveSocketURL());
    this.ws = ws;
    let opened = false;
    ws.onopen = () => {
      opened = true;
      this.retryMs = RETRY_MS;
      this.stats.opened += 1;
      if (this.waiting) ws.send(this.waiting);
      this.waiting = null;
    };
    // Answers can come faster than frames: one is read and drawn at once, and those that come
    // before the next frame wait for it, when only the newest is read (they come in the order of
    // their ids, so it is the last one).
    ws.onmessage = (e) => {
      this.newest = e.data;
      if (!this.drawn) this.deliver();
    };
    // A failed or dropped socket closes (an error is always followed by close).
    ws.onclose = () => {
      if (ws !== this.ws) return;
      this.ws = null;
      this.waiting = null;
      this.stats.dropped += 1;
      this.timer = setTimeout(() => {
        this.timer = null;
        if (!this.ws) this.connect();
      }, this.retryMs);
      if (!opened) this.retryMs = Math.min(MAX_RETRY_MS, this.retryMs * 2);
      this.onDown();
    };
  }
}
