// Presenter mode: large type and markers, the essential controls only, for a projector at
// 1280×720. The layout is CSS (app.css); the plots' fonts are Plotly's, so they are relaid here.
import { FONT } from "./plotkit.js";

const SIZES = { normal: 12, present: 15 };
const PLOTS = ["contour", "surface3d", "losschart", "dataview"];

export class Presenter {
  // onToggle(on): the user switched the mode (the button, or the P key).
  constructor(button, onToggle) {
    this.button = button;
    this.on = false;
    button.addEventListener("click", () => {
      this.set(!this.on);
      onToggle(this.on);
    });
    document.addEventListener("keydown", (e) => {
      if (
        e.key !== "p" ||
        e.target.closest("input, select, textarea") ||
        e.altKey ||
        e.ctrlKey ||
        e.metaKey
      )
        return;
      this.set(!this.on);
      onToggle(this.on);
    });
  }

  set(on) {
    if (on === this.on) return;
    this.on = on;
    document.getElementById("app").dataset.present = String(on);
    this.button.setAttribute("aria-pressed", String(on));
    FONT.size = on ? SIZES.present : SIZES.normal; // for the plots built from now on
    for (const id of PLOTS) {
      const div = document.getElementById(id);
      if (div?.layout)
        window.Plotly.relayout(div, {
          "font.size": div.id === "losschart" ? FONT.size - 1 : FONT.size,
        });
    }
  }
}
