// The 3-D view's path while θ₀ is dragged, drawn on a 2-D canvas over the scene: any Plotly
// restyle of a 3-D scene redraws the whole scene in WebGL (tens of milliseconds with software
// WebGL, on a CPU the server needs too), while a canvas line costs well under a millisecond.
// The points are projected as Plotly's scene (gl-plot3d) projects them: the axis ranges map onto
// a box of the scene's aspect ratio centred on 0, seen through lookAt(eye, center, up) and a
// perspective of 45° vertical field of view over the scene's width / height.
import { INK, RUN_COLOR, screenPoints } from "./plotkit.js";

const FOVY = Math.PI / 4;

const sub = (a, b) => [a[0] - b[0], a[1] - b[1], a[2] - b[2]];
const dot = (a, b) => a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
const cross = (a, b) => [
  a[1] * b[2] - a[2] * b[1],
  a[2] * b[0] - a[0] * b[2],
  a[0] * b[1] - a[1] * b[0],
];
const unit = (a) => {
  const n = Math.hypot(...a);
  return [a[0] / n, a[1] / n, a[2] / n];
};
const vec = (v, dflt) => (v ? [v.x ?? dflt[0], v.y ?? dflt[1], v.z ?? dflt[2]] : dflt);

// Data (x, y, z) → pixels from the scene's top left. `ranges`: [[x0, x1], [y0, y1], [z0, z1]];
// `aspect`: {x, y, z}; `camera`: the layout's scene.camera (Plotly's defaults where unset).
export function projector({ ranges, aspect, camera = {}, width, height }) {
  const eye = vec(camera.eye, [1.25, 1.25, 1.25]);
  const center = vec(camera.center, [0, 0, 0]);
  const up = vec(camera.up, [0, 0, 1]);
  const zAxis = unit(sub(eye, center));
  const xAxis = unit(cross(up, zAxis));
  const yAxis = cross(zAxis, xAxis);
  const f = 1 / Math.tan(FOVY / 2);
  const a = [aspect.x, aspect.y, aspect.z];
  const lo = ranges.map((r) => r[0]);
  const span = ranges.map((r) => r[1] - r[0]);
  const p = [0, 0, 0];
  return (x, y, z) => {
    p[0] = a[0] * ((x - lo[0]) / span[0] - 0.5) - eye[0];
    p[1] = a[1] * ((y - lo[1]) / span[1] - 0.5) - eye[1];
    p[2] = a[2] * ((z - lo[2]) / span[2] - 0.5) - eye[2];
    const depth = -dot(zAxis, p); // > 0 in front of the camera
    const nx = (f * height * dot(xAxis, p)) / (width * depth);
    const ny = (f * dot(yAxis, p)) / depth;
    return [((nx + 1) / 2) * width, ((1 - ny) / 2) * height];
  };
}

export class FlatPath3d {
  constructor(div) {
    this.div = div;
    this.canvas = document.createElement("canvas");
    this.canvas.className = "overlay";
    this.canvas.dataset.testid = "surface3d-live";
    Object.assign(this.canvas.style, { left: "0", top: "0", visibility: "hidden" });
    this.draws = 0;
    // The plot's size, kept by an observer: reading clientWidth while drawing would force a
    // layout of the page every frame.
    this.size = { width: div.clientWidth, height: div.clientHeight };
    new ResizeObserver(([entry]) => {
      const { inlineSize: width, blockSize: height } = entry.contentBoxSize[0];
      this.size = { width, height };
    }).observe(div);
  }

  get visible() {
    return this.canvas.style.visibility === "visible";
  }

  hide() {
    this.canvas.style.visibility = "hidden";
  }

  // The canvas takes the plot's size (the scene fills it: the layout has no margins).
  fit() {
    if (!this.canvas.isConnected) this.div.append(this.canvas);
    const { width, height } = this.size;
    const dpr = window.devicePixelRatio || 1;
    if (
      this.canvas.width !== Math.round(width * dpr) ||
      this.canvas.height !== Math.round(height * dpr)
    ) {
      this.canvas.width = Math.round(width * dpr);
      this.canvas.height = Math.round(height * dpr);
      Object.assign(this.canvas.style, { width: `${width}px`, height: `${height}px` });
    }
    return { width, height, dpr };
  }

  // `scene`: { ranges, aspect, camera }; `parts`: the path, the current iterate, θ₀ and the marks
  // where a continued run's settings changed, each as { x, y, z } (the lifted points).
  draw(scene, [path, current, start, marks]) {
    const { width, height, dpr } = this.fit();
    const ctx = this.canvas.getContext("2d");
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, width, height);
    const at = projector({ ...scene, width, height });
    ctx.lineJoin = "round";
    ctx.lineCap = "round";
    ctx.strokeStyle = RUN_COLOR;
    ctx.lineWidth = 4;
    ctx.beginPath();
    const shown = screenPoints(path.x.length, (i) => at(path.x[i], path.y[i], path.z[i]));
    for (const [i, [px, py]] of shown.entries()) {
      if (i) ctx.lineTo(px, py);
      else ctx.moveTo(px, py);
    }
    ctx.stroke();
    const dots = (points, r, fill, stroke, lineWidth) => {
      for (let i = 0; i < points.x.length; i++) {
        const [px, py] = at(points.x[i], points.y[i], points.z[i]);
        ctx.beginPath();
        ctx.arc(px, py, r, 0, 2 * Math.PI);
        ctx.fillStyle = fill;
        ctx.fill();
        ctx.lineWidth = lineWidth;
        ctx.strokeStyle = stroke;
        ctx.stroke();
      }
    };
    dots(marks, 4, INK, "#ffffff", 1.5);
    dots(current, 4, RUN_COLOR, "#ffffff", 1);
    dots(start, 3.5, "#ffffff", INK, 2);
    this.canvas.style.visibility = "visible";
    this.draws += 1;
  }
}
