// The report's operator table: every operator of the converted model in
// one row, classed integer / quantized weights / float / added
// QUANTIZE-DEQUANTIZE, each float one with its reason; the counts are
// counted from the rows, so they add up. And the sizes as a bar.

import { el, fmtBytes } from "./render.js";

const INTEGER = new Set(["INT8", "UINT8", "INT16"]);

export const CLASSES = { integer: "integer", weights: "quantized weights", float: "float", added: "added QUANTIZE/DEQUANTIZE" };

// operatorRows classifies each operator of after (inspect() of the
// converted model); before is inspect() of the float model, report the
// conversion's report (its float_ops give the reasons).
export function operatorRows(after, before, report) {
  const q = (report && report.quantize) || {};
  const reasons = new Map((q.float_ops || []).map((f) => [`${f.subgraph || 0}:${f.op}`, f.reason]));
  // What produced each tensor (by name) in the float model: a QUANTIZE or
  // DEQUANTIZE is added when the float model had none making that tensor.
  const madeBy = new Map();
  for (const sg of (before && before.subgraphs) || []) {
    for (const op of sg.operators) for (const o of op.outputs) if (o >= 0) madeBy.set(`${sg.index}:${sg.tensors[o].name}`, op.op);
  }
  const rows = [];
  for (const sg of after.subgraphs) {
    const t = (i) => (i >= 0 ? sg.tensors[i] : null);
    const producer = new Map();
    for (const op of sg.operators) for (const o of op.outputs) producer.set(o, op);
    for (const op of sg.operators) {
      const out = t(op.outputs[0]);
      const name = out ? out.name : "";
      let cls, reason = "";
      if ((op.op === "QUANTIZE" || op.op === "DEQUANTIZE") && madeBy.get(`${sg.index}:${name}`) !== op.op) {
        cls = "added";
        reason = op.op === "QUANTIZE" ? "float → integer, before an integer operator" : "integer → float, after one";
      } else if (op.outputs.some((o) => t(o) && INTEGER.has(t(o).type))) {
        cls = "integer";
      } else if (op.inputs.some((i) => {
        const x = t(i);
        if (!x) return false;
        if (x.buffer_bytes > 0 && (INTEGER.has(x.type) || x.type === "FLOAT16")) return true;
        const p = producer.get(i);
        return p && p.op === "DEQUANTIZE" && p.inputs.every((j) => t(j) && t(j).buffer_bytes > 0);
      })) {
        cls = "weights";
      } else {
        cls = "float";
        reason = reasons.get(`${sg.index}:${op.index}`) ||
          (report && ["dynamic", "float16"].includes(report.mode) ? `no weights to quantize; activations stay float in ${report.mode} mode` : "no integer kernel used");
      }
      rows.push({ subgraph: sg.index, index: op.index, op: op.op, tensor: name, cls, reason });
    }
  }
  return rows;
}

// countRows counts the rows per class.
export function countRows(rows) {
  const c = { integer: 0, weights: 0, float: 0, added: 0 };
  for (const r of rows) c[r.cls]++;
  return c;
}

// operatorsView is the count line and the table.
export function operatorsView(rows) {
  const c = countRows(rows);
  const line = `${rows.length} operators: ${c.integer} integer, ${c.weights} with quantized weights, ${c.float} float, ${c.added} added QUANTIZE/DEQUANTIZE`;
  return [
    el("p", { id: "op-counts", "data-total": rows.length, "data-integer": c.integer, "data-weights": c.weights, "data-float": c.float, "data-added": c.added }, line),
    el("details", { open: c.float > 0 && c.float <= 20 ? true : null }, el("summary", {}, `Operators (${rows.length})`),
      el("div", { class: "scroll" }, el("table", { id: "operators" },
        el("thead", {}, el("tr", {}, ["#", "Operator", "Output tensor", "Runs as", "Why float"].map((h) => el("th", { scope: "col" }, h)))),
        el("tbody", {}, rows.map((r) => el("tr", { "data-class": r.cls, class: `op-${r.cls}` },
          el("td", { class: "num" }, r.index), el("td", {}, r.op), el("td", {}, r.tensor),
          el("td", {}, CLASSES[r.cls]), el("td", {}, r.reason))))))),
  ];
}

// sizeBar shows the size after as a bar against the size before.
export function sizeBar(before, after) {
  const pct = before ? Math.min(100, (100 * after) / before) : 100;
  const fill = el("span", { class: "fill", "data-pct": pct.toFixed(1) });
  fill.style.width = `${pct}%`; // CSSOM, which the page's CSP allows
  return el("span", { class: "sizebar" },
    el("span", { class: "track", role: "img", "aria-label": `${pct.toFixed(1)}% of the float model` }, fill),
    `${fmtBytes(before)} → ${fmtBytes(after)} (${pct.toFixed(1)}%)`);
}

// metadataPairs are the report lines about the model's metadata.
export function metadataPairs(m) {
  const out = [];
  if (m.normalization) out.push(["Image samples", el("span", { id: "report-normalization" }, m.normalization)]);
  if (m.updated && m.updated.length) out.push(["Metadata updated", m.updated.join("; ")]);
  if (m.files && m.files.length) out.push(["Files kept", m.files.join(", ")]);
  if (m.warning) out.push(["Metadata", `not updated: ${m.warning}`]);
  return out;
}
