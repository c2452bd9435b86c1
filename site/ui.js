// The page: renders state and forwards events to the converter worker
// (client.js → worker.js → litequant.wasm). No conversion work happens here.

import { Converter } from "./client.js";
import { el, fmtBytes, fmtMs, summaryView, reportView, recentRows, verificationView } from "./render.js";

const $ = (sel) => document.querySelector(sel);
// The modes that take calibration samples, from the converter's list.
const CALIBRATED = new Set();
const SAMPLE_EXT = /\.(npy|npz|png|jpe?g|gif|bmp|wav)$/i;

const state = {
  model: null,    // File
  samples: [],    // Files, sorted by path
  summary: null,  // inspect() of the model
  busy: false,
};

const conv = new Converter("worker.js");
// setModes fills the mode menu from the converter's list ({name, summary,
// calibrates} each), keeping the current choice.
function setModes(modes) {
  const sel = $("#mode");
  const current = sel.value;
  sel.replaceChildren(...modes.map((m) => el("option", { value: m.name }, `${m.name} — ${m.summary}`)));
  CALIBRATED.clear();
  for (const m of modes) if (m.calibrates) CALIBRATED.add(m.name);
  if (modes.some((m) => m.name === current)) sel.value = current;
  updateMode();
}

conv.onready = (info) => {
  setModes(info.modes || []);
  $("#engine").textContent = `Converter ready (litequant ${info.version}, loaded in ${fmtMs(info.loadMs)}).`;
  // For automation: when the converter became ready (ms since navigation)
  // and how many workers have started.
  document.body.dataset.readyMs = String(Math.round(performance.now()));
  document.body.dataset.workerStarts = String(Number(document.body.dataset.workerStarts || 0) + 1);
  document.body.dataset.ready = "true";
  updateButtons();
};
conv.onrestart = (reason) => {
  document.body.dataset.ready = "false";
  updateButtons();
  if (reason !== "cancelled") showNotice(`The converter stopped (${reason}) and was restarted.`);
};

// ---- status, notices ----

function setStatus(text, kind = "") {
  const s = $("#status");
  s.textContent = text;
  s.className = kind;
  s.dataset.kind = kind;
}

function showNotice(text) {
  const n = $("#notice");
  n.textContent = text;
  n.hidden = false;
}

function updateButtons() {
  $("#quantize").disabled = state.busy || !state.model || document.body.dataset.ready !== "true";
  $("#cancel").disabled = !state.busy;
  $("#example").disabled = state.busy;
}

function setLink(a, blob, name) {
  if (a.href && a.href.startsWith("blob:")) URL.revokeObjectURL(a.href);
  if (!blob) {
    a.removeAttribute("href");
    a.removeAttribute("download");
    a.setAttribute("aria-disabled", "true");
    return;
  }
  a.href = URL.createObjectURL(blob);
  a.download = name;
  a.setAttribute("aria-disabled", "false");
}

function clearResult() {
  setLink($("#download"), null);
  setLink($("#report-download"), null);
  $("#report").replaceChildren();
  $("#verification").replaceChildren();
  $("#verification").hidden = true;
  $("#progress").value = 0;
}

// ---- inputs ----

async function setModel(file) {
  state.model = file;
  state.summary = null;
  clearResult();
  $("#summary").replaceChildren();
  $("#model-name").textContent = file ? `${file.name} (${fmtBytes(file.size)})` : "";
  updateButtons();
  if (!file) return;
  setStatus(`Reading ${file.name}…`);
  try {
    state.summary = await conv.inspect(file);
    if (state.model !== file) return;
    $("#summary").replaceChildren(summaryView(state.summary, file.name));
    setStatus("Ready: choose the options and press Quantize.");
  } catch (err) {
    if (state.model !== file) return;
    setStatus(`Error: ${file.name}: ${err.message}`, "error");
  }
}

function setSamples(files) {
  state.samples = [...files].filter((f) => SAMPLE_EXT.test(f.name))
    .sort((a, b) => samplePath(a).localeCompare(samplePath(b)));
  const info = $("#samples-info");
  if (!state.samples.length) {
    info.textContent = "No samples chosen. Needed for int8, int16x8 and uint8.";
  } else {
    const total = state.samples.reduce((n, f) => n + f.size, 0);
    info.textContent = `${state.samples.length} sample file(s), ${fmtBytes(total)}.`;
  }
  updateVerify(true);
  clearResult();
}

// The share of calibration samples held back to check the result.
const VERIFY_SPLIT = 0.125;
// How many random inputs check a model converted without samples.
const VERIFY_RANDOM = 8;

// updateVerify says what "Check the result" will do, and turns it on by
// default once there are enough samples to spare some.
function updateVerify(defaults) {
  const calibrated = CALIBRATED.has($("#mode").value);
  const n = state.samples.length;
  if (defaults) $("#verify").checked = n >= 8;
  let text;
  if (calibrated) {
    const held = Math.floor(n * VERIFY_SPLIT);
    text = n ? `check on ${held || "no"} held-back sample${held === 1 ? "" : "s"} (1 in 8, never calibrated on)` : "check on held-back samples (1 in 8)";
  } else {
    text = n ? `check on the ${n} chosen sample file${n === 1 ? "" : "s"}` : `check on ${VERIFY_RANDOM} random inputs (no samples chosen)`;
  }
  $("#verify-label").textContent = text;
}

function samplePath(f) {
  return f.webkitRelativePath || f.name;
}

// options collects every control marked data-option. Unset controls are
// left out, so the core's defaults apply and an option a core build lacks
// is only an error when it is actually set.
function options() {
  const mode = $("#mode").value;
  const o = {};
  for (const c of document.querySelectorAll("[data-option]")) {
    if (c.closest(".calib") && !CALIBRATED.has(mode)) continue; // calibration options only when calibrating
    const name = c.dataset.option;
    switch (c.dataset.type) {
      case "bool":
        if (c.checked) o[name] = true;
        break;
      case "int":
      case "number":
        if (c.value.trim() !== "") o[name] = Number(c.value);
        break;
      case "list": // space-separated items, for the []string options
        if (c.value.trim() !== "") o[name] = c.value.trim().split(/\s+/);
        break;
      default:
        if (c.value.trim() !== "") o[name] = c.value.trim();
    }
  }
  o.mode = mode;
  if ($("#verify").checked) {
    if (CALIBRATED.has(mode)) o.verify_split = VERIFY_SPLIT;
    else if (!state.samples.length) o.verify_random = VERIFY_RANDOM;
    // In dynamic and float16 mode the chosen samples themselves check it.
  }
  return o;
}

function updateMode() {
  const calibrated = CALIBRATED.has($("#mode").value);
  updateVerify(false);
  for (const e of document.querySelectorAll(".calib")) {
    e.classList.toggle("disabled-group", !calibrated);
    for (const c of e.matches("input, select") ? [e] : e.querySelectorAll("input, select")) c.disabled = !calibrated;
  }
}

// ---- conversion ----

const PHASES = { reading: "Reading", calibrating: "Calibrating", quantizing: "Quantizing", writing: "Writing", verifying: "Checking" };

function onProgress(p) {
  const bar = $("#progress");
  if ((p.phase === "calibrating" || p.phase === "verifying") && p.total > 0) {
    bar.max = p.total;
    bar.value = p.done;
    setStatus(`${PHASES[p.phase]}: sample ${p.done} of ${p.total}…`);
  } else {
    bar.removeAttribute("value"); // indeterminate
    setStatus(`${PHASES[p.phase] || p.phase}…`);
  }
}

function outputName(name, mode) {
  return `${name.replace(/\.tflite$/i, "")}_${mode}.tflite`;
}

// quantize runs a conversion with the current choices and shows it. It
// returns the error message, or "" on success.
async function quantize() {
  if (!state.model || state.busy) return "busy";
  const opts = options();
  const calibrated = CALIBRATED.has(opts.mode);
  if (calibrated && !state.samples.length) {
    const msg = `--mode ${opts.mode} needs calibration samples: choose some files or a folder.`;
    setStatus(`Error: ${msg}`, "error");
    return msg;
  }
  state.busy = true;
  updateButtons();
  clearResult();
  setStatus("Starting…");
  const t0 = performance.now();
  try {
    const checkOn = !calibrated && $("#verify").checked; // dynamic/float16: the samples verify
    const res = await conv.quantize(state.model, calibrated || checkOn ? state.samples : [], opts, onProgress, state.model.name);
    const ms = performance.now() - t0;
    await showResult(res, opts.mode);
    let msg;
    if (res.cached === "result") {
      msg = `Done: served from the cache in ${fmtMs(ms)} (this model, these samples and options were converted before).`;
    } else if (res.cached === "calibration") {
      msg = `Done in ${fmtMs(ms)} (calibration statistics reused from the cache).`;
    } else {
      msg = `Done in ${fmtMs(ms)}.`;
    }
    setStatus(msg, res.cached === "result" ? "cached" : "done");
    if (res.warning) showNotice(res.warning);
    refreshRecent();
    return "";
  } catch (err) {
    if (err.message === "cancelled") setStatus("Cancelled.", "cancelled");
    else setStatus(`Error: ${err.message}`, "error");
    $("#progress").value = 0;
    return err.message;
  } finally {
    state.busy = false;
    updateButtons();
  }
}

async function showResult(res, mode) {
  const name = outputName(res.name || state.model.name, mode);
  setLink($("#download"), new Blob([res.model], { type: "application/octet-stream" }), name);
  setLink($("#report-download"), new Blob([res.reportJSON + "\n"], { type: "application/json" }),
    name.replace(/\.tflite$/, ".report.json"));
  const bar = $("#progress");
  bar.max = 1;
  bar.value = 1;
  let after = null;
  try {
    after = await conv.inspect(new File([res.model], name));
  } catch { /* the report still shows without the breakdown */ }
  const stats = res.statsJSON ? JSON.parse(res.statsJSON) : null;
  $("#report").replaceChildren(...reportView({ report: res.report, before: state.summary, after, stats }));
  $("#verification").replaceChildren(...verificationView(res.report.verification));
  $("#verification").hidden = !res.report.verification;
}

function cancel() {
  if (!state.busy) return;
  setStatus("Cancelling…");
  conv.cancel();
}

// ---- recent conversions ----

async function refreshRecent() {
  try {
    const { entries, warning } = await conv.recent();
    $("#recent tbody").replaceChildren(...recentRows(entries, downloadRecent, deleteRecent));
    if (warning) showNotice(warning);
  } catch (err) {
    $("#recent tbody").replaceChildren(el("tr", {}, el("td", { colspan: 6 }, `Cannot list: ${err.message}`)));
  }
}

async function downloadRecent(e) {
  try {
    const res = await conv.load(e.key);
    const a = el("a", { href: URL.createObjectURL(new Blob([res.model])), download: outputName(e.name || "model.tflite", e.mode) });
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(a.href), 10000);
  } catch (err) {
    setStatus(`Error: ${err.message}`, "error");
    refreshRecent();
  }
}

async function deleteRecent(e) {
  try {
    await conv.remove(e.key);
  } catch (err) {
    setStatus(`Error: ${err.message}`, "error");
  }
  refreshRecent();
}

// ---- the example ----

async function loadExample() {
  setStatus("Loading the example…");
  try {
    const man = await (await fetch("example/manifest.json")).json();
    const get = async (name, type) => new File([await (await fetch(`example/${name}`)).blob()], name, { type });
    const model = await get(man.model, "application/octet-stream");
    const samples = await Promise.all(man.samples.map((s) => get(s, "image/png")));
    await conv.ready; // the mode menu is filled then
    $("#mode").value = man.mode;
    updateMode();
    setSamples(samples);
    $("#samples-info").textContent = `${samples.length} example images (${man.classes.join(", ")} stripes).`;
    await setModel(model);
    $("#model-name").textContent = `example: ${man.model} — ${man.description}`;
    await quantize();
  } catch (err) {
    setStatus(`Error: the example: ${err.message}`, "error");
  }
}

// ---- wiring ----

$("#model").addEventListener("change", (e) => setModel(e.target.files[0] || null));
$("#samples").addEventListener("change", (e) => setSamples(e.target.files));
$("#samples-folder").addEventListener("change", (e) => setSamples(e.target.files));
$("#clear-samples").addEventListener("click", () => {
  $("#samples").value = "";
  $("#samples-folder").value = "";
  setSamples([]);
});
$("#mode").addEventListener("change", () => { updateMode(); clearResult(); });
$("#quantize").addEventListener("click", quantize);
$("#cancel").addEventListener("click", cancel);
$("#example").addEventListener("click", loadExample);
updateMode();
updateButtons();
conv.ready.then(refreshRecent, (err) => setStatus(`Error: ${err.message}`, "error"));

if ("serviceWorker" in navigator && location.protocol !== "file:") {
  navigator.serviceWorker.register("sw.js").catch(() => { /* offline use only; the page works without */ });
}
