// The lessons on the network page: the whole list (GET /api/lessons); the network lessons (their
// `views.network`) open here with their card, the others on the 2-D page (their links, /?lesson=N).
const $ = (id) => document.getElementById(id);

export class NetLessons {
  // load(): the lessons (api.js); onOpen(id, runIndex): open a lesson or one of its runs.
  constructor(load, onOpen) {
    this.load = load;
    this.list = null;
    this.onOpen = onOpen;
    $("lessons-list").addEventListener("click", async (e) => {
      const a = e.target.closest("a[data-lesson]");
      if (!a || e.ctrlKey || e.metaKey || e.shiftKey || e.button !== 0) return;
      const lesson = await this.get(Number(a.dataset.lesson));
      if (!lesson?.views?.network) return; // the 2-D page opens it
      e.preventDefault();
      this.onOpen(lesson.id, 0);
    });
    this.shown = null;
    $("lesson-prev").addEventListener("click", () => this.step(-1));
    $("lesson-next").addEventListener("click", () => this.step(1));
    // Network lessons' links stay on this page.
    this.get(0).then(() => {
      for (const a of $("lessons-list").querySelectorAll("a[data-lesson]")) {
        const l = this.list.find((x) => x.id === Number(a.dataset.lesson));
        if (l?.views?.network) a.href = `/network?lesson=${l.id}`;
      }
    });
  }

  async get(id) {
    this.list ??= await this.load();
    return this.list.find((l) => l.id === id) ?? null;
  }

  // The previous or next lesson (one on the 2-D page opens there).
  step(delta) {
    const i = this.list.indexOf(this.shown);
    const next = this.list[i + delta];
    if (next) this.onOpen(next.id, 0);
  }

  // Lesson `id`'s card (null hides it), with its run `k` marked.
  async show(id, k = 0) {
    const lesson = id ? await this.get(id) : null;
    const card = $("lesson-card");
    card.hidden = !lesson;
    for (const a of $("lessons-list").querySelectorAll("a[data-lesson]"))
      a.toggleAttribute("aria-current", Boolean(lesson) && Number(a.dataset.lesson) === id);
    this.shown = lesson;
    if (!lesson) return;
    const i = this.list.indexOf(lesson);
    $("lesson-prev").disabled = i <= 0;
    $("lesson-next").disabled = i >= this.list.length - 1;
    $("lesson-count").textContent = `Lesson ${lesson.id} of ${this.list.length}`;
    $("lesson-link").href = `/?lesson=${lesson.id}`;
    $("lesson-link").textContent = `/?lesson=${lesson.id}`;
    $("lesson-title").textContent = lesson.title;
    $("lesson-text").replaceChildren(
      ...lesson.text.map((t) => Object.assign(document.createElement("p"), { textContent: t })),
    );
    $("lesson-question").textContent = lesson.question;
    $("lesson-runs").replaceChildren(
      ...lesson.runs.map((run, i) => {
        const b = Object.assign(document.createElement("button"), {
          type: "button",
          className: "btn small",
          textContent: run.label || `run ${i + 1}`,
        });
        b.setAttribute("aria-pressed", String(i === k));
        b.addEventListener("click", () => this.onOpen(lesson.id, i));
        return b;
      }),
    );
  }
}
