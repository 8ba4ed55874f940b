// Writes to the page that skip what would not change it. Writing an element's text replaces its
// text node even when the words are the same, and every such write makes the browser lay the
// page out again (~0.3 ms here), several times a frame while θ₀ is dragged.

export function setText(el, text) {
  if (el.textContent !== text) el.textContent = text;
}

export function setValue(el, value) {
  if (el.value !== value) el.value = value;
}

export function setAttr(el, name, value) {
  if (el.getAttribute(name) !== value) el.setAttribute(name, value);
}
