#!/usr/bin/env node
// tflite_run.js runs a .tflite model in the real TensorFlow Lite runtime: the
// WebAssembly build that ships with @tensorflow/tfjs-tflite (pinned in
// scripts/package.json), loaded directly in Node without TensorFlow.js.
//
// Usage:
//
//   node scripts/tflite_run.js --model M.tflite --out OUTDIR
//       [--threads 1] [--warmup 1] [--repeat 1] [--verbose] IN0.npy [IN1.npy ...]
//
// Inputs. There must be one .npy file per model input, in the model's input
// order. Let S be the input's shape as the runtime reports it and A the .npy
// shape:
//   - A == S, or S[0] == 1 and A == S[1:]: the file is one sample;
//   - S[0] == 1 and A == [N] + S[1:], or A == [N] + S: the file is a batch of
//     N samples stacked on axis 0 (this is how ../shared/data/npy is laid out).
// All batched inputs must agree on N; an unbatched input is fed unchanged to
// every sample of the batch. N must be at least 1.
//
// Data types. When the .npy dtype equals the input's, its bytes are copied as
// they are. Otherwise the values are converted numerically: any bool, integer
// or float array converts to a float32/float64 input (as numpy's astype would,
// float16 included); integer and bool arrays convert to integer and bool inputs
// only when every value is in range (0 or 1 for bool). Floats are never
// rounded into an integer input: quantize them first.
//
// Outputs. OUTDIR receives out0.npy, out1.npy, ... in the model's output order
// with the output's own dtype, and meta.json. Unbatched, an output has exactly
// the shape the runtime reports, O. Batched, the N results are stacked on axis
// 0: the shape is [N] + O[1:] when O[0] == 1 and [N] + O otherwise (a scalar
// output becomes [N]).
//
// meta.json holds the inputs' and outputs' names, dtypes and shapes as the
// runtime reports them, the number of samples, whether the inputs were a
// batch, and ms_per_inference: the mean wall time of one Infer() call over
// --repeat calls, made after --warmup calls (at least one) on the first
// sample; it is null when --repeat is 0. V8 tiers WebAssembly code up while it
// runs, so use several warm-up calls when the timing matters.
//
// Errors (bad arguments, a model that does not load, a shape or dtype
// mismatch, a failed inference) print one line to stderr and exit with status 1.
// The runtime's own log (e.g. "INFO: Created TensorFlow Lite XNNPACK delegate")
// is kept quiet unless --verbose; its ERROR lines are appended to the error.
//
// Quirks of this runtime (0.0.1-alpha.10, tflite_web_api_cc_simd):
//   - tensor dataType strings are 'float32', 'float64', 'int8', 'uint8',
//     'int16', 'int32', 'uint32' and 'bool'; int64, uint64, uint16 and float16
//     tensors are reported as 'unknown' and their data() is not a typed array,
//     so models with such inputs or outputs cannot be run here;
//   - there is no way to resize inputs: models run at the shapes stored in the
//     file, so a model with dynamic shapes may fail (single_slice.tflite does);
//   - a file that is not a model gives "INVALID_ARGUMENT: Can't initialize model";
//   - numThreads is accepted but this build has no threads;
//   - the WebAssembly heap may grow and detach earlier views, so data() is
//     fetched again for every use.
//
// Loaded with require(), this file exports its .npy helpers and run().

'use strict';

const fs = require('node:fs');
const path = require('node:path');
const { parseArgs } = require('node:util');

const PACKAGE = '@tensorflow/tfjs-tflite';
const WASM_NAME = 'tflite_web_api_cc_simd';

// DTYPES maps numpy dtype names (also the runtime's dataType strings) to the
// numpy type code, element size and the typed array holding the values.
const DTYPES = {
  bool: { code: 'b', size: 1, Array: Uint8Array },
  int8: { code: 'i', size: 1, Array: Int8Array },
  uint8: { code: 'u', size: 1, Array: Uint8Array },
  int16: { code: 'i', size: 2, Array: Int16Array },
  uint16: { code: 'u', size: 2, Array: Uint16Array },
  int32: { code: 'i', size: 4, Array: Int32Array },
  uint32: { code: 'u', size: 4, Array: Uint32Array },
  int64: { code: 'i', size: 8, Array: BigInt64Array },
  uint64: { code: 'u', size: 8, Array: BigUint64Array },
  float16: { code: 'f', size: 2, Array: Uint16Array }, // raw IEEE half bits
  float32: { code: 'f', size: 4, Array: Float32Array },
  float64: { code: 'f', size: 8, Array: Float64Array },
};

// INT_RANGES are the value ranges of the integer types a runtime tensor may
// have (int64 tensors cannot be exchanged with this runtime at all).
const INT_RANGES = {
  bool: [0, 1],
  int8: [-128, 127],
  uint8: [0, 255],
  int16: [-32768, 32767],
  uint16: [0, 65535],
  int32: [-2147483648, 2147483647],
  uint32: [0, 4294967295],
};

class UsageError extends Error {}

// ---------------------------------------------------------------------------
// .npy files

const NPY_MAGIC = Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]); // \x93NUMPY

function dtypeFromDescr(descr) {
  const m = /^([<>|=]?)([a-zA-Z])(\d+)$/.exec(descr);
  if (!m) throw new Error(`unsupported dtype descr '${descr}'`);
  const [, order, code, sizeText] = m;
  const size = Number(sizeText);
  for (const [name, dt] of Object.entries(DTYPES)) {
    if (dt.code === code && dt.size === size) return { name, bigEndian: order === '>' && size > 1 };
  }
  throw new Error(`unsupported dtype descr '${descr}'`);
}

function descrOf(name) {
  const dt = DTYPES[name];
  return (dt.size === 1 ? '|' : '<') + dt.code + dt.size;
}

function product(shape) {
  return shape.reduce((a, b) => a * b, 1);
}

// readNpy parses a .npy file into {dtype, shape, values}, values being a typed
// array over a private copy of the data in little-endian order.
function readNpy(file) {
  const buf = fs.readFileSync(file);
  const where = path.basename(file);
  if (buf.length < 10 || !buf.subarray(0, 6).equals(NPY_MAGIC)) {
    throw new Error(`${where}: not a .npy file (bad magic)`);
  }
  const major = buf[6];
  let headerLen, start;
  if (major === 1) {
    headerLen = buf.readUInt16LE(8);
    start = 10;
  } else if (major === 2 || major === 3) {
    if (buf.length < 12) throw new Error(`${where}: truncated header`);
    headerLen = buf.readUInt32LE(8);
    start = 12;
  } else {
    throw new Error(`${where}: unsupported .npy version ${major}.${buf[7]}`);
  }
  if (start + headerLen > buf.length) throw new Error(`${where}: truncated header`);
  const header = buf.toString(major === 3 ? 'utf8' : 'latin1', start, start + headerLen);
  if (/['"]descr['"]\s*:\s*\[/.test(header)) {
    throw new Error(`${where}: structured dtypes are not supported`);
  }
  const descr = /['"]descr['"]\s*:\s*(['"])([^'"]*)\1/.exec(header);
  const fortran = /['"]fortran_order['"]\s*:\s*(True|False)/.exec(header);
  const shapeText = /['"]shape['"]\s*:\s*\(([^)]*)\)/.exec(header);
  if (!descr || !fortran || !shapeText) throw new Error(`${where}: malformed header ${JSON.stringify(header.trim())}`);
  if (fortran[1] === 'True') throw new Error(`${where}: Fortran-order arrays are not supported`);
  let dtype;
  try {
    dtype = dtypeFromDescr(descr[2]);
  } catch (e) {
    throw new Error(`${where}: ${e.message}`);
  }
  const shape = shapeText[1].split(',').map((s) => s.trim().replace(/L$/, '')).filter((s) => s !== '').map((s) => {
    if (!/^\d+$/.test(s)) throw new Error(`${where}: bad shape (${shapeText[1]})`);
    return Number(s);
  });
  const dt = DTYPES[dtype.name];
  const nbytes = product(shape) * dt.size;
  const offset = start + headerLen;
  if (!Number.isSafeInteger(nbytes) || nbytes > buf.length - offset) {
    throw new Error(`${where}: data is shorter than its shape (${shape.join(', ')}) declares`);
  }
  const bytes = new Uint8Array(nbytes); // fresh, hence aligned for any typed array
  bytes.set(buf.subarray(offset, offset + nbytes));
  if (dtype.bigEndian) {
    for (let i = 0; i < nbytes; i += dt.size) bytes.subarray(i, i + dt.size).reverse();
  }
  return { dtype: dtype.name, shape, values: new dt.Array(bytes.buffer) };
}

function npyBytes(dtype, shape, values) {
  const dims = shape.length === 1 ? `${shape[0]},` : shape.join(', ');
  let header = `{'descr': '${descrOf(dtype)}', 'fortran_order': False, 'shape': (${dims}), }`;
  // Pad with spaces and a newline so that the data starts 64-byte aligned.
  const pad = 64 - ((10 + header.length + 1) % 64);
  header += ' '.repeat(pad % 64) + '\n';
  const prefix = Buffer.alloc(10);
  NPY_MAGIC.copy(prefix);
  prefix[6] = 1;
  prefix[7] = 0;
  prefix.writeUInt16LE(header.length, 8);
  const data = Buffer.from(values.buffer, values.byteOffset, values.byteLength);
  return Buffer.concat([prefix, Buffer.from(header, 'latin1'), data]);
}

function writeNpy(file, dtype, shape, values) {
  fs.writeFileSync(file, npyBytes(dtype, shape, values));
}

// ---------------------------------------------------------------------------
// Conversions between .npy arrays and runtime tensors

function halfToFloat(h) {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24;
  if (exp === 31) return frac ? NaN : sign * Infinity;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}

// convert returns arr.values as a typed array of the dtype `to`, or throws.
function convert(arr, to, what) {
  if (arr.dtype === to) return arr.values;
  const from = arr.dtype;
  const out = new DTYPES[to].Array(arr.values.length);
  if (to === 'float32' || to === 'float64') {
    const src = arr.values;
    for (let i = 0; i < src.length; i++) out[i] = from === 'float16' ? halfToFloat(src[i]) : Number(src[i]);
    return out;
  }
  if (DTYPES[from].code === 'f') {
    throw new Error(`${what} is ${from} but the model input is ${to}; floats are not rounded into integer inputs (quantize them first)`);
  }
  const [lo, hi] = INT_RANGES[to];
  const src = arr.values;
  for (let i = 0; i < src.length; i++) {
    const v = src[i];
    if (v < lo || v > hi) {
      throw new Error(`${what} value ${v} at flat index ${i} does not fit the model input's ${to}`);
    }
    out[i] = Number(v);
  }
  return out;
}

function sameShape(a, b) {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

// batchOf returns null if the array of shape a is one sample of an input of
// shape s, the batch size N if it is a stack of N samples, or throws.
function batchOf(a, s, what) {
  if (sameShape(a, s)) return null;
  if (s.length > 0 && s[0] === 1 && sameShape(a, s.slice(1))) return null;
  if (a.length > 0) {
    if (s.length > 0 && s[0] === 1 && sameShape(a.slice(1), s.slice(1))) return a[0];
    if (sameShape(a.slice(1), s)) return a[0];
  }
  throw new Error(`${what} has shape (${a.join(', ')}), which is neither the model input's shape [${s.join(', ')}] nor a batch of it`);
}

function parseShape(text) {
  return text === '' ? [] : text.split(',').map(Number);
}

// ---------------------------------------------------------------------------
// The runtime

function packageDir() {
  return path.dirname(require.resolve(`${PACKAGE}/package.json`, { paths: [__dirname] }));
}

async function loadRuntime(log) {
  const dir = path.join(packageDir(), 'wasm');
  const factory = require(path.join(dir, `${WASM_NAME}.js`));
  // A path or URL would make the module use fetch(), which fails for files in Node.
  return factory({
    wasmBinary: fs.readFileSync(path.join(dir, `${WASM_NAME}.wasm`)),
    print: log,
    printErr: log,
  });
}

// tensorInfos returns the runner's input or output tensors as
// {name, dtype, shape}; the handles are released.
function tensorInfos(runner, which) {
  const vec = which === 'input' ? runner.GetInputs() : runner.GetOutputs();
  const infos = [];
  try {
    for (let i = 0; i < vec.size(); i++) {
      const t = vec.get(i);
      infos.push({ name: t.name, dtype: t.dataType, shape: parseShape(t.shape) });
      t.delete();
    }
  } finally {
    vec.delete();
  }
  return infos;
}

// tensorData returns a live view of a tensor's buffer in the WebAssembly heap.
// Views are fetched again for every use: a heap growth detaches old ones.
function tensorData(runner, which, i) {
  const vec = which === 'input' ? runner.GetInputs() : runner.GetOutputs();
  try {
    const t = vec.get(i);
    try {
      return t.data();
    } finally {
      t.delete();
    }
  } finally {
    vec.delete();
  }
}

async function run(opts) {
  const log = [];
  const logLine = (line) => {
    log.push(String(line));
    if (opts.verbose) process.stderr.write(`${line}\n`);
  };
  // withLog appends the runtime's error lines to an error message.
  const withLog = (msg) => {
    const errs = log.filter((l) => /error|fail|unsupported|unknown/i.test(l)).map((l) => l.trim());
    return errs.length ? `${msg} [runtime: ${errs.join(' | ')}]` : msg;
  };

  const modelBytes = fs.readFileSync(opts.model);
  const arrays = opts.inputs.map((f) => readNpy(f));

  const M = await loadRuntime(logLine);
  const ptr = M._malloc(modelBytes.length);
  M.HEAPU8.set(modelBytes, ptr); // kept for the runner's lifetime: it is not copied
  const created = M.TFLiteWebModelRunner.CreateFromBufferAndOptions(ptr, modelBytes.length, {
    numThreads: opts.threads,
    enableProfiling: false,
    maxProfilingBufferEntries: 1024,
  });
  if (!created.ok()) {
    throw new Error(withLog(`cannot load model ${opts.model}: ${created.errorMessage()}`));
  }
  const runner = created.value();
  const inputs = tensorInfos(runner, 'input');
  const checkType = (t, kind, i) => {
    if (!(t.dtype in INT_RANGES) && t.dtype !== 'float32' && t.dtype !== 'float64') {
      throw new Error(`model ${kind} ${i} ('${t.name}') has a data type this runtime cannot exchange ` +
        `with JavaScript (reported as '${t.dtype}'; int64, uint64, uint16 and float16 are not supported)`);
    }
  };
  inputs.forEach((t, i) => checkType(t, 'input', i));
  if (arrays.length !== inputs.length) {
    throw new Error(`model has ${inputs.length} input(s) but ${arrays.length} .npy file(s) were given`);
  }

  // Plan the batch and convert every input once.
  let batch = null;
  const feeds = inputs.map((t, i) => {
    const what = `input ${i} (${path.basename(opts.inputs[i])}, ${arrays[i].dtype})`;
    const n = batchOf(arrays[i].shape, t.shape, what);
    if (n !== null) {
      if (batch !== null && n !== batch) {
        throw new Error(`${what} is a batch of ${n} but an earlier input is a batch of ${batch}`);
      }
      batch = n;
    }
    return { values: convert(arrays[i], t.dtype, what), batched: n !== null, size: product(t.shape) };
  });
  if (batch === 0) throw new Error('the inputs are an empty batch');
  const samples = batch === null ? 1 : batch;

  const feed = (s) => {
    feeds.forEach((f, i) => {
      const view = tensorData(runner, 'input', i);
      view.set(f.batched ? f.values.subarray(s * f.size, (s + 1) * f.size) : f.values);
    });
  };
  const infer = (s) => {
    if (!runner.Infer()) throw new Error(withLog(`inference failed on sample ${s}`));
  };

  // Warm up and time on the first sample. The output shapes are read after
  // the first inference, once the runtime has settled any dynamic ones.
  feed(0);
  for (let i = 0; i < opts.warmup; i++) infer(0);
  const outputs = tensorInfos(runner, 'output');
  outputs.forEach((t, i) => checkType(t, 'output', i));
  let msPerInference = null;
  if (opts.repeat > 0) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < opts.repeat; i++) infer(0);
    msPerInference = Number(process.hrtime.bigint() - t0) / 1e6 / opts.repeat;
  }

  // Run every sample and collect the outputs.
  const results = outputs.map((t) => new DTYPES[t.dtype].Array(samples * product(t.shape)));
  for (let s = 0; s < samples; s++) {
    feed(s);
    infer(s);
    outputs.forEach((t, o) => {
      const n = product(t.shape);
      const data = tensorData(runner, 'output', o);
      if (data.length !== n) {
        throw new Error(`output ${o} ('${t.name}') changed size on sample ${s}: ${data.length} elements, not ${n}`);
      }
      results[o].set(data, s * n);
    });
  }

  fs.mkdirSync(opts.out, { recursive: true });
  outputs.forEach((t, o) => {
    let shape = t.shape;
    if (batch !== null) shape = [batch, ...(shape.length > 0 && shape[0] === 1 ? shape.slice(1) : shape)];
    writeNpy(path.join(opts.out, `out${o}.npy`), t.dtype, shape, results[o]);
  });
  const pkg = JSON.parse(fs.readFileSync(path.join(packageDir(), 'package.json'), 'utf8'));
  const meta = {
    model: opts.model,
    runtime: { package: PACKAGE, version: pkg.version, wasm: WASM_NAME },
    threads: opts.threads,
    inputs,
    outputs,
    batched: batch !== null,
    samples,
    warmup: opts.warmup,
    repeat: opts.repeat,
    ms_per_inference: msPerInference,
  };
  fs.writeFileSync(path.join(opts.out, 'meta.json'), `${JSON.stringify(meta, null, 2)}\n`);
  runner.delete();
  return meta;
}

// ---------------------------------------------------------------------------
// Command line

function parseCount(text, flag, min) {
  if (!/^\d+$/.test(text) || Number(text) < min) throw new UsageError(`${flag} wants an integer >= ${min}, got '${text}'`);
  return Number(text);
}

function parseCommandLine(argv) {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        model: { type: 'string' },
        out: { type: 'string' },
        threads: { type: 'string', default: '1' },
        warmup: { type: 'string', default: '1' },
        repeat: { type: 'string', default: '1' },
        verbose: { type: 'boolean', default: false },
      },
    });
  } catch (e) {
    throw new UsageError(e.message);
  }
  const v = parsed.values;
  if (!v.model || !v.out) throw new UsageError('--model and --out are required');
  return {
    model: v.model,
    out: v.out,
    threads: parseCount(v.threads, '--threads', 1),
    warmup: parseCount(v.warmup, '--warmup', 1),
    repeat: parseCount(v.repeat, '--repeat', 0),
    verbose: v.verbose,
    inputs: parsed.positionals,
  };
}

function oneLine(msg) {
  return String(msg).replace(/\s*\n\s*/g, ' ').trim();
}

if (require.main === module) {
  (async () => {
    try {
      await run(parseCommandLine(process.argv.slice(2)));
    } catch (e) {
      let msg = e instanceof Error ? e.message : String(e);
      if (e instanceof UsageError) {
        msg += ' (usage: tflite_run.js --model M.tflite --out DIR [--threads N] [--warmup N] [--repeat N] [--verbose] IN.npy...)';
      }
      process.stderr.write(`tflite_run: ${oneLine(msg)}\n`);
      process.exit(1);
    }
  })();
} else {
  module.exports = { readNpy, writeNpy, npyBytes, run, DTYPES };
}
