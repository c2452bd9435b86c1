// The page's handle on the converter worker (worker.js): promise-based
// requests, progress callbacks, cancellation, and restarting the worker
// when it stops.

// After a cancel, how long the worker gets to stop the conversion itself
// (it yields between calibration samples) before it is terminated and a
// fresh one started (a step with no yield point, e.g. reading a huge model).
const CANCEL_GRACE_MS = 3000;

// compiledConverter compiles litequant.wasm (beside worker URL url) once;
// the promise resolves to the WebAssembly.Module, or null when this browser
// cannot compile it here (each worker then loads its own and reports why).
const compiled = new Map();
export function compiledConverter(url = "worker.js") {
  const wasm = new URL("litequant.wasm", new URL(url, self.location.href)).href;
  if (!compiled.has(wasm)) {
    compiled.set(wasm, (async () => {
      const resp = await fetch(wasm);
      if (!resp.ok) return null;
      if (WebAssembly.compileStreaming && resp.headers.get("Content-Type") === "application/wasm") return WebAssembly.compileStreaming(resp);
      return WebAssembly.compile(await resp.arrayBuffer());
    })().catch(() => null));
  }
  return compiled.get(wasm);
}

export class Converter {
  constructor(url = "worker.js") {
    this.url = url;
    this.module = compiledConverter(url);
    this.onready = null;   // ({version, build, loadMs}) on each (re)start
    this.onrestart = null; // (reason) when the worker had to be replaced
    this.start();
  }

  start() {
    this.pending = new Map(); // id → {resolve, reject, onProgress}
    this.nextId = 1;
    this.worker = new Worker(this.url);
    this.ready = new Promise((resolve, reject) => { this.readyResolve = resolve; this.readyReject = reject; });
    this.ready.catch(() => {});
    const worker = this.worker;
    this.module.then((module) => worker.postMessage({ op: "module", module }));
    this.worker.onmessage = (e) => this.receive(e.data);
    this.worker.onerror = (e) => {
      e.preventDefault();
      this.fail(`the converter failed to start: ${e.message || "worker error"}`);
    };
  }

  receive(msg) {
    if (msg.type === "ready") {
      this.readyResolve(msg);
      if (this.onready) this.onready(msg);
      return;
    }
    if (msg.type === "exited") {
      this.fail(msg.error || "the converter stopped (out of memory?)");
      return;
    }
    const p = this.pending.get(msg.id);
    if (!p) return;
    if (msg.progress) {
      if (p.onProgress) p.onProgress(msg.progress);
      return;
    }
    this.pending.delete(msg.id);
    clearTimeout(p.timer);
    if (msg.ok) p.resolve(msg.value);
    else p.reject(new Error(msg.error));
  }

  // fail rejects every pending request and replaces the worker.
  fail(reason) {
    this.readyReject(new Error(reason));
    this.restart(reason);
  }

  restart(reason) {
    const pending = this.pending;
    this.worker.terminate();
    this.start();
    for (const p of pending.values()) {
      clearTimeout(p.timer);
      p.reject(new Error(reason));
    }
    if (this.onrestart) this.onrestart(reason);
  }

  request(msg, onProgress) {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject, onProgress, op: msg.op });
      this.worker.postMessage({ ...msg, id });
    });
  }

  inspect(file) { return this.request({ op: "inspect", file }); }

  // quantize(model File, sample Files, options object, onProgress, name)
  quantize(model, files, options, onProgress, name) {
    return this.request({ op: "quantize", model, files, options: JSON.stringify(options), name }, onProgress);
  }

  // advise(model File, options object): what each mode would do.
  advise(model, options) { return this.request({ op: "advise", model, options: JSON.stringify(options) }); }

  metadata(file) { return this.request({ op: "metadata", file }); }

  // preview(float File, quantized Blob, sample Files, options object)
  preview(model, quantized, files, options) {
    return this.request({ op: "preview", model, quantized, files, options: JSON.stringify(options) });
  }

  recent() { return this.request({ op: "recent" }); }
  load(key) { return this.request({ op: "load", key }); }
  remove(key) { return this.request({ op: "remove", key }); }

  // cancel asks the worker to stop its conversions; if they have not
  // ended after CANCEL_GRACE_MS, the worker is replaced.
  cancel() {
    this.worker.postMessage({ op: "cancel" });
    const running = [...this.pending.values()].filter((p) => p.op === "quantize" || p.op === "shard");
    for (const p of running) {
      // Once per request: a second cancel must not leave the first timer
      // running past the request's end (it would restart the worker
      // under the next conversion).
      if (!p.timer) p.timer = setTimeout(() => this.restart("cancelled"), CANCEL_GRACE_MS);
    }
  }
}
