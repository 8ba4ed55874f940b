// Where a whole state comes from: a link (location.search), a lesson, a surface's defaults. Each
// surface is described by the API once and kept.
import { fetchSurface } from "./api.js";
import { stateOfLesson } from "./lessons.js";
import { decode, defaultsFor, surfaceIdOf } from "./state.js";

export class Sources {
  // lessons: the Lessons list (lessons.js); offered: the preset ids the page offers.
  constructor(lessons, offered) {
    this.lessons = lessons;
    this.offered = offered;
    this.surfaces = new Map(); // id → the surface as GET /api/surfaces/{id} describes it
  }

  async surfaceOf(id) {
    if (!this.surfaces.has(id)) this.surfaces.set(id, await fetchSurface(id));
    return this.surfaces.get(id);
  }

  // A surface already fetched.
  surface(id) {
    return this.surfaces.get(id);
  }

  // The state of lesson `id` with its run `k` on show: { state, hold } (hold: its first run waits
  // at t = 0, to be stepped through by hand), or null for an unknown lesson.
  async lesson(id, k, present) {
    await this.lessons.load();
    const lesson = this.lessons.get(id);
    if (!lesson) return null;
    if (lesson.views.network) {
      // a network lesson (8, 9) opens on the network page (network.js)
      location.assign(`/network?lesson=${id}${present ? "&present=1" : ""}`);
      return null;
    }
    const defaults = async (sid) => defaultsFor(await this.surfaceOf(sid));
    const state = await stateOfLesson(lesson, k, defaults);
    return { state: { ...state, present }, hold: Boolean(lesson.views.paused) };
  }

  // The state a link asks for: { state, hold }. A lesson link (?lesson=3) sets the lesson's
  // whole state; with run settings besides, those win.
  async fromURL(search) {
    const q = new URLSearchParams(search);
    const lesson = Number(q.get("lesson"));
    if (lesson && !q.has("opt")) {
      const found = await this.lesson(lesson, 0, q.get("present") === "1");
      if (found) return found;
    }
    const state = decode(search, await this.surfaceOf(surfaceIdOf(search, this.offered)));
    // A lesson whose settings were changed keeps its card; an unknown lesson number is dropped.
    if (state.lesson) {
      await this.lessons.load();
      if (!this.lessons.get(state.lesson)) state.lesson = null;
    }
    return { state, hold: false };
  }
}
