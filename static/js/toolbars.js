// The plots' toolbars (Plotly's mode bars) stay out of the Tab order: a keyboard user tabs through
// the page's own controls without 2–3 stops per plot; the PNG and reset buttons remain a click
// away. Plotly builds a toolbar when a plot is first drawn (and again when its buttons change), so
// every toolbar button that appears under `root` is taken out as it comes.
export function untabToolbars(root) {
  const untab = () => {
    for (const b of root.querySelectorAll(".modebar-btn:not([tabindex='-1'])")) b.tabIndex = -1;
  };
  untab();
  new MutationObserver(untab).observe(root, { childList: true, subtree: true });
}
