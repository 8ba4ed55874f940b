// The URL follows the store: each change says how history records it (`history` in its cause).
// "push" adds an entry, "replace" rewrites the current one, "none" leaves it (back, forward and
// a first load read the URL instead). A drag of θ₀ or of the η slider is one gesture and one
// entry: "live" pushes when the gesture starts and replaces while it goes on (at most once a
// second: a history.replaceState costs the page several ms), "end" replaces when it ends.
import { throttle } from "./runs.js";

export class UrlSync {
  // encode(state): the query string; beforeCommit(): a last change before a (non-live) commit
  // (racing pins follow θ₀), made with store.set and history "none".
  constructor(store, { encode, beforeCommit }) {
    this.store = store;
    this.encode = encode;
    this.beforeCommit = beforeCommit;
    this.inGesture = false;
    this.replaceLive = throttle(() => this.inGesture && this.commit(true), 1000);
    store.subscribe((_, cause) => this.follow(cause.history ?? "none"));
  }

  follow(how) {
    if (how === "push" || how === "replace") this.commit(how === "replace");
    else if (how === "live") this.live();
    else if (how === "end") this.end();
  }

  commit(replace = false) {
    if (!this.inGesture) this.beforeCommit();
    const url = this.encode(this.store.state);
    if (url === location.search) return;
    if (replace) history.replaceState(null, "", url);
    else history.pushState(null, "", url);
  }

  live() {
    if (this.inGesture) {
      this.replaceLive();
    } else {
      this.inGesture = true;
      this.commit();
    }
  }

  end() {
    const replace = this.inGesture;
    this.inGesture = false;
    this.commit(replace);
  }
}
