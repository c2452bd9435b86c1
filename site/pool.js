// The page's converters: a pool of Web Workers (worker.js), one wasm
// instance each, with the interface of one Converter (client.js). Requests
// go to the first worker; a conversion that calibrates is sharded: every
// worker calibrates its blocks of samples (litequant.calibrateShard), then
// the first worker merges the statistics exactly and converts
// (litequant.quantize with the shards), so the model is the one a single
// worker writes. Progress counts samples over all workers; cancel stops
// all of them; the first failing shard fails the run, once.
import { Converter } from "./client.js";

// MAX_THREADS bounds the pool (and so its memory: a wasm instance each).
export const MAX_THREADS = 8;

// defaultThreads is one worker per core, at most MAX_THREADS.
export function defaultThreads() {
  const n = (typeof navigator !== "undefined" && navigator.hardwareConcurrency) || 1;
  return Math.max(1, Math.min(MAX_THREADS, n));
}

// withoutThreads drops the page-only threads option before options reach
// the converter.
function withoutThreads(options) {
  const { threads, ...opts } = options || {};
  return opts;
}

export class Pool {
  constructor(url = "worker.js") {
    this.url = url;
    this.main = new Converter(url);
    this.helpers = []; // further Converters, started on the first sharded run
  }

  get ready() { return this.main.ready; }
  set onready(f) { this.main.onready = f; }
  get onready() { return this.main.onready; }
  set onrestart(f) { this.main.onrestart = f; }
  get onrestart() { return this.main.onrestart; }

  inspect(file) { return this.main.inspect(file); }
  recent() { return this.main.recent(); }
  load(key) { return this.main.load(key); }
  remove(key) { return this.main.remove(key); }
  metadata(file) { return this.main.metadata(file); }
  // advise and preview run in the main worker; threads is the page's own.
  advise(model, options) { return this.main.advise(model, withoutThreads(options)); }
  preview(model, quantized, files, options) { return this.main.preview(model, quantized, files, withoutThreads(options)); }

  // workers returns n converters: the main one and n-1 helpers.
  workers(n) {
    while (this.helpers.length < n - 1) this.helpers.push(new Converter(this.url));
    return [this.main, ...this.helpers.slice(0, n - 1)];
  }

  // quantize(model File, sample Files, options object, onProgress, name):
  // options.threads (page only) caps the workers used.
  async quantize(model, files, options, onProgress, name) {
    const { threads, ...opts } = options || {};
    const n = Math.max(1, Math.min(MAX_THREADS, threads > 0 ? Math.floor(threads) : defaultThreads()));
    const json = JSON.stringify(opts);
    const progress = onProgress || (() => {});
    if (n > 1 && files && files.length > 0) {
      progress({ phase: "reading", done: 0, total: 1 });
      this.workers(n); // the helpers start (load their wasm) while the main worker checks
      const shard = await this.main.request({ op: "wantsShards", model, files, options: json });
      if (shard) {
        const parts = await this.shards(n, model, files, json, progress);
        const t0 = performance.now();
        const value = await this.main.request({ op: "quantize", model, files, options: json, name, shards: parts }, progress);
        performance.measure("litequant-merge", { start: t0, detail: { bytes: parts.reduce((x, p) => x + p.byteLength, 0) } });
        return value;
      }
    }
    return this.main.quantize(model, files, opts, onProgress, name);
  }

  // shards runs shard k of n on worker k and returns their statistics
  // (Uint8Arrays, litequant.calibrateShard's) in shard order.
  async shards(n, model, files, json, progress) {
    const ws = this.workers(n);
    await Promise.all(ws.map((w) => w.ready));
    performance.mark("litequant-shards", { detail: { workers: n } }); // for tests and profiles
    const done = new Array(n).fill(0);
    const total = new Array(n).fill(-1); // -1: not known yet
    const report = () => {
      const sum = (a) => a.reduce((x, y) => x + y, 0);
      if (total.every((t) => t >= 0)) progress({ phase: "calibrating", done: sum(done), total: sum(total) });
      else progress({ phase: "calibrating", done: 0, total: 0 });
    };
    // The first failure (or cancel) fails the run: the other shards are
    // cancelled, and the run ends when all have stopped, so that a late
    // cancel never reaches the next run.
    let failure = null;
    const t0 = performance.now();
    const settled = await Promise.allSettled(ws.map((w, k) => w.request({ op: "shard", model, files, options: json, shard: k, shards: n }, (p) => {
      if (p.phase !== "calibrating") return;
      done[k] = p.done;
      total[k] = p.total;
      report();
    }).then((v) => {
      // For profiles (scripts/bench_page): each shard's wall time, and its
      // calibration's own (bytes 4 to 12 of the statistics).
      const ns = v.byteLength >= 12 ? Number(new DataView(v.buffer, v.byteOffset, 12).getBigInt64(4, true)) : NaN;
      performance.measure("litequant-shard", { start: t0, detail: { shard: k, calibMs: ns / 1e6, bytes: v.byteLength } });
      return v;
    }).catch((err) => {
      if (!failure) {
        failure = err;
        for (const o of ws) if (o !== w) o.cancel();
      }
      throw err;
    })));
    if (failure) throw failure;
    return settled.map((r) => r.value);
  }

  // cancel stops the conversions of every worker.
  cancel() {
    this.main.cancel();
    for (const w of this.helpers) w.cancel();
  }
}
