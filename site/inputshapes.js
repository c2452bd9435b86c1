// A field per dynamic input: when the loaded model has inputs whose
// shape_signature holds -1 (e.g. [1, ?, ?, 3]), the options show one
// "Shape of NAME" field for each, beside mode and I/O types. They write
// the Advanced "Input shapes" option (#input-shapes, NAME=D,D,... entries:
// --input-shape in the CLI), which stays the one place the conversion,
// the recipe and "Copy as command line" read, so typing in either keeps
// them in step.

import { el } from "./render.js";

// dynamicInputs lists the first subgraph's inputs with a dynamic dimension.
export function dynamicInputs(summary) {
  const sg = summary && summary.subgraphs && summary.subgraphs[0];
  if (!sg) return [];
  return sg.inputs.filter((io) => (io.shape_signature || []).some((d) => d < 0));
}

function entries(text) {
  const m = new Map();
  for (const item of text.trim().split(/\s+/).filter(Boolean)) {
    const i = item.indexOf("=");
    m.set(i < 0 ? item : item.slice(0, i), item);
  }
  return m;
}

// showInputShapes renders the fields for summary (null: the model was
// cleared) into #dynamic-shapes.
export function showInputShapes(summary) {
  const box = document.querySelector("#dynamic-shapes");
  const all = document.querySelector("#input-shapes");
  if (!box || !all) return;
  const inputs = dynamicInputs(summary);
  box.hidden = inputs.length === 0;
  if (!inputs.length) {
    box.replaceChildren();
    return;
  }
  const given = entries(all.value);
  const rows = [];
  inputs.forEach((io, i) => {
    const sig = io.shape_signature.map((d) => (d < 0 ? "?" : d)).join(", ");
    const id = `dynamic-shape-${i}`;
    const known = given.get(io.name);
    const field = el("input", {
      type: "text", id, class: "dynamic-shape", "data-input": io.name,
      placeholder: `not set — e.g. ${io.shape_signature.map((d) => (d < 0 ? 224 : d)).join(",")}`,
      title: `The dimensions to use for ${io.name}'s dynamic ones (shape [${sig}]), comma-separated; CLI: --input-shape ${io.name}=D,D,...`,
    });
    if (known && known.includes("=")) field.value = known.slice(known.indexOf("=") + 1);
    field.addEventListener("input", () => {
      const m = entries(all.value);
      const v = field.value.trim().replace(/\s+/g, "");
      if (v) m.set(io.name, `${io.name}=${v}`);
      else m.delete(io.name);
      all.value = [...m.values()].join(" ");
    });
    rows.push(el("label", { for: id, title: field.title }, `Shape of ${io.name} [${sig}]`), field);
  });
  box.replaceChildren(
    el("p", { class: "muted" }, inputs.length === 1 ? "This model's input has dynamic dimensions: give the shape to calibrate and check with (the samples' own shape is used when they all agree)." :
      "These inputs have dynamic dimensions: give the shapes to calibrate and check with (the samples' own shapes are used when they all agree)."),
    el("div", { class: "grid" }, rows));
}
