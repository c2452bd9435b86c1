// The page: renders state and forwards events to the converter worker
// (client.js → worker.js → litequant.wasm). No conversion work happens here.

import { Pool } from "./pool.js";
import { percentileApplies, updateCalibration } from "./methods.js";
import { el, fmtBytes, fmtMs, summaryView, reportView, recentRows, verificationView } from "./render.js";
import { sniff, plainLoadError, alreadyQuantized, SAMPLE_EXT } from "./sniff.js";
import { installDrop } from "./drop.js";
import { adviceView } from "./advice.js";
import { commandLine, recipeJSON, applyRecipe } from "./recipe.js";
import { fallbackOptions, showFallback, resetFallback, fallbackProgress } from "./fallback.js";
import { metadataView, setNormPlaceholders } from "./metadata.js";
import { previewView } from "./preview.js";
import { showInputShapes } from "./inputshapes.js";

const $ = (sel) => document.querySelector(sel);
// The modes that take calibration samples, from the converter's list.
const CALIBRATED = new Set();

const state = {
  model: null,    // File
  samples: [],    // Files, sorted by path
  summary: null,  // inspect() of the model
  loadError: "",  // why the model cannot be quantized (plain words), "" when it can
  busy: false,
  modeChosen: false, // the user picked a mode: no more preselecting
  advice: null,      // advise() of the model: what each mode would do
};

// preselectMode picks int8 when there are samples, dynamic otherwise,
// until the user chooses a mode.
function preselectMode() {
  if (state.modeChosen) return;
  const int8ok = CALIBRATED.has("int8") && !(state.advice || []).some((a) => a.mode === "int8" && a.error);
  const want = state.samples.length && int8ok ? "int8" : "dynamic";
  if ($("#mode").value !== want && [...$("#mode").options].some((o) => o.value === want)) {
    $("#mode").value = want;
    updateMode();
  }
}

const conv = new Pool("worker.js"); // a pool of converter workers (pool.js)
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

// quantizeBlocker is why Quantize cannot run now ("" when it can).
function quantizeBlocker() {
  if (document.body.dataset.ready !== "true") return "Waiting for the converter to load.";
  if (!state.model) return "Choose or drop a .tflite model first.";
  if (state.loadError) return "Quantize is off: the model did not load (the reason is above). Choose or drop a float .tflite model.";
  if (!state.summary) return `Reading ${state.model.name}…`;
  if (state.busy) return "";
  return "";
}

function updateButtons() {
  const why = quantizeBlocker();
  $("#quantize").disabled = state.busy || why !== "";
  $("#quantize-reason").textContent = why;
  $("#quantize").title = why;
  $("#copy-command").disabled = !state.summary;
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

// showLoadError shows the plain-words reason a model cannot be used, the
// converter's exact words one click away.
function showLoadError(file, plain, detail) {
  state.loadError = plain;
  const box = $("#load-error");
  box.replaceChildren(el("p", {}, plain),
    detail ? el("details", {}, el("summary", {}, "Details"), el("pre", {}, `${file.name} (${fmtBytes(file.size)}): ${detail}`)) : null);
  box.hidden = false;
  setStatus(`Error: ${file.name}: ${plain.split(/(?<=\.) /)[0]}`, "error");
  updateButtons();
}

async function setModel(file) {
  state.model = file;
  state.summary = null;
  state.loadError = "";
  clearResult();
  resetFallback();
  $("#summary").replaceChildren();
  $("#load-error").hidden = true;
  $("#model-name").textContent = file ? `${file.name} (${fmtBytes(file.size)})` : "";
  showInputShapes(null);
  if (hooks.onModel) hooks.onModel(null);
  updateButtons();
  if (!file) return;
  setStatus(`Reading ${file.name}…`);
  const kind = await sniff(file);
  try {
    state.summary = await conv.inspect(file);
    if (state.model !== file) return;
    $("#summary").replaceChildren(summaryView(state.summary, file.name));
    const quantized = alreadyQuantized(state.summary);
    if (quantized) {
      showLoadError(file, quantized, `constant data by type: ${JSON.stringify(state.summary.constant_bytes_by_type)}`);
      return;
    }
    preselectMode();
    setStatus(`Loaded ${file.name}: choose the options and press Quantize.`);
    updateButtons();
    showMetadata(file);
    showAdvice(file);
    showInputShapes(state.summary);
    if (hooks.onModel) hooks.onModel(state.summary);
  } catch (err) {
    if (state.model !== file) return;
    state.summary = null;
    showLoadError(file, plainLoadError(file, kind, err.message), err.message);
  }
}

// showMetadata shows what the model's TFLite metadata says.
async function showMetadata(file) {
  state.metadata = null;
  setNormPlaceholders(null, $("#image-mean"), $("#image-std"));
  try {
    const info = await conv.metadata(file);
    if (state.model !== file || !info) return;
    state.metadata = info;
    $("#summary").append(metadataView(info));
    setNormPlaceholders(info, $("#image-mean"), $("#image-std"));
  } catch (err) {
    if (state.model === file) $("#summary").append(el("p", { class: "notice" }, `The model's metadata could not be read: ${err.message}`));
  }
}

// showAdvice asks the converter what each mode would do to the model and
// lists it above the options.
async function showAdvice(file) {
  const list = $("#advice");
  list.hidden = true;
  state.advice = null;
  try {
    const o = options();
    for (const k of ["mode", "verify_split", "verify_random"]) delete o[k];
    const advice = await conv.advise(file, o);
    if (state.model !== file) return;
    state.advice = advice;
    renderAdvice();
    preselectMode();
  } catch (err) {
    list.replaceChildren(el("li", { class: "why" }, `No advice: ${err.message}`));
    list.hidden = false;
  }
}

function renderAdvice() {
  if (!state.advice) return;
  const list = $("#advice");
  list.replaceChildren(...adviceView(state.advice, state.samples.length, $("#mode").value, (mode) => {
    $("#mode").value = mode;
    $("#mode").dispatchEvent(new Event("change"));
  }));
  list.hidden = false;
}

// Hooks for the page's other parts (advice, metadata): called when a model
// loaded (its summary) or was cleared (null).
const hooks = { onModel: null };
export { state, hooks, conv };

// takeFiles routes dropped or pasted files: a .tflite (by name or by its
// bytes) is the model, sample files are the samples, a SavedModel folder
// is named as such; anything else given alone is tried as the model, so it
// gets its plain-words message.
async function takeFiles(list) {
  const models = [], samples = [], other = [];
  for (const it of list) {
    const f = it.file;
    Object.defineProperty(f, "relPath", { value: it.path, configurable: true });
    if (/^saved_model\.pbt?x?t?$/i.test(f.name) && it.folder) {
      other.push({ file: f, savedModel: it.folder });
    } else if (/\.tflite$/i.test(f.name) || (!SAMPLE_EXT.test(f.name) && (await sniff(f)).kind === "tflite")) {
      models.push(f);
    } else if (SAMPLE_EXT.test(f.name)) {
      samples.push(f);
    } else {
      other.push({ file: f });
    }
  }
  const saved = other.find((o) => o.savedModel);
  if (saved && !models.length) {
    const fake = new File([], saved.savedModel);
    state.model = fake;
    state.summary = null;
    clearResult();
    $("#summary").replaceChildren();
    $("#model-name").textContent = `${saved.savedModel}/ (a folder)`;
    showLoadError(fake, "This folder is a TensorFlow SavedModel, not a TensorFlow Lite model. Convert it first: " +
      `tf.lite.TFLiteConverter.from_saved_model("${saved.savedModel}").convert(), and save the bytes as model.tflite.`,
      `the folder holds ${saved.file.relPath}; litequant reads .tflite files only`);
    return;
  }
  if (samples.length) setSamples(samples);
  if (models.length) await setModel(models[0]);
  else if (!samples.length && other.length) await setModel(other[0].file);
  if (models.length > 1) showNotice(`${models.length} models were dropped; using ${models[0].name}.`);
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
  if (state.summary) preselectMode();
  renderAdvice();
  if (state.summary && !state.loadError && !state.busy) setStatus(`${state.samples.length} sample file(s) chosen: press Quantize.`);
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
  return f.relPath || f.webkitRelativePath || f.name;
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
    if (name === "percentile" && !percentileApplies()) continue;
    switch (c.dataset.type) {
      case "bool":
        if (c.checked) o[name] = true;
        break;
      case "list": {
        const items = c.value.split(/[;\s]+/).filter(Boolean);
        if (items.length) o[name] = items;
        break;
      }
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
  return fallbackOptions(o);
}

function updateMode() {
  const calibrated = CALIBRATED.has($("#mode").value);
  renderAdvice();
  $("#calib-note").textContent = calibrated ? "" :
    `Greyed options act on calibration only: they apply in ${[...CALIBRATED].join(", ") || "the calibrated modes"}, not in ${$("#mode").value} mode.`;
  updateVerify(false);
  for (const e of document.querySelectorAll(".calib")) {
    e.classList.toggle("disabled-group", !calibrated);
    for (const c of e.matches("input, select") ? [e] : e.querySelectorAll("input, select")) c.disabled = !calibrated;
  }
  updateCalibration();
}

// ---- conversion ----

const PHASES = { reading: "Reading", calibrating: "Calibrating", quantizing: "Quantizing", writing: "Writing", verifying: "Checking" };

function onProgress(p) {
  const bar = $("#progress");
  if (p.phase === "fallback") return fallbackProgress(p, bar, setStatus);
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
  if (state.loadError) return state.loadError;
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
    const previewing = showPreview(res.model, opts, calibrated || checkOn ? state.samples : []);
    let msg;
    if (res.cached === "result") {
      msg = `Done: served from the cache in ${fmtMs(ms)} (this model, these samples and options were converted before).`;
    } else if (res.cached === "calibration") {
      msg = `Done in ${fmtMs(ms)} (calibration statistics reused from the cache).`;
    } else {
      msg = `Done in ${fmtMs(ms)}.`;
    }
    await previewing;
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
  window.__lastReport = res.report; // for automation and the console
  $("#report").replaceChildren(...reportView({ report: res.report, before: state.summary, after, stats }));
  $("#verification").replaceChildren(...verificationView(res.report.verification));
  $("#verification").hidden = !res.report.verification;
  showFallback(res.report, quantize);
}

// showPreview shows a labelled classifier's top-5 or segmenter's masks,
// float against quantized, on a held-back sample.
async function showPreview(quantized, opts, samples) {
  const model = state.model;
  if (!state.metadata || !(state.metadata.labels || []).length || !samples.length) return;
  try {
    const p = await conv.preview(model, new Blob([quantized]), samples, opts);
    if (p && state.model === model) $("#report").prepend(previewView(p, samples));
  } catch (err) {
    $("#report").prepend(el("p", { class: "notice" }, `No preview: ${err.message}`));
  }
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

// ---- recipes: the command line, save and load ----

function currentCommand() {
  const opts = options();
  const calibrated = CALIBRATED.has(opts.mode);
  const checkOn = !calibrated && $("#verify").checked && state.samples.length;
  const samples = calibrated || checkOn ? state.samples : [];
  const name = state.model ? state.model.name : "model.tflite";
  return commandLine(opts, name, samples, outputName(name, opts.mode), checkOn ? "samples" : "");
}

async function copyCommand() {
  const cmd = currentCommand();
  const pre = $("#command");
  pre.textContent = cmd;
  pre.hidden = false;
  try {
    await navigator.clipboard.writeText(cmd);
    setStatus(`${$("#status").textContent.replace(/ \(command line copied\)$/, "")} (command line copied)`, $("#status").dataset.kind);
  } catch { /* the command is shown to copy by hand */ }
}

function saveRecipe() {
  const opts = options();
  for (const k of ["verify_split", "verify_random"]) delete opts[k];
  const a = el("a", { href: URL.createObjectURL(new Blob([recipeJSON(opts)], { type: "application/json" })), download: "recipe.json" });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(a.href), 10000);
}

async function loadRecipe(file) {
  if (!file) return;
  try {
    const r = JSON.parse(await file.text());
    if (typeof r !== "object" || r === null || Array.isArray(r)) throw new Error("want a JSON object of options");
    const unknown = applyRecipe(r);
    state.modeChosen = true;
    updateMode();
    clearResult();
    setStatus(`Recipe ${file.name} loaded${unknown.length ? ` (not on this page: ${unknown.join(", ")})` : ""}.`);
  } catch (err) {
    setStatus(`Error: recipe ${file.name}: ${err.message}`, "error");
  }
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
$("#mode").addEventListener("change", (e) => {
  if (e.isTrusted || !e.detail?.auto) state.modeChosen = true;
  updateMode();
  clearResult();
  if (state.summary && !state.loadError && !state.busy) setStatus(`Mode ${$("#mode").value}: press Quantize.`);
});
$("#calibration").addEventListener("change", () => { updateCalibration(); clearResult(); });
$("#quantize").addEventListener("click", quantize);
$("#cancel").addEventListener("click", cancel);
$("#example").addEventListener("click", loadExample);
installDrop($("#drop-overlay"), takeFiles);
$("#copy-command").addEventListener("click", copyCommand);
$("#save-recipe").addEventListener("click", saveRecipe);
$("#load-recipe").addEventListener("change", (e) => { loadRecipe(e.target.files[0]); e.target.value = ""; });
updateMode();
updateButtons();
conv.ready.then(refreshRecent, (err) => setStatus(`Error: ${err.message}`, "error"));

if ("serviceWorker" in navigator && location.protocol !== "file:") {
  navigator.serviceWorker.register("sw.js").catch(() => { /* offline use only; the page works without */ });
}
