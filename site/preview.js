// The preview: a classifier's top-5 labels on one held-back sample, the
// float model beside the quantized one (run in the worker by litequant's
// interpreter).

import { el } from "./render.js";
import { segmenterView } from "./preview_seg.js";

function column(title, scores, other) {
  const top = other && other[0] ? other[0].index : -1;
  return el("div", { class: "preview-col" }, el("h4", {}, title),
    el("ol", {}, scores.map((s) => el("li", { class: s.index === top ? "agree" : null, "data-index": s.index },
      el("span", { class: "label" }, s.label),
      el("span", { class: "pbar" }, Object.assign(el("span", { class: "pfill" }), {})),
      el("span", { class: "score" }, `${(100 * s.score).toFixed(1)}%`)))));
}

// previewView renders a preview ({source, held_back, float, quantized}),
// or a segmenter's (kind "segmenter": preview_seg.js, over samples).
export function previewView(p, samples) {
  if (p.kind === "segmenter") return segmenterView(p, samples);
  const same = p.float[0] && p.quantized[0] && p.float[0].index === p.quantized[0].index;
  const name = p.source.split("/").pop();
  const view = el("div", { id: "preview", class: "preview" },
    el("h3", {}, "Preview"),
    el("p", { class: "muted" }, `Top 5 on ${name}${p.held_back ? ", a sample held back from calibration" : ""} — labels from ${p.labels} in the model's metadata.`),
    el("div", { class: "preview-cols" }, column("Float model", p.float, p.quantized), column("Quantized model", p.quantized, p.float)),
    el("p", { class: same ? "agree-line" : "notice" }, same ? `Both say ${p.float[0].label}.` : `They disagree: float says ${p.float[0].label}, quantized ${p.quantized[0].label}.`));
  // Bars by CSSOM (the page's CSP has no inline styles).
  for (const li of view.querySelectorAll("li")) {
    const pct = parseFloat(li.querySelector(".score").textContent);
    li.querySelector(".pfill").style.width = `${Math.max(0, Math.min(100, pct))}%`;
  }
  return view;
}
