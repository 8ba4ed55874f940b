// The page's state in one place. Every change goes through set(): the change is merged into the
// state, then every subscriber is told, in the order they subscribed, with the state before and
// the cause of the change (how the URL should record it, whether a run should start). The URL
// (url.js), the views and the requests follow the state this way; nothing else writes it.

export class Store {
  constructor() {
    this.state = null;
    this.subscribers = [];
  }

  // fn(state, { prev, changed(key), ...cause }) after every change.
  subscribe(fn) {
    this.subscribers.push(fn);
  }

  // Merge `change` into the state (`replace` swaps the whole state), then notify.
  set(change, cause = {}, replace = false) {
    const prev = this.state;
    this.state = replace ? change : { ...prev, ...change };
    const changed = (key) => !prev || prev[key] !== this.state[key];
    for (const fn of this.subscribers) fn(this.state, { ...cause, prev, changed });
  }

  replace(state, cause = {}) {
    this.set(state, cause, true);
  }
}
