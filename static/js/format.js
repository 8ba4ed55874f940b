// Numbers and formulas written for people.

export function num(v, digits = 4) {
  if (v === null || v === undefined || Number.isNaN(v)) return "—";
  if (!Number.isFinite(v)) return v > 0 ? "∞" : "−∞";
  if (v === 0) return "0";
  const a = Math.abs(v);
  const text =
    a >= 1e5 || a < 1e-3
      ? v.toExponential(digits - 2).replace("e+", "e")
      : String(Number(v.toPrecision(digits)));
  return text.replace(/^-/, "−");
}

export const pair = (p, digits) => `(${num(p[0], digits)}, ${num(p[1], digits)})`;

// A number for a URL or an input box: short, exact enough to reproduce a run.
export const short = (v) => String(Number(Number(v).toPrecision(6)));

const SUPERSCRIPT = {
  0: "⁰",
  1: "¹",
  2: "²",
  3: "³",
  4: "⁴",
  5: "⁵",
  6: "⁶",
  7: "⁷",
  8: "⁸",
  9: "⁹",
};

// The presets' LaTeX is simple: turn it into readable Unicode text instead of loading a TeX engine.
export function latexToText(tex) {
  return tex
    .replace(/\\tfrac\{([^}]*)\}\{([^}]*)\}/g, "$1/$2")
    .replace(/\\left|\\right/g, "")
    .replace(/\\[,;]/g, "\u2009")
    .replace(/\\cos/g, "cos")
    .replace(/\\sin/g, "sin")
    .replace(/\\pi/g, "π")
    .replace(/\^(\d)/g, (_, d) => SUPERSCRIPT[d])
    .replace(/\^\{(\d+)\}/g, (_, ds) => [...ds].map((d) => SUPERSCRIPT[d]).join(""))
    .replace(/ - /g, " − ")
    .replace(/\(-/g, "(−");
}
