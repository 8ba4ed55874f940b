// "Continue from here" (issue 7). Changing η, an optimizer hyperparameter, the optimizer or the
// schedule restarts the run from θ₀, as it always did; when the run on show was mid-way (paused or
// playing before its end, or still streaming), a bar over the player also offers to continue from
// the iterate that was on show instead. The API resumes only from a `resume` object (iterate, step
// count, optimizer state), so the page first replays the old settings for exactly those t steps
// (POST /api/descent with max_steps = t, itself resumed from the segment's start when the run was
// already continued) and takes the `resume` of its end: the optimizer state stays exact, which
// rebuilding it here would not (momentum's velocity, Adam's moments). Then it streams the new
// settings from there. The run on show is one path: the old iterates 0 … t, then the new ones; the
// change is marked on the contour, the 3-D view and the loss chart, and said in words in the
// status line (runs.js).
import { postDescent } from "./api.js";
import { labelOf, symbolOf } from "./catalogue.js";
import { short } from "./format.js";
import { svg } from "./plotkit.js";
import { describeSchedule } from "./schedule.js";

const value = (v) =>
  typeof v === "number" ? short(v) : v === true ? "on" : v === false ? "off" : String(v);

// What changed from one optimizer (as a request body has it) to another, in words:
// "η 0.01 → 0.05", "Gradient descent → Adam", "schedule constant → ×0.5 every 20", "line search off → on".
export function describeChange(a, b) {
  if (a.name !== b.name) {
    const eta = a.eta !== b.eta ? `, η ${value(a.eta)} → ${value(b.eta)}` : "";
    return `${labelOf(a.name)} → ${labelOf(b.name)}${eta}`;
  }
  const parts = [];
  if (a.eta !== b.eta) parts.push(`η ${value(a.eta)} → ${value(b.eta)}`);
  const skip = new Set(["name", "eta", "schedule", "line_search"]);
  for (const k of new Set([...Object.keys(a), ...Object.keys(b)])) {
    if (!skip.has(k) && a[k] !== undefined && b[k] !== undefined && a[k] !== b[k])
      parts.push(`${symbolOf(a.name, k)} ${value(a[k])} → ${value(b[k])}`);
  }
  const sa = describeSchedule(a.schedule);
  const sb = describeSchedule(b.schedule);
  if (sa !== sb) parts.push(`schedule ${sa} → ${sb}`);
  const la = a.line_search ? "on" : "off";
  const lb = b.line_search ? "on" : "off";
  if (la !== lb) parts.push(`line search ${la} → ${lb}`);
  else if (JSON.stringify(a.line_search) !== JSON.stringify(b.line_search))
    parts.push("line search settings");
  return parts.join(", ") || "settings";
}

const same = (a, b) => JSON.stringify(a) === JSON.stringify(b);
const withoutOptimizer = ({ optimizer, ...rest }) => rest;

// The segment of a run that holds iterate t: the last one starting at or before t.
export function segmentAt(run, t) {
  let k = 0;
  run.segments.forEach((s, i) => {
    if (s.t <= t) k = i;
  });
  return k;
}

// The changes of a run (where a segment begins) up to iterate t: { t, theta, loss, note }.
export function changesUpTo(run, t) {
  if (!run || !run.segments || run.segments.length < 2) return [];
  return run.segments
    .slice(1)
    .filter((s) => s.t <= t && run.path[s.t])
    .map((s) => ({ t: s.t, theta: run.path[s.t], loss: run.loss[s.t], note: s.note }));
}

// Contour overlay (contour.js): a diamond at each change reached by iterate t, with "t = 120".
export function drawChanges(group, map, run, t) {
  const marks = run ? changesUpTo(run, t) : [];
  group.replaceChildren(
    ...marks.flatMap((c) => {
      const [x, y] = map(c.theta[0], c.theta[1]);
      if (!Number.isFinite(x) || !Number.isFinite(y)) return [];
      const g = svg("g", {
        class: "change-marker",
        "data-t": c.t,
        transform: `translate(${x.toFixed(1)},${y.toFixed(1)})`,
      });
      const title = svg("title", {}, g);
      title.textContent = `${c.note} at t = ${c.t}`;
      svg(
        "rect",
        {
          x: -6,
          y: -6,
          width: 12,
          height: 12,
          transform: "rotate(45)",
          fill: "#1d2433",
          stroke: "#ffffff",
          "stroke-width": 2,
        },
        g,
      );
      const label = svg("text", { x: 11, y: -9, class: "change-label" }, g);
      label.textContent = `t = ${c.t}`;
      return [g];
    }),
  );
}

const $ = (id) => document.getElementById(id);

export class ResumeOffer {
  // run(): the run on show; start(body, init): show a continued run (see fetchRun's `init`);
  // onError(err): a failed replay.
  constructor({ run, start, onError }) {
    Object.assign(this, { run, start, onError });
    this.origin = null; // { run, t }: the run and iterate to continue from
    this.body = null; // the settings to continue with (a request body)
    this.job = 0; // bumped by every change: a replay that answers late is dropped
    $("resume-continue").addEventListener("click", () => this.continue());
    $("resume-restart").addEventListener("click", () => this.dismiss());
  }

  // A change of settings is about to start a new run (`body`); `old` was on show at iterate `t`
  // (`playing` or not). Returns nothing: the restart goes ahead; the bar offers the alternative.
  changed(old, t, playing, body) {
    this.job += 1;
    const midway = Boolean(
      old?.segments && t > 0 && t < old.path.length && (t < old.path.length - 1 || !old.done),
    );
    // A second change while the restarted run plays keeps the first point; a pause elsewhere
    // (or the first change) takes the iterate on show.
    if (midway && (!this.origin || !playing || old === this.origin.run))
      this.origin = { run: old, t };
    const o = this.origin;
    const ok =
      o &&
      same(withoutOptimizer(o.run.body), withoutOptimizer(body)) &&
      body.max_steps > o.t &&
      !same(o.run.segments[segmentAt(o.run, o.t)].body.optimizer, body.optimizer);
    if (ok) this.body = body;
    else this.origin = null;
    this.render();
  }

  dismiss() {
    this.origin = null;
    this.render();
  }

  // Replay the settings in force at t for exactly the steps to t, take their `resume`, then stream
  // the new settings from there.
  async continue() {
    if (!this.origin) return;
    const { run: old, t } = this.origin;
    const body = this.body;
    const job = ++this.job;
    const k = segmentAt(old, t);
    const seg = old.segments[k];
    $("resume-continue").disabled = true;
    $("resume-text").textContent = `Replaying the first ${t} steps to continue from t = ${t}…`;
    try {
      let resume = seg.resume;
      if (seg.t < t) {
        const replay = {
          ...seg.body,
          max_steps: t - seg.t,
          ...(seg.resume ? { resume: seg.resume } : {}),
        };
        const done = await postDescent(replay);
        resume = done.resume;
        const at = done.path.at(-1);
        if (resume.t !== t || !same(at, old.path[t]))
          throw new Error(`the replay of ${t} steps did not reach the iterate on show`);
      }
      if (job !== this.job) return; // settings changed meanwhile
      const note = describeChange(seg.body.optimizer, body.optimizer);
      const segments = [
        ...old.segments.slice(0, seg.t === t ? k : k + 1),
        { t, body, resume, note },
      ];
      const prefix = {
        path: old.path.slice(0, t + 1),
        loss: old.loss.slice(0, t + 1),
        grad: old.grad.slice(0, t + 1),
        eta_t: old.eta_t.slice(0, t + 1),
        segments,
      };
      const request = { ...body, max_steps: body.max_steps - t, resume };
      this.origin = null;
      this.render();
      this.start(body, { request, prefix });
    } catch (err) {
      if (job !== this.job) return;
      this.origin = null;
      this.render();
      this.onError(err);
    } finally {
      $("resume-continue").disabled = false;
    }
  }

  render() {
    const bar = $("resume-bar");
    const o = this.origin;
    if (o) {
      const seg = o.run.segments[segmentAt(o.run, o.t)];
      const from = seg.body.optimizer;
      const fresh =
        from.name !== this.body.optimizer.name
          ? ` ${labelOf(this.body.optimizer.name)} starts afresh there (θ and t carry over; ${labelOf(from.name)}'s state does not).`
          : "";
      $("resume-text").textContent =
        `${describeChange(from, this.body.optimizer)}: restarted from θ₀.${fresh}`;
      $("resume-continue").textContent = `Continue from t = ${o.t}`;
      bar.hidden = false;
    } else if (!bar.hidden) {
      bar.hidden = true; // (rendered with every move of a drag: a write, even the same, costs)
    }
  }
}
