// Mode advice: one line per mode saying what it would do to the loaded
// model (size after, samples needed, operators that would stay float),
// from the converter's advise(); clicking a line picks the mode.

import { el, fmtBytes } from "./render.js";

function floatPart(a) {
  if (a.nothing) return "nothing to quantize";
  const n = (a.float_ops || []).length;
  if (!n) return a.calibrates ? "every operator integer" : "every weight quantized";
  const names = a.float_ops.slice(0, 3).map((f) => f.name).join(", ");
  const what = a.calibrates ? "operator" : "operator";
  return `${n} ${what}${n === 1 ? " stays" : "s stay"} float (${names}${n > 3 ? ", …" : ""})`;
}

// adviceLine is the one-line text for a mode.
export function adviceLine(a, samples) {
  if (a.error) return `not possible: ${a.error}`;
  const pct = a.size_before ? Math.round((100 * a.size_after) / a.size_before) : 100;
  const need = a.calibrates ? (samples ? `needs samples (${samples} given)` : "needs samples") : "no samples needed";
  return `${fmtBytes(a.size_after)} (${pct}%) · ${need} · ${floatPart(a)}`;
}

// adviceView renders the list; onPick(mode) is called on a click.
export function adviceView(advice, samples, current, onPick) {
  return advice.map((a) => el("li", {
    "data-mode": a.mode, class: a.mode === current ? "chosen" : null, tabindex: 0, role: "button",
    title: (a.float_ops || []).map((f) => `${f.name}: ${f.reason}`).join("\n") || null,
    onclick: () => onPick(a.mode),
    onkeydown: (e) => { if (e.key === "Enter" || e.key === " ") { e.preventDefault(); onPick(a.mode); } },
  }, el("b", {}, a.mode), " ", el("span", { class: a.error ? "why error" : "why" }, adviceLine(a, samples))));
}
