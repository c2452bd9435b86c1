// Runs .tflite models in LiteRT.js (@litertjs/core, the current LiteRT web
// runtime) on its CPU (WebAssembly) accelerator, for core/runtimetest/litert.
// The Go side serves this page, scripts/node_modules under /npm/, and the
// model and input bytes under /blob/; it calls window.litert through the
// DevTools protocol. Results travel back as JSON with base64 data.
import {loadLiteRt, loadAndCompile, Tensor} from '/npm/@litertjs/core/dist/index.js';

const arrays = {float32: Float32Array, int32: Int32Array, uint8: Uint8Array};
const models = new Map();
let next = 1;

async function bytes(url) {
  const r = await fetch(url);
  if (!r.ok) throw new Error(`${url}: HTTP ${r.status}`);
  return new Uint8Array(await r.arrayBuffer());
}

function base64(view) {
  const b = new Uint8Array(view.buffer, view.byteOffset, view.byteLength);
  let s = '';
  for (let i = 0; i < b.length; i += 0x8000) {
    s += String.fromCharCode.apply(null, b.subarray(i, i + 0x8000));
  }
  return btoa(s);
}

function describe(d) {
  return {name: d.name, dtype: d.dtype, shape: Array.from(d.shape)};
}

function modelOf(id) {
  const model = models.get(id);
  if (!model) throw new Error(`no model ${id}`);
  return model;
}

// fill appends to tensors one LiteRT.js tensor per input {url, dtype, shape}.
async function fill(tensors, inputs) {
  for (const x of inputs) {
    const A = arrays[x.dtype];
    if (!A) throw new Error(`LiteRT.js takes no ${x.dtype} tensors`);
    const b = await bytes(x.url);
    tensors.push(new Tensor(new A(b.buffer, b.byteOffset, b.byteLength / A.BYTES_PER_ELEMENT), x.shape));
  }
}

window.litert = {
  ready: loadLiteRt('/npm/@litertjs/core/wasm/').then(() => true),

  // load compiles the model at url and returns its id and I/O details.
  async load(url) {
    const model = await loadAndCompile(await bytes(url), {accelerator: 'wasm'});
    const id = next++;
    models.set(id, model);
    return {
      id,
      inputs: model.getInputDetails().map(describe),
      outputs: model.getOutputDetails().map(describe),
    };
  },

  // run feeds one sample: inputs[k] = {url, dtype, shape}.
  async run(id, inputs) {
    const model = modelOf(id);
    const tensors = [];
    try {
      await fill(tensors, inputs);
      const outs = await model.run(tensors);
      try {
        return outs.map((t) => ({
          dtype: t.type.dtype,
          shape: Array.from(t.type.layout.dimensions),
          data: base64(t.toTypedArray()),
        }));
      } finally {
        outs.forEach((t) => t.delete());
      }
    } finally {
      tensors.forEach((t) => t.delete());
    }
  },

  // time returns the mean milliseconds of one run on one sample, over
  // runs calls after warmup ones.
  async time(id, inputs, warmup, runs) {
    const model = modelOf(id);
    const tensors = [];
    try {
      await fill(tensors, inputs);
      const once = async () => (await model.run(tensors)).forEach((t) => t.delete());
      for (let i = 0; i < warmup; i++) await once();
      const start = performance.now();
      for (let i = 0; i < runs; i++) await once();
      return (performance.now() - start) / runs;
    } finally {
      tensors.forEach((t) => t.delete());
    }
  },

  free(id) {
    const model = models.get(id);
    if (model) model.delete();
    models.delete(id);
  },
};
