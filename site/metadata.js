// The model's TFLite metadata on the page: what it says about the input
// (normalization, image size, colour space) and the labels, and the image
// mean/std placeholders saying the metadata's values apply unless set.

import { el } from "./render.js";

const fmtList = (v) => (v || []).map((x) => String(Math.round(x * 1000) / 1000)).join(", ");

// normalizationOf returns the first input with a mean and std.
export function normalizationOf(info) {
  if (!info) return null;
  return (info.inputs || []).find((i) => (i.mean || []).length && (i.std || []).length) || null;
}

// metadataView is the "From the model's metadata" block.
export function metadataView(info) {
  if (!info) return null;
  const rows = [];
  const n = normalizationOf(info);
  const img = (info.inputs || []).find((i) => i.width || i.color_space);
  if (img) rows.push(["Input image", [img.width && img.height ? `${img.width}×${img.height}` : "", img.color_space || ""].filter(Boolean).join(" ")]);
  if (n) {
    rows.push(["Normalization", el("span", { id: "meta-normalization" }, `mean ${fmtList(n.mean)} · std ${fmtList(n.std)} — `,
      el("span", { class: "muted" }, "image samples are normalized with it unless Image mean/std are set under Advanced"))]);
  }
  if (info.labels && info.labels.length) {
    const shown = info.labels.slice(0, 5).join(", ");
    rows.push(["Labels", `${info.labels_file}: ${info.labels.length} (${shown}${info.labels.length > 5 ? ", …" : ""})`]);
  } else if (info.labels_file) {
    rows.push(["Labels", `${info.labels_file} (named, not packed in the model)`]);
  }
  const other = (info.files || []).filter((f) => f.name !== info.labels_file).map((f) => f.name);
  if (other.length) rows.push(["Associated files", other.join(", ")]);
  if (!rows.length) rows.push(["Metadata", `${info.name || "present"}, nothing litequant uses`]);
  return el("div", { id: "metadata", class: "metadata" },
    el("h3", {}, `From the model's metadata${info.name ? ` (${info.name})` : ""}`),
    el("dl", {}, rows.map(([k, v]) => [el("dt", {}, k), el("dd", {}, v)])));
}

// setNormPlaceholders makes the image mean/std placeholders say what
// applies when they are left unset.
export function setNormPlaceholders(info, mean, std) {
  const n = normalizationOf(info);
  mean.placeholder = n ? `not set: the model's ${fmtList(n.mean)}` : "not set: 127.5";
  std.placeholder = n ? `not set: the model's ${fmtList(n.std)}` : "not set: 127.5";
}
