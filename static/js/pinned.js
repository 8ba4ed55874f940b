// The pinned runs (Keep run, the race, a lesson's other runs): each is fetched once and kept by
// its settings on the surface on show, so the list follows the store's `pins`.
import { fetchRun } from "./runs.js";
import { encode, requestBody } from "./state.js";

export class PinnedRuns {
  constructor() {
    this.runs = new Map(); // key of a pin's settings → its finished run
  }

  key(state, pin) {
    return encode({ surface: state.surface, ...pin, pins: [] });
  }

  // The state's pins, each with its run once it has one.
  list(state) {
    return state.pins.map((pin) => ({ ...pin, run: this.runs.get(this.key(state, pin)) }));
  }

  remember(state, pin, run) {
    this.runs.set(this.key(state, pin), run);
  }

  // A new surface: no run of the old one fits.
  forget() {
    this.runs = new Map();
  }

  // Fetch the runs of the pins that have none; a failure goes to onError, the others go on.
  async fetchMissing(state, onError) {
    const missing = state.pins.filter((pin) => !this.runs.has(this.key(state, pin)));
    await Promise.all(
      missing.map(async (pin) => {
        try {
          this.remember(state, pin, await fetchRun(requestBody(state.surface, pin)));
        } catch (err) {
          onError(err);
        }
      }),
    );
  }
}
