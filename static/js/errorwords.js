// An API validation message in the page's own words, named after the control it concerns:
// "Input should be greater than 0 (got -1)" for η → "η must be greater than 0".

// The name a control goes by: η for the step size, else its label as the page shows it.
export function controlName(input) {
  if (!input) return "This value";
  if (input.id === "eta") return "η";
  const label = input.labels?.[0]?.textContent.trim() || input.getAttribute("aria-label");
  return label || input.id;
}

// Pydantic's phrases, and what the page says instead after the control's name.
const PHRASES = [
  [/^Input should be greater than or equal to /, "must be at least "],
  [/^Input should be less than or equal to /, "must be at most "],
  [/^Input should be greater than /, "must be greater than "],
  [/^Input should be less than /, "must be less than "],
  [/^Input should be a finite number.*/, "must be a finite number"],
  [/^Input should be a valid (number|integer).*/, "must be a $1"],
  [/^Input should be /, "must be "],
  [/^Field required.*/, "is required"],
  [/^Extra inputs are not permitted.*/, "is not a setting of this optimizer"],
];

// `msg` (one entry of a 422's detail) as a sentence about the control `input`.
export function inWords(msg, input) {
  const text = String(msg)
    .replace(/ \(got [^)]*\)$/, "")
    .replace(/^Value error, /, "");
  const found = PHRASES.find(([pattern]) => pattern.test(text));
  return found ? `${controlName(input)} ${text.replace(found[0], found[1])}` : text;
}
