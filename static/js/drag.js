// θ₀ by click and drag on the contour, with Plotly's public APIs: θ₀ is an editable shape
// (config.edits.shapePosition) whose final position arrives in plotly_relayout, and a click
// anywhere arrives as plotly_click with layout.clickanywhere. Plotly emits nothing while a shape is
// being dragged, so the pointer's own events, mapped through the axis ranges of the public layout,
// drive the live recomputation in between.

const GRAB_RADIUS = 10; // px around θ₀ that start a drag: the ring Plotly lets you drag

// While θ₀ is dragged a transparent layer covers the page, so the pointer is over nothing else:
// Plotly's hover handler of the ring (it measures the ring and sets the cursor: a forced layout
// and style recalculation with every move, ~1-2 ms here) and every hover effect stay quiet. The
// moves still bubble to the document and the window, where Plotly's drag and ours listen.
function cover() {
  const el = document.createElement("div");
  el.className = "drag-cover";
  document.body.append(el);
  return el;
}

export function wireDrag(view, { getTheta0, onMove, onEnd, onClick }) {
  const gd = view.div;
  let dragging = false;
  let moved = false;
  let grab = [0, 0]; // θ₀'s offset from the pointer, in pixels: Plotly moves the shape by deltas
  let covered = null;
  const uncover = () => {
    if (covered) view.showDragRing(null);
    covered?.remove();
    covered = null;
  };

  // The plot's place is read once a drag starts (and again if the page scrolls): read with every
  // move, it would lay out the page the last answer changed, in the middle of the move.
  let rect = null;
  const at = (e) => view.toData(e.clientX + grab[0], e.clientY + grab[1], rect ?? undefined);
  window.addEventListener(
    "scroll",
    () => {
      if (dragging) rect = gd.getBoundingClientRect();
    },
    { capture: true, passive: true },
  );

  gd.addEventListener(
    "pointerdown",
    (e) => {
      if (e.button !== 0) return;
      const [px, py] = view.toPixels(...getTheta0());
      grab = [px - e.clientX, py - e.clientY];
      rect = gd.getBoundingClientRect();
      dragging = Math.hypot(...grab) <= GRAB_RADIUS;
      moved = false;
    },
    true,
  );

  window.addEventListener("pointermove", (e) => {
    if (!dragging || !(e.buttons & 1)) return;
    moved = true;
    covered ??= cover(); // (not at pointerdown: Plotly's drag starts on the ring's own events)
    view.showDragRing([e.clientX + grab[0], e.clientY + grab[1]], rect);
    onMove(at(e), e.timeStamp);
  });

  // The release reaches Plotly's drag through the cover (a mouse's mouseup follows its pointerup
  // in the same task; a finger has none); the cover goes after it.
  window.addEventListener("pointerup", () => setTimeout(uncover));
  window.addEventListener("pointercancel", uncover);

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
