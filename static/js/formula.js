// "Your formula": the box and its x, y ranges, checked as they are typed (debounced POST
// /api/expressions); f and ∇f typeset from the server's MathML, or the error with its caret.
import { ApiError, postExpression } from "./api.js";
import { DEFAULT_FORMULA, formulaId } from "./custom.js";

const $ = (id) => document.getElementById(id);
const DEBOUNCE_MS = 400;

export const FORMULA_PANEL = `
<div id="formula-panel" class="kind-panel" hidden>
  <label for="fx-text">f(x, y) =</label>
  <input type="text" id="fx-text" spellcheck="false" autocomplete="off" autocapitalize="off" aria-describedby="fx-error">
  <pre id="fx-error" class="fx-error" role="alert" hidden></pre>
  <div class="grid2">
    <div class="field"><label for="fx-xmin">x from … to</label>
      <div class="pair"><input type="number" id="fx-xmin" step="any" aria-label="x from"><input type="number" id="fx-xmax" step="any" aria-label="x to"></div></div>
    <div class="field"><label for="fx-ymin">y from … to</label>
      <div class="pair"><input type="number" id="fx-ymin" step="any" aria-label="y from"><input type="number" id="fx-ymax" step="any" aria-label="y to"></div></div>
  </div>
  <p class="error" id="fx-range-error" role="alert"></p>
  <div id="fx-math" class="fx-math" data-testid="fx-math" aria-live="polite"></div>
</div>`;

export class FormulaBox {
  // onPick(id): load the surface of a formula that checked out.
  constructor(onPick) {
    this.onPick = onPick;
    this.typeset = null; // the formula whose f and ∇f are on show
    this.timer = null;
    this.check = null; // AbortController of the formula check under way
    $("fx-text").addEventListener("input", () => this.debounce());
    for (const id of ["fx-xmin", "fx-xmax", "fx-ymin", "fx-ymax"])
      $(id).addEventListener("change", () => this.debounce(0));
    $("fx-text").value = DEFAULT_FORMULA.expression;
    this.writeRanges(DEFAULT_FORMULA.x, DEFAULT_FORMULA.y);
  }

  writeRanges(x, y) {
    [$("fx-xmin").value, $("fx-xmax").value, $("fx-ymin").value, $("fx-ymax").value] = [
      ...x,
      ...y,
    ].map(String);
    $("fx-range-error").textContent = this.rangeError(); // clears the marks of a fixed range
  }

  // Show a formula from a link (custom.js parseId) without picking it again.
  async write(p) {
    const f = { expression: p.expression, x: p.x, y: p.y };
    if ($("fx-text").value.trim() !== p.expression) $("fx-text").value = p.expression;
    this.writeRanges(p.x, p.y);
    if (this.typeset !== JSON.stringify(f)) await this.render(f);
  }

  formula() {
    const v = (id) => $(id).valueAsNumber;
    const x = [v("fx-xmin"), v("fx-xmax")];
    const y = [v("fx-ymin"), v("fx-ymax")];
    const ok = (r) => r.every(Number.isFinite) && r[0] < r[1];
    return {
      expression: $("fx-text").value.trim(),
      x: ok(x) ? x : DEFAULT_FORMULA.x,
      y: ok(y) ? y : DEFAULT_FORMULA.y,
    };
  }

  // What is wrong with the x and y ranges, in words ("" when both are fine); the boxes at fault
  // are marked.
  rangeError() {
    const problems = [];
    for (const axis of ["x", "y"]) {
      const [lo, hi] = [$(`fx-${axis}min`), $(`fx-${axis}max`)];
      const [a, b] = [lo.valueAsNumber, hi.valueAsNumber];
      let problem = "";
      if (!Number.isFinite(a) || !Number.isFinite(b))
        problem = `${axis} from … to needs two numbers.`;
      else if (a >= b)
        problem = `${axis} from ${a} to ${b}: the first must be smaller than the second.`;
      for (const el of [lo, hi]) {
        if (problem) el.setAttribute("aria-invalid", "true");
        else el.removeAttribute("aria-invalid");
      }
      if (problem) problems.push(problem);
    }
    return problems.join(" ");
  }

  debounce(ms = DEBOUNCE_MS) {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.submit(), ms);
  }

  async submit() {
    const f = this.formula();
    const rangeError = this.rangeError();
    $("fx-range-error").textContent = rangeError; // the surface on show stays until it is fixed
    if (rangeError) return;
    if (!f.expression) return this.error("Type a formula in x and y, e.g. x**2 + 3*y**2.");
    if (await this.render(f)) this.onPick(formulaId(f));
  }

  // Check a formula and typeset f and ∇f; false (with the error shown) when it is rejected.
  async render(f) {
    this.check?.abort();
    const mine = new AbortController();
    this.check = mine;
    $("app").dataset.formula = "checking";
    try {
      const e = await postExpression(f.expression, { x: f.x, y: f.y }, mine.signal);
      if (mine !== this.check) return false;
      this.error("");
      const [gx, gy] = e.gradient;
      $("fx-math").innerHTML =
        `<div class="eq"><span>f =</span> ${e.f.mathml}</div>` +
        `<div class="eq"><span>∂f/∂x =</span> ${gx.mathml}</div><div class="eq"><span>∂f/∂y =</span> ${gy.mathml}</div>`;
      this.typeset = JSON.stringify(f);
      $("app").dataset.formula = "ok";
      return true;
    } catch (err) {
      if (err.name === "AbortError" || mine !== this.check) return false;
      if (err instanceof ApiError && err.status === 503) {
        this.error("The formula compiler is busy; trying again…");
        this.debounce(1500);
      } else {
        this.error(err.message);
        $("fx-math").replaceChildren();
        this.typeset = null;
      }
      $("app").dataset.formula = "error";
      return false;
    }
  }

  // The message wraps; the formula and the caret under it do not (they scroll together).
  error(message) {
    const lines = message ? message.split("\n") : [];
    const at = lines.findIndex((l) => /^\s*\^+\s*$/.test(l));
    if (at > 0) {
      const prose = document.createElement("span");
      prose.className = "fx-prose";
      prose.textContent = `${[...lines.slice(0, at - 1), ...lines.slice(at + 1)].join("\n")}\n`;
      const code = document.createElement("span");
      code.className = "fx-code";
      code.textContent = `${lines[at - 1]}\n${lines[at]}`;
      $("fx-error").replaceChildren(prose, code);
    } else {
      $("fx-error").textContent = message;
    }
    $("fx-error").hidden = !message;
    if (message) $("fx-text").setAttribute("aria-invalid", "true");
    else $("fx-text").removeAttribute("aria-invalid");
  }
}
