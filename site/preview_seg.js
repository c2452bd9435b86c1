// The segmenter preview: the float and the quantized model's masks (each
// pixel's top class) on one held-back sample, side by side over the
// sample at half opacity, with the legend of the classes present and the
// share of pixels where the two agree. The masks are PNGs made in the
// worker (convert.SegmenterPreview); the page's CSP allows blob: images,
// so the data URL becomes a Blob.

import { el } from "./render.js";

function blobURL(dataURL) {
  const b64 = dataURL.slice(dataURL.indexOf(",") + 1);
  const bin = atob(b64);
  const bytes = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
  return URL.createObjectURL(new Blob([bytes], { type: "image/png" }));
}

function maskColumn(title, which, png, seg, input) {
  const stack = el("div", { class: "seg-stack" },
    input ? el("img", { class: "seg-input", src: input, alt: "" }) : null,
    el("img", { class: input ? "seg-mask seg-over" : "seg-mask", src: blobURL(png), alt: `${title} mask`, "data-mask": which }));
  stack.style.aspectRatio = `${seg.width} / ${seg.height}`; // CSSOM: the CSP has no inline styles
  return el("div", { class: "preview-col" }, el("h4", {}, title), stack);
}

// segmenterView renders a segmenter preview ({source, held_back, labels,
// segmentation}); samples are the page's sample Files (the one previewed
// is shown under the masks).
export function segmenterView(p, samples = []) {
  const s = p.segmentation;
  const name = p.source.split("/").pop();
  const file = samples.find((f) => f.name === p.source) || samples.find((f) => f.name.split("/").pop() === name);
  const input = file ? URL.createObjectURL(file) : null;
  const n = s.width * s.height;
  const same = Math.round(s.agreement * n);
  const pct = `${(100 * s.agreement).toFixed(1)}%`;
  return el("div", { id: "preview", class: "preview", "data-kind": "segmenter" },
    el("h3", {}, "Preview"),
    el("p", { class: "muted" }, `Masks on ${name}${p.held_back ? ", a sample held back from calibration" : ""}: each of the ${s.width}×${s.height} output pixels in its top class — labels from ${p.labels} in the model's metadata${input ? ", over the sample at half opacity" : ""}.`),
    el("div", { class: "preview-cols" },
      maskColumn("Float model", "float", s.float_png, s, input),
      maskColumn("Quantized model", "quantized", s.quantized_png, s, input)),
    el("ul", { class: "seg-legend" }, s.legend.map((c) => {
      const sw = el("span", { class: "swatch" });
      sw.style.background = c.color;
      return el("li", { "data-index": c.index }, sw, el("span", { class: "label" }, c.label),
        el("span", { class: "muted" }, ` ${c.float_pixels} / ${c.quantized_pixels} px`));
    })),
    el("p", { class: same === n ? "agree-line" : "notice", id: "seg-agreement" }, `Pixels agreeing: ${pct} (${same} of ${n}; legend counts are float / quantized).`));
}
