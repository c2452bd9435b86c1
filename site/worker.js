// The converter's Web Worker: loads litequant.wasm (wasm/) and runs the
// page's requests on it, so the page never freezes. Messages in:
//   {id, op: "inspect", file}                     → value: model summary
//   {id, op: "quantize", model, files, options, name} → progress messages, then value: result
//   {id, op: "advise", model, options}             → value: what each mode would do
//     (with shards: [statistics], the shards' calibration, merged)
//   {id, op: "wantsShards", model, files, options} → value: whether quantize would calibrate
//   {id, op: "shard", model, files, options, shard, shards} → progress, then value: statistics (Uint8Array)
//   {id, op: "metadata", file}                      → value: the model's TFLite metadata or null
//   {id, op: "preview", model, quantized, files, options} → value: float vs quantized top-5, or null
//   {id, op: "recent"} | {id, op: "load", key} | {id, op: "remove", key}
//   {op: "cancel"}                                 → cancels running and queued conversions
// (model and files are File objects; options is a JSON string.)
// Messages out: {type: "ready", version, build, modes, loadMs} once, {type: "exited"}
// if the Go program stops, {id, progress}, and {id, ok, value | error}.
"use strict";

// The converter's build id, stamped by scripts/serve at build time; it is
// part of every cache key, so a new build never serves an old result.
const BUILD = "__LITEQUANT_BUILD__";

importScripts("wasm_exec.js");

// The page sends {op: "module", module} first: litequant.wasm compiled
// once for all its workers (client.js), so that a second worker neither
// compiles it again nor optimizes its hot functions again while the first
// one calibrates. With module null (the page could not compile it), the
// worker fetches and compiles its own.
let gotModule;
const moduleMsg = new Promise((resolve) => { gotModule = resolve; });

const ready = (async () => {
  const t0 = performance.now();
  const go = new Go();
  go.env = { LITEQUANT_BUILD: BUILD };
  const shared = await moduleMsg;
  let instance;
  if (shared) {
    instance = await WebAssembly.instantiate(shared, go.importObject);
  } else {
    const resp = await fetch("litequant.wasm");
    if (!resp.ok) throw new Error(`litequant.wasm: HTTP ${resp.status}`);
    if (WebAssembly.instantiateStreaming && resp.headers.get("Content-Type") === "application/wasm") {
      instance = (await WebAssembly.instantiateStreaming(resp, go.importObject)).instance;
    } else {
      instance = (await WebAssembly.instantiate(await resp.arrayBuffer(), go.importObject)).instance;
    }
  }
  // go.run returns when the Go program exits, which it only does on a
  // fatal error (out of memory): the page then starts a new worker.
  go.run(instance).then(
    () => postMessage({ type: "exited" }),
    (err) => postMessage({ type: "exited", error: String(err) }));
  const api = self.litequant;
  if (!api) throw new Error("the converter did not start");
  const loadMs = performance.now() - t0;
  postMessage({ type: "ready", version: api.version, build: api.build, modes: api.modes, loadMs });
  return api;
})();
ready.catch((err) => postMessage({ type: "exited", error: `could not load the converter: ${err.message || err}` }));

async function bytes(file) {
  return new Uint8Array(await file.arrayBuffer());
}

async function sampleFiles(list) {
  const files = [];
  for (const f of list || []) files.push({ name: f.name, bytes: await bytes(f) });
  return files;
}

async function run(msg) {
  const api = await ready;
  switch (msg.op) {
    case "inspect":
      return { value: await api.inspect(await bytes(msg.file)) };
    case "quantize": {
      const files = [];
      for (const f of msg.files || []) files.push({ name: f.name, bytes: await bytes(f) });
      const onProgress = (p) => postMessage({ id: msg.id, progress: p });
      const value = await api.quantize(await bytes(msg.model), files, msg.options, onProgress, msg.name, msg.shards);
      return { value, transfer: [value.model.buffer] };
    }
    case "preview": {
      const files = [];
      for (const f of msg.files || []) files.push({ name: f.name, bytes: await bytes(f) });
      return { value: await api.preview(await bytes(msg.model), await bytes(msg.quantized), files, msg.options) };
    }
    case "metadata":
      return { value: await api.metadata(await bytes(msg.file)) };
    case "advise":
      return { value: await api.advise(await bytes(msg.model), msg.options) };
    case "wantsShards":
      return { value: await api.wantsShards(await bytes(msg.model), await sampleFiles(msg.files), msg.options) };
    case "shard": {
      const onProgress = (p) => postMessage({ id: msg.id, progress: p });
      const value = await api.calibrateShard(await bytes(msg.model), await sampleFiles(msg.files), msg.options, msg.shard, msg.shards, onProgress);
      return { value, transfer: [value.buffer] };
    }
    case "recent":
      return { value: await api.recent() };
    case "load": {
      const value = await api.load(msg.key);
      return { value, transfer: [value.model.buffer] };
    }
    case "remove":
      await api.remove(msg.key);
      return { value: null };
    default:
      throw new Error(`unknown request ${msg.op}`);
  }
}

self.onmessage = async (event) => {
  const msg = event.data;
  if (msg.op === "module") {
    gotModule(msg.module instanceof WebAssembly.Module ? msg.module : null);
    return;
  }
  if (msg.op === "cancel") {
    // Delivered while a conversion runs because the converter yields to
    // the event loop between calibration samples.
    if (self.litequant) self.litequant.cancel();
    return;
  }
  try {
    const { value, transfer } = await run(msg);
    postMessage({ id: msg.id, ok: true, value }, transfer || []);
  } catch (err) {
    postMessage({ id: msg.id, ok: false, error: (err && err.message) || String(err) });
  }
};
