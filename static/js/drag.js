// θ₀ by click and drag on the contour, with Plotly's public APIs: θ₀ is an editable shape
// (config.edits.shapePosition) whose final position arrives in plotly_relayout, and a click
// anywhere arrives as plotly_click with layout.clickanywhere. Plotly emits nothing while a shape is
// being dragged, so the pointer's own events, mapped through the axis ranges of the public layout,
// drive the live recomputation in between.

const GRAB_RADIUS = 10; // px around θ₀ that start a drag: the ring Plotly lets you drag

export function wireDrag(view, { getTheta0, onMove, onEnd, onClick }) {
  const gd = view.div;
  let dragging = false;
  let moved = false;
  let grab = [0, 0]; // θ₀'s offset from the pointer, in pixels: Plotly moves the shape by deltas

  const at = (e) => view.toData(e.clientX + grab[0], e.clientY + grab[1]);

  gd.addEventListener(
    "pointerdown",
    (e) => {
      if (e.button !== 0) return;
      const [px, py] = view.toPixels(...getTheta0());
      grab = [px - e.clientX, py - e.clientY];
      dragging = Math.hypot(...grab) <= GRAB_RADIUS;
      moved = false;
    },
    true,
  );

  window.addEventListener("pointermove", (e) => {
    if (!dragging || !(e.buttons & 1)) return;
    moved = true;
    onMove(at(e), e.timeStamp);
  });

  window.addEventListener("pointerup", (e) => {
    if (!dragging) return;
    dragging = false;
    // Plotly follows with plotly_relayout (the shape's final anchor); this is only a fallback for
    // a drag that Plotly did not count as one.
    const end = at(e);
    if (moved)
      setTimeout(() => {
        if (moved) {
          moved = false;
          onEnd(end);
        }
      }, 50);
  });

  gd.on("plotly_relayout", (update) => {
    if (!("shapes[0].xanchor" in update || "shapes[0].yanchor" in update)) return;
    const [x0, y0] = getTheta0();
    const point = [update["shapes[0].xanchor"] ?? x0, update["shapes[0].yanchor"] ?? y0];
    moved = false;
    onEnd(point);
  });

  // The click's own coordinates are exact; xvals are those of the last hover, which Plotly
  // throttles, so they can lag a quick click by a few pixels.
  gd.on("plotly_click", (ev) => {
    const point = ev.event
      ? view.toData(ev.event.clientX, ev.event.clientY)
      : [ev.xvals?.[0], ev.yvals?.[0]];
    if (point.every(Number.isFinite)) onClick(point);
  });

  return {
    get dragging() {
      return dragging;
    },
  };
}
