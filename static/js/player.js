// Plays a run in the browser with requestAnimationFrame: the server never paces anything.

export const SPEEDS = ["auto", 2, 10, 50, 250, 1000];

export class Player {
  // length(): iterates received so far; done(): the run has ended; render(t): draw iterate t.
  constructor({ length, done, render, onState }) {
    Object.assign(this, { length, done, render, onState });
    this.t = 0;
    this.pos = 0; // fractional position while playing
    this.playing = false;
    this.speed = "auto";
    this.last = null;
    this.scheduled = false;
    this.frame = this.frame.bind(this);
  }

  schedule() {
    if (this.scheduled) return;
    this.scheduled = true;
    requestAnimationFrame(this.frame);
  }

  rate() {
    if (this.speed !== "auto") return this.speed;
    const total = this.done() ? this.length() : Math.max(this.length(), 200);
    return Math.min(2500, Math.max(6, total / 4)); // about four seconds a run
  }

  play() {
    if (this.t >= this.length() - 1 && this.done()) this.seek(0);
    this.playing = true;
    this.last = null;
    this.schedule();
    this.onState();
  }

  pause() {
    this.playing = false;
    this.onState();
  }

  toggle() {
    if (this.playing) this.pause();
    else this.play();
  }

  seek(t) {
    const n = this.length();
    this.t = Math.max(0, Math.min(n - 1, Math.round(t)));
    this.pos = this.t;
    this.render(this.t);
    this.onState();
  }

  step(dt) {
    this.pause();
    this.seek(this.t + dt);
  }

  // A new run: start from θ₀ (or from t, a continued run) and play as the iterates arrive.
  reset({ play, t = 0 }) {
    this.t = t;
    this.pos = t;
    this.playing = false;
    if (play) this.play();
  }

  // More iterates arrived (or the run ended): a paused-at-the-front player resumes.
  more() {
    if (this.playing) this.schedule();
    this.onState();
  }

  frame(now) {
    this.scheduled = false;
    if (!this.playing) return;
    const dt = this.last === null ? 0 : Math.min(0.1, (now - this.last) / 1000);
    this.last = now;
    const end = this.length() - 1;
    this.pos = Math.min(end, this.pos + dt * this.rate());
    const t = Math.floor(this.pos);
    if (t !== this.t || dt === 0) {
      this.t = Math.max(0, t);
      this.render(this.t);
      this.onState();
    }
    if (this.pos >= end) {
      if (this.done()) {
        this.playing = false;
        this.onState();
        return;
      }
      this.last = null; // wait for more iterates; more() schedules the next frame
      return;
    }
    this.schedule();
  }
}
