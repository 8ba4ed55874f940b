// The live runs' WebSocket (/api/descent/live): each setting goes out at once, without waiting for
// the answers, and the server answers the newest it has (whole runs, in the order of their ids;
// a setting superseded before its turn is dropped). If the socket cannot open or drops, send()
// says so (false) and onDown() is called, so that the caller asks over HTTP instead; a new
// socket is opened RETRY_MS later (twice as late after each socket that never opened, up to
// MAX_RETRY_MS). Results come as binary frames (the numbers without printing and parsing them;
// the layout is in app/api/routes/live.py), errors as JSON text.
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
    // readMs: time spent reading and drawing answers (the page's script per redraw); binary:
    // answers read from binary frames; received: answers that came (some are never read: a newer
    // one came before the next frame)
    this.stats = Object.assign(stats, { opened: 0, dropped: 0, readMs: 0, binary: 0, received: 0 });
  }

  get open() {
    return this.ws?.readyState === WebSocket.OPEN;
  }

  // Send { id, request }; false when no socket is usable now (ask over HTTP).
  send(id, request) {
    const text = JSON.stringify({ id, request, binary: true });
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
    if (typeof text !== "string") this.stats.binary += 1;
    this.onAnswer(typeof text === "string" ? JSON.parse(text) : unpack(text));
    this.stats.readMs += performance.now() - t0;
  }

  connect() {
    const ws = new WebSocket(liveSocketURL());
    ws.binaryType = "arraybuffer";
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
      this.stats.received += 1;
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

// A binary answer as its JSON form: { id, result } with path, loss, grad and eta as arrays (pairs
// for path and grad) and a value that overflowed as null, as JSON has it.
export function unpack(buffer) {
  const size = new DataView(buffer).getUint32(0, true);
  const { id, n, m, result } = JSON.parse(
    new TextDecoder().decode(new Uint8Array(buffer, 4, size)),
  );
  const values = new Float64Array(buffer, Math.ceil((4 + size) / 8) * 8);
  const at = (i) => (Number.isFinite(values[i]) ? values[i] : null);
  const column = (from, length) => {
    const out = new Array(length);
    for (let i = 0; i < length; i++) out[i] = at(from + i);
    return out;
  };
  const pairs = (from) => {
    const out = new Array(n);
    for (let i = 0; i < n; i++) out[i] = [at(from + 2 * i), at(from + 2 * i + 1)];
    return out;
  };
  Object.assign(result, {
    path: pairs(0),
    loss: column(2 * n, n),
    grad: pairs(3 * n),
    eta: column(5 * n, m),
  });
  return { id, result };
}
