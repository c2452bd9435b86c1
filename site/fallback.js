// Float fallback on the page: the report's fallback steps (--target-sqnr)
// as a table, and a switch per operator between integer and float that
// quantizes again in place with float_ops (the calibration statistics come
// from the cache: no recalibration). ui.js calls fallbackOptions when it
// collects the options, fallbackProgress for the "fallback" phase,
// showFallback after a conversion and resetFallback when the model
// changes.

import { el } from "./render.js";

// The operators the user asked float with the switches, and whether the
// next conversion is the "Quantize again" one that sends them.
let chosen = new Set();
let int16 = new Set(); // operators on int16x8 kernels in an int8 model: they stay int16 unless ticked float
let pending = false;

function fmtDB(v) {
  return v === null || v === undefined ? "exact" : Number(v).toFixed(1);
}

// fallbackOptions adds float_ops to the options of a "Quantize again"
// conversion. That conversion says exactly which operators are float, so
// the target (which would move them again) is left out.
export function fallbackOptions(o) {
  // A target is measured on held-back samples: the page's share (ui.js's
  // VERIFY_SPLIT) even when "Check the result" is off.
  if (o.target_sqnr && !o.verify_split && !o.verify_random) o.verify_split = 0.125;
  if (!pending) return o;
  pending = false;
  o.float_ops = [...chosen];
  const keep16 = [...int16].filter((n) => !chosen.has(n));
  if (keep16.length && o.mode === "int8") o.int16_ops = keep16;
  delete o.target_sqnr;
  return o;
}

// fallbackProgress shows the "fallback" phase: re-quantizations done, of
// at most total.
export function fallbackProgress(p, bar, setStatus) {
  if (p.total > 0) {
    bar.max = p.total;
    bar.value = p.done;
  }
  setStatus(`Float fallback: re-quantization ${p.done} of at most ${p.total}…`);
}

export function resetFallback() {
  chosen = new Set();
  int16 = new Set();
  pending = false;
  const box = document.querySelector("#fallback");
  if (box) box.replaceChildren();
}

// operatorName is the name float_ops takes for a verification row: the
// operator's first output tensor, without the suffix of the integer copy a
// model output is written through.
function operatorName(row) {
  return row.tensor.replace(/_(int8|int16|uint8)$/, "");
}

function stepsView(f) {
  const outs = (list) => (list || []).map((o) => `${o.name} ${fmtDB(o.sqnr_db)} dB`).join(", ");
  const head = `Target ${f.target_sqnr} dB: ${f.reached ? "reached" : "not reached"} after ${f.steps.length} step(s) in ${(f.elapsed_ms / 1000).toFixed(1)} s. Before: ${outs(f.start)}.`;
  const rows = f.steps.map((s, i) => el("tr", { class: i + 1 === f.best && !f.reached ? "picked" : "" },
    el("td", { class: "num" }, String(i + 1)),
    el("td", {}, { float: "left float", int16: "made int16" }[s.action] || "back to integer"),
    el("td", {}, s.builtin), el("td", {}, s.operator),
    el("td", {}, outs(s.outputs)),
    el("td", { class: "num" }, String(s.model_size)),
    el("td", { class: "num" }, `${Math.round(100 * s.integer_share)}%`)));
  return [
    el("h3", {}, "Float fallback"),
    el("p", { class: f.reached ? "muted" : "notice" }, head),
    el("div", { class: "scroll" }, el("table", { id: "fallback-steps" },
      el("thead", {}, el("tr", {}, ["Step", "Action", "Operator", "Tensor", "Outputs' SQNR", "Bytes", "Integer"].map((h) => el("th", { scope: "col" }, h)))),
      el("tbody", {}, rows))),
    f.float_ops.length ? el("p", { class: "muted" }, `Left float: ${f.float_ops.join(", ")}`) : "",
    (f.int16_ops || []).length ? el("p", { class: "muted" }, `Made int16: ${f.int16_ops.join(", ")}`) : "",
  ];
}

// togglesView lists the operators that may switch: those on integer
// kernels and those float because they were asked float or the fallback
// chose them.
function togglesView(report, requantize) {
  const layers = (report.verification && report.verification.layers) || [];
  const asked = new Set();
  for (const f of (report.quantize && report.quantize.float_ops) || []) {
    if (f.tensor && /asked with --float-ops|left float for --target-sqnr/.test(f.reason)) asked.add(f.tensor);
  }
  chosen = new Set(asked);
  int16 = new Set();
  const rows = [];
  const seen = new Set();
  for (const l of layers) {
    if (l.operator === "QUANTIZE" || l.operator === "DEQUANTIZE") continue;
    const name = operatorName(l);
    const integer = l.type !== "FLOAT32";
    if (seen.has(name) || (!integer && !asked.has(name))) continue;
    seen.add(name);
    if (report.mode === "int8" && l.type === "INT16") int16.add(name);
    const box = el("input", { type: "checkbox", class: "float-op", "data-op": name, "aria-label": `keep ${name} float` });
    box.checked = !integer;
    box.addEventListener("change", () => {
      if (box.checked) chosen.add(name);
      else chosen.delete(name);
    });
    rows.push(el("tr", {}, el("td", {}, box), el("td", {}, int16.has(name) ? `${l.operator} (int16)` : l.operator), el("td", {}, name),
      el("td", { class: "num" }, fmtDB(l.isolated ? l.isolated.sqnr_db : null))));
  }
  if (!rows.length) return [];
  const again = el("button", { type: "button", id: "requantize" }, "Quantize again with these float");
  again.addEventListener("click", () => {
    pending = true;
    requantize();
  });
  return [el("details", {}, el("summary", {}, `Integer or float, per operator (${rows.length})`),
    el("p", { class: "muted" }, "Tick an operator to keep it float, untick to put it back on an integer kernel (an operator the fallback made int16 stays int16), then quantize again: the calibration statistics are reused."),
    el("div", { class: "scroll" }, el("table", { id: "float-toggles" },
      el("thead", {}, el("tr", {}, ["Float", "Operator", "Tensor", "Isolated SQNR"].map((h) => el("th", { scope: "col" }, h)))),
      el("tbody", {}, rows))),
    again)];
}

// showFallback renders the fallback section of a conversion's report.
// requantize runs a conversion with the page's current choices.
export function showFallback(report, requantize) {
  let box = document.querySelector("#fallback");
  if (!box) {
    box = el("div", { id: "fallback" });
    document.querySelector("#verification").after(box);
  }
  const parts = [];
  if (report.fallback) parts.push(...stepsView(report.fallback));
  parts.push(...togglesView(report, requantize));
  box.replaceChildren(...parts);
  box.hidden = !parts.length;
}
