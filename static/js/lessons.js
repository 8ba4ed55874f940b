// The lessons (GET /api/lessons): the lecture's points as one-click scenarios. A lesson sets the
// whole state of the page from its runs (the first is the run on show; the others on the same
// surface race it as pinned runs) and shows its text and question, with previous and next.
import { getLessons } from "./api.js";
import { DEFAULT_FORMULA, dataId, formulaId } from "./custom.js";

const $ = (id) => document.getElementById(id);

// A run's `surface` in the API's terms → the page's surface id (a dataset's carries the run's
// minibatch settings).
export function pageSurfaceId(spec, run = {}) {
  if (typeof spec === "string") return spec;
  if ("expression" in spec) {
    const d = spec.domain ?? {};
    return formulaId({
      expression: spec.expression,
      x: d.x ?? DEFAULT_FORMULA.x,
      y: d.y ?? DEFAULT_FORMULA.y,
    });
  }
  return dataId({
    model: spec.kind,
    set: spec.dataset,
    l2: spec.l2 ?? 0,
    std: Boolean(spec.standardize),
    batch: run.batch_size ?? 0,
    seed: run.seed ?? 0,
    sampling: run.sampling ?? "epoch",
  });
}

// A lesson run → the page's run settings (the shape of state.js's states and pins).
export function runSettings(run) {
  const { name, eta, ...hyper } = run.optimizer;
  return {
    label: run.label,
    optimizer: name,
    eta,
    hyper,
    theta0: [...run.theta0],
    ...(run.max_steps !== undefined ? { maxSteps: run.max_steps } : {}),
    ...(run.tol !== undefined ? { tol: run.tol } : {}),
  };
}

// The state a lesson sets: its run `k` on show, its other runs on that surface pinned (racing it
// when the lesson says so), and the views it asks for. `defaults(id)` gives a surface's defaults.
export async function stateOfLesson(lesson, k, defaults) {
  const runs = lesson.runs.map((r) => ({
    id: pageSurfaceId(r.surface, r),
    settings: runSettings(r),
  }));
  const main = runs[k] ?? runs[0];
  const base = await defaults(main.id);
  const { surface: _s, pins: _p, race: _r, ...runBase } = base;
  const pins = runs
    .filter((r) => r !== main && r.id === main.id)
    .map((r) => ({ ...runBase, ...r.settings }));
  const views = lesson.views;
  return {
    ...base,
    ...main.settings,
    pins,
    race: Boolean(views.race),
    field: Boolean(views.gradient_field),
    flow: Boolean(views.gradient_flow),
    noise: Boolean(views.noise_cloud),
    basins: Boolean(views.basins),
    lesson: lesson.id,
    lessonRun: runs.indexOf(main),
  };
}

export class Lessons {
  // onOpen(id, runIndex): the user asked for a lesson (or one of its runs); onClose().
  constructor({ onOpen, onClose }) {
    this.list = [];
    this.onOpen = onOpen;
    this.onClose = onClose;
    this.shown = null;
    $("lesson-prev").addEventListener("click", () => this.step(-1));
    $("lesson-next").addEventListener("click", () => this.step(1));
    $("lesson-close").addEventListener("click", () => this.onClose());
    // The list's links are real links (?lesson=N), so they also work opened in a new tab.
    $("lessons-list").addEventListener("click", (e) => {
      const a = e.target.closest("a[data-lesson]");
      if (!a || e.ctrlKey || e.metaKey || e.shiftKey || e.button !== 0) return;
      e.preventDefault();
      this.onOpen(Number(a.dataset.lesson), 0);
    });
  }

  async load() {
    if (!this.list.length) this.list = await getLessons();
    return this.list;
  }

  get(id) {
    return this.list.find((l) => l.id === id) ?? null;
  }

  step(delta) {
    const i = this.list.findIndex((l) => l.id === this.shown?.id);
    const next = this.list[i + delta];
    if (next) this.onOpen(next.id, 0);
  }

  // Show lesson `id` (null hides the card); `runIndex` marks which of its runs is on show.
  show(id, runIndex = 0) {
    const lesson = id === null ? null : this.get(id);
    this.shown = lesson;
    const card = $("lesson-card");
    card.hidden = !lesson;
    for (const a of $("lessons-list").querySelectorAll("a[data-lesson]")) {
      a.toggleAttribute("aria-current", Boolean(lesson) && Number(a.dataset.lesson) === lesson.id);
    }
    if (!lesson) return;
    const i = this.list.indexOf(lesson);
    $("lesson-count").textContent = `Lesson ${lesson.id} of ${this.list.length}`;
    $("lesson-title").textContent = lesson.title;
    $("lesson-text").replaceChildren(
      ...lesson.text.map((t) => Object.assign(document.createElement("p"), { textContent: t })),
    );
    $("lesson-question").textContent = lesson.question;
    $("lesson-prev").disabled = i <= 0;
    $("lesson-next").disabled = i >= this.list.length - 1;
    $("lesson-runs").replaceChildren(
      ...(lesson.runs.length > 1
        ? lesson.runs.map((run, k) => {
            const b = Object.assign(document.createElement("button"), {
              type: "button",
              className: "btn small",
              textContent: run.label || `run ${k + 1}`,
            });
            b.setAttribute("aria-pressed", String(k === runIndex));
            b.title = "Show this run (the lesson's other runs on the same surface race it)";
            b.addEventListener("click", () => this.onOpen(lesson.id, k));
            return b;
          })
        : []),
    );
  }
}
