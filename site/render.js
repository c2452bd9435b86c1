import { operatorRows, operatorsView, sizeBar, metadataPairs } from "./report.js";

// Rendering: pure functions from data (summaries, reports, statistics) to
// DOM nodes. Text always goes through textContent, never HTML.

import { methodSummary } from "./methods.js";

export function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === "class") e.className = v;
    else if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, v === true ? "" : String(v));
  }
  for (const c of children.flat(Infinity)) {
    if (c === null || c === undefined || c === false) continue;
    e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return e;
}

export function fmtBytes(n) {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 / 1024).toFixed(2)} MiB`;
}

export function fmtMs(ms) {
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(1)} s`;
}

function fmtNum(v) {
  if (typeof v !== "number") return v ?? "";
  if (v === 0 || Number.isInteger(v)) return String(v);
  return Math.abs(v) >= 1e4 || Math.abs(v) < 1e-3 ? v.toExponential(3) : v.toPrecision(5);
}

function shape(io) {
  const s = io.shape_signature || io.shape || [];
  return `[${s.map((d) => (d < 0 ? "?" : d)).join(", ")}]`;
}

function dl(pairs) {
  return el("dl", {}, pairs.map(([k, v]) => [el("dt", {}, k), el("dd", {}, v)]));
}

function opCounts(counts) {
  return Object.entries(counts || {}).sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k}×${v}`).join(", ");
}

// summaryView shows a model: its inputs and outputs, op counts, size.
export function summaryView(s, name) {
  const sg = s.subgraphs[0] || { inputs: [], outputs: [] };
  const ios = (list) => list.map((io) => `${io.name} ${io.type} ${shape(io)}`).join("; ") || "none";
  const bytesByType = Object.entries(s.constant_bytes_by_type || {}).map(([k, v]) => `${k} ${fmtBytes(v)}`).join(", ");
  return dl([
    ["Model", `${name} — ${fmtBytes(s.size_bytes)}`],
    ["Inputs", ios(sg.inputs)],
    ["Outputs", ios(sg.outputs)],
    ["Operators", opCounts(s.op_counts) || "none"],
    ["Tensors", `${s.tensor_count} (${s.quantized_tensor_count} quantized), ${s.subgraphs.length} subgraph(s)`],
    ["Constant data", bytesByType || "none"],
  ]);
}

const INTEGER = new Set(["INT8", "UINT8", "INT16"]);

// opBreakdown classifies the operators of a converted model: integer
// kernels (an integer output), quantized weights (float kernel reading
// int8 weights, or weights behind a DEQUANTIZE), float, and the QUANTIZE /
// DEQUANTIZE operators the conversion added.
export function opBreakdown(summary) {
  const r = { total: 0, integer: 0, weights: 0, float: 0, converters: 0 };
  for (const sg of summary.subgraphs) {
    const t = (i) => (i >= 0 ? sg.tensors[i] : null);
    const producer = new Map();
    for (const op of sg.operators) for (const o of op.outputs) producer.set(o, op);
    for (const op of sg.operators) {
      r.total++;
      if (op.op === "QUANTIZE" || op.op === "DEQUANTIZE") { r.converters++; continue; }
      if (op.outputs.some((o) => t(o) && INTEGER.has(t(o).type))) { r.integer++; continue; }
      const qweight = op.inputs.some((i) => {
        const x = t(i);
        if (!x) return false;
        if (x.buffer_bytes > 0 && (INTEGER.has(x.type) || x.type === "FLOAT16")) return true;
        const p = producer.get(i);
        return p && p.op === "DEQUANTIZE" && p.inputs.every((j) => t(j) && t(j).buffer_bytes > 0);
      });
      if (qweight) r.weights++; else r.float++;
    }
  }
  return r;
}

// rangeRows joins calibration statistics (tensor index → min/max of the
// input model) with the tensors' names and their quantization in the output
// model.
export function rangeRows(stats, before, after) {
  const rows = [];
  if (!stats || !stats.subgraphs) return rows;
  for (const ss of stats.subgraphs) {
    const sgIn = before && before.subgraphs[ss.index];
    const sgOut = after && after.subgraphs[ss.index];
    const byName = new Map((sgOut ? sgOut.tensors : []).map((t) => [t.name, t]));
    for (const [idx, r] of Object.entries(ss.tensors || {})) {
      const name = sgIn && sgIn.tensors[idx] ? sgIn.tensors[idx].name : `#${idx}`;
      const out = byName.get(name);
      const q = out && out.quantization;
      rows.push({
        tensor: name, min: r.min, max: r.max,
        type: out ? out.type : "",
        scale: q && q.scale && q.scale.length === 1 ? q.scale[0] : (q && q.scale ? `${q.scale.length} scales` : ""),
        zero_point: q && q.zero_point && q.zero_point.length === 1 ? q.zero_point[0] : "",
      });
    }
  }
  return rows;
}

// sortableTable builds a table whose column headers sort it.
export function sortableTable(columns, rows, id) {
  const tbody = el("tbody");
  let sortKey = null, dir = 1;
  const ths = columns.map((c) => el("th", {
    class: `sortable${c.num ? " num" : ""}`, scope: "col", "data-key": c.key, tabindex: 0,
    onclick: () => sortBy(c.key),
    onkeydown: (e) => { if (e.key === "Enter" || e.key === " ") { e.preventDefault(); sortBy(c.key); } },
  }, c.label));
  function fill() {
    tbody.replaceChildren(...rows.map((r) => el("tr", {}, columns.map((c) =>
      el("td", { class: c.num ? "num" : null }, c.num ? fmtNum(r[c.key]) : r[c.key])))));
  }
  function sortBy(key) {
    dir = key === sortKey ? -dir : 1;
    sortKey = key;
    rows.sort((a, b) => {
      const x = a[key], y = b[key];
      if (typeof x === "number" && typeof y === "number") return dir * (x - y);
      return dir * String(x).localeCompare(String(y), undefined, { numeric: true });
    });
    for (const th of ths) {
      if (th.dataset.key === key) th.setAttribute("aria-sort", dir > 0 ? "ascending" : "descending");
      else th.removeAttribute("aria-sort");
    }
    fill();
  }
  fill();
  return el("div", { class: "scroll" }, el("table", { id }, el("thead", {}, el("tr", {}, ths)), tbody));
}

// reportView shows a finished conversion.
export function reportView({ report, before, after, stats }) {
  const q = report.quantize || {};
  const parts = [];
  const pairs = [
    ["Mode", report.mode],
    ["Size", sizeBar(report.size_before, report.size_after)],
  ];
  const opParts = after ? operatorsView(operatorRows(after, before, report)) : [];
  if (after) pairs.push(["Operators", opParts.shift()]);
  if (q.noop) pairs.push(["Note", `nothing to quantize (${q.noop_reason}); the model is unchanged`]);
  if (report.calibration) {
    const c = report.calibration;
    pairs.push(["Calibration", `${c.samples} samples${c.cached ? " (statistics from the cache)" : ""}, ${fmtMs(c.elapsed_ms)}` +
      (c.samples ? ` — ${(c.elapsed_ms / c.samples).toFixed(1)} ms/sample` : "")]);
    if (methodSummary(c)) pairs.push(["Ranges", methodSummary(c)]);
  }
  if (report.metadata) pairs.push(...metadataPairs(report.metadata));
  if (q.min_runtime_version && q.min_runtime_version !== q.min_runtime_before) {
    pairs.push(["Min runtime", `${q.min_runtime_before || "unset"} → ${q.min_runtime_version}`]);
  }
  parts.push(dl(pairs), ...opParts);
  // What the converter warns about (ranges set by a few samples,
  // --default-range used, ...), as the CLI prints it.
  for (const w of q.warnings || []) {
    parts.push(el("p", { class: "notice report-warning" }, `Warning: ${w}`));
  }

  const ranges = rangeRows(stats, before, after);
  parts.push(el("h3", {}, `Activation ranges (${ranges.length})`));
  if (ranges.length) {
    parts.push(sortableTable([
      { key: "tensor", label: "Tensor" }, { key: "min", label: "Min", num: true }, { key: "max", label: "Max", num: true },
      { key: "type", label: "Type after" }, { key: "scale", label: "Scale", num: true }, { key: "zero_point", label: "Zero point", num: true },
    ], ranges, "ranges"));
  } else {
    parts.push(el("p", { class: "muted" }, "No calibration in this mode: activations stay float, so there are no ranges."));
  }

  const weights = q.weights || [];
  if (weights.length) {
    const rows = weights.map((w) => ({
      tensor: w.tensor, type: w.type, elements: w.elements, granularity: w.granularity || "",
      scale_min: w.scale_min ?? "", scale_max: w.scale_max ?? "",
      consumers: (w.consumers || []).map((c) => `${c.name}#${c.op} (${c.kernel})`).join(", "),
    }));
    parts.push(el("details", {}, el("summary", {}, `Quantized weights (${weights.length})`), sortableTable([
      { key: "tensor", label: "Tensor" }, { key: "type", label: "Type" }, { key: "elements", label: "Elements", num: true },
      { key: "granularity", label: "Granularity" }, { key: "scale_min", label: "Scale min", num: true },
      { key: "scale_max", label: "Scale max", num: true }, { key: "consumers", label: "Used by" },
    ], rows, "weights")));
  }
  return parts;
}

// fmtDB prints a figure in decibels (null: exact, no error at all).
function fmtDB(v) {
  return v === null || v === undefined ? "exact" : `${v.toFixed(1)} dB`;
}

const SVG = "http://www.w3.org/2000/svg";
function svg(tag, attrs = {}, ...children) {
  const e = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, String(v));
  }
  for (const c of children) e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return e;
}

// layerChart draws one bar per layer in execution order, its height the
// isolated SQNR (exact layers reach the top); hovering shows the row,
// clicking scrolls to it in the table.
export function layerChart(layers, onPick) {
  const W = 720, H = 180, pad = 28;
  const vals = layers.map((l) => (l.isolated ? l.isolated.sqnr_db : l.accumulated.sqnr_db));
  const finite = vals.filter((v) => v !== null);
  const top = Math.max(40, ...finite.map((v) => Math.ceil(v / 10) * 10));
  const bw = (W - pad) / Math.max(layers.length, 1);
  const y = (v) => H - pad - (Math.max(0, Math.min(v, top)) / top) * (H - 2 * pad);
  const chart = svg("svg", { viewBox: `0 0 ${W} ${H}`, class: "layer-chart", role: "img",
    "aria-label": `Isolated SQNR of ${layers.length} layers in execution order` });
  for (const t of [0, top / 2, top]) {
    chart.append(svg("line", { x1: pad, x2: W, y1: y(t), y2: y(t), class: "grid" }),
      svg("text", { x: pad - 4, y: y(t) + 4, class: "axis", "text-anchor": "end" }, String(t)));
  }
  chart.append(svg("text", { x: 2, y: 12, class: "axis" }, "dB"));
  layers.forEach((l, i) => {
    const v = vals[i];
    const h = v === null ? top : v;
    const cls = v === null ? "bar exact" : v < 20 ? "bar bad" : v < 30 ? "bar fair" : "bar good";
    const acc = l.accumulated.sqnr_db;
    chart.append(svg("rect", {
      x: pad + i * bw + bw * 0.1, y: y(h), width: Math.max(1, bw * 0.8), height: H - pad - y(h), class: cls,
      "data-row": i, tabindex: 0, onclick: () => onPick(i),
      onkeydown: (e) => { if (e.key === "Enter") onPick(i); },
    }, svg("title", {}, `#${l.operator_index} ${l.operator} ${l.tensor}: isolated ${fmtDB(v)}, accumulated ${fmtDB(acc)}`)));
  });
  return chart;
}

// verificationView shows the check of the quantized model on samples
// calibration never saw: per-output figures, the per-layer chart and the
// table it points into.
export function verificationView(v) {
  if (!v) return [];
  const parts = [el("h3", {}, "Verification"), el("p", { class: "muted" }, `On ${v.source}.`)];
  if (v.error) {
    parts.push(el("p", { class: "notice" }, `The check could not run: ${v.error}`));
    return parts;
  }
  parts.push(el("ul", { class: "outputs" }, (v.outputs || []).map((o) => el("li", {},
    el("strong", {}, o.name), `: SQNR ${fmtDB(o.metrics.sqnr_db)}`,
    o.top1_agreement !== undefined && o.top1_agreement !== null ? `, top-1 agreement ${(100 * o.top1_agreement).toFixed(1)}%` : ""))));
  const layers = v.layers || [];
  if (!layers.length) return parts;
  const rows = layers.map((l, i) => el("tr", { id: `layer-${i}` },
    el("td", { class: "num" }, l.operator_index), el("td", {}, l.operator), el("td", {}, l.tensor),
    el("td", { class: "num" }, fmtDB(l.isolated ? l.isolated.sqnr_db : null)),
    el("td", { class: "num" }, fmtDB(l.accumulated.sqnr_db)),
    el("td", { class: "num" }, fmtNum(l.accumulated.rmse)),
    el("td", { class: "num" }, fmtNum(l.accumulated.max_abs_error)),
    el("td", { class: "num" }, clippedText(l.accumulated.clipped))));
  const pick = (i) => {
    for (const r of rows) r.classList.remove("picked");
    rows[i].classList.add("picked");
    rows[i].scrollIntoView({ block: "nearest", behavior: "smooth" });
  };
  parts.push(el("p", { class: "muted" }, "Each bar is a layer in execution order; its height is the layer's own (isolated) error as SQNR — low bars are where the damage is done. Hover for figures, click to find the row."));
  parts.push(layerChart(layers, pick));
  parts.push(el("details", { open: true }, el("summary", {}, `Layers (${layers.length})`),
    el("div", { class: "scroll" }, el("table", { id: "layers" },
      el("thead", {}, el("tr", {}, ["Op", "Operator", "Tensor", "Isolated", "Accumulated", "RMSE", "Max |err|", "Clipped"].map((h) => el("th", { scope: "col" }, h)))),
      el("tbody", {}, rows)))));
  return parts;
}

// recentRows renders the recent conversions list.
export function recentRows(entries, onDownload, onDelete) {
  if (!entries.length) {
    return [el("tr", {}, el("td", { colspan: 6, class: "muted" }, "None yet."))];
  }
  return entries.map((e) => el("tr", { "data-key": e.key },
    el("td", {}, e.name || "model.tflite"),
    el("td", {}, e.mode),
    el("td", {}, new Date(e.date).toLocaleString()),
    el("td", { class: "num" }, fmtBytes(e.size_before)),
    el("td", { class: "num" }, fmtBytes(e.size_after)),
    el("td", {},
      el("button", { type: "button", class: "recent-download", onclick: () => onDownload(e) }, "Download"), " ",
      el("button", { type: "button", class: "recent-delete", onclick: () => onDelete(e) }, "Delete"))));
}

// clippedText shows a share of clipped values; a share too small for two
// decimals is "< 0.01%", never a misleading "0.00%".
function clippedText(share) {
  if (!share) return "0";
  const pct = 100 * share;
  return pct < 0.01 ? "< 0.01%" : `${pct.toFixed(2)}%`;
}
