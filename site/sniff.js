// File kinds: what a file (or a dropped folder) is, from its first bytes
// and its name, and the plain-words message when it is not what was asked
// for. The converter's own error stays available as the detail; this only
// names the common mistakes in words a first-time user can act on.

const TFLITE_HELP = "The model is a .tflite file: TensorFlow's converter (tf.lite.TFLiteConverter) writes one from a SavedModel or a Keras model.";

// Each kind: a test on the first bytes (a Uint8Array of up to 64) and the
// lower-case name, and what to tell the user when it is given as a model.
const KINDS = [
  { kind: "tflite", test: (b) => ascii(b, 4, 4) === "TFL3" },
  { kind: "png", test: (b) => b[0] === 0x89 && ascii(b, 1, 3) === "PNG",
    model: "This is a PNG image, not a model. Images are calibration samples: drop them on the page (or choose them under Samples)." },
  { kind: "jpeg", test: (b) => b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff,
    model: "This is a JPEG image, not a model. Images are calibration samples: drop them on the page (or choose them under Samples)." },
  { kind: "gif", test: (b) => ascii(b, 0, 4) === "GIF8",
    model: "This is a GIF image, not a model. Images are calibration samples." },
  { kind: "wav", test: (b) => ascii(b, 0, 4) === "RIFF" && ascii(b, 8, 4) === "WAVE",
    model: "This is a WAV recording, not a model. Recordings are calibration samples." },
  { kind: "npy", test: (b) => b[0] === 0x93 && ascii(b, 1, 5) === "NUMPY",
    model: "This is a NumPy array (.npy), not a model. Arrays are calibration samples." },
  { kind: "hdf5", test: (b) => b[0] === 0x89 && ascii(b, 1, 3) === "HDF",
    model: "This is a Keras model in HDF5 (.h5), not a TensorFlow Lite one. Convert it first: " +
      "tf.lite.TFLiteConverter.from_keras_model(tf.keras.models.load_model(\"model.h5\")).convert(), and save the bytes as model.tflite." },
  { kind: "zip", test: (b) => ascii(b, 0, 4) === "PK\x03\x04",
    model: (name) => name.endsWith(".npz") ? "This is a NumPy archive (.npz), not a model. Archives of arrays are calibration samples." :
      name.endsWith(".keras") ? "This is a Keras model (.keras), not a TensorFlow Lite one. Convert it first: tf.lite.TFLiteConverter.from_keras_model(keras.models.load_model(\"model.keras\")).convert()." :
      name.endsWith(".pt") || name.endsWith(".pth") ? "This is a PyTorch model, not a TensorFlow Lite one. Export it to TensorFlow Lite first (for example with ai-edge-torch)." :
      "This is a ZIP archive, not a model. Unpack it and drop the .tflite file inside (a folder of images inside it can be the samples)." },
  { kind: "onnx", test: (b, name) => name.endsWith(".onnx"),
    model: "This is an ONNX model, not a TensorFlow Lite one. Convert it first (for example onnx2tf, then TensorFlow's converter)." },
  { kind: "savedmodel", test: (b, name) => name === "saved_model.pb" || name === "saved_model.pbtxt",
    model: "This is part of a TensorFlow SavedModel, not a TensorFlow Lite model. Convert it first: " +
      "tf.lite.TFLiteConverter.from_saved_model(\"the_folder\").convert(), and save the bytes as model.tflite." },
  { kind: "pdf", test: (b) => ascii(b, 0, 5) === "%PDF-", model: "This is a PDF document, not a model." },
];

function ascii(b, at, n) {
  if (b.length < at + n) return "";
  return String.fromCharCode(...b.subarray(at, at + n));
}

// sniff returns {kind, modelMessage} for a File: kind is "tflite", one of
// the names above, or "" when unknown.
export async function sniff(file) {
  const head = new Uint8Array(await file.slice(0, 64).arrayBuffer());
  const name = (file.name || "").toLowerCase();
  for (const k of KINDS) {
    if (k.test(head, name)) {
      const msg = typeof k.model === "function" ? k.model(name) : k.model;
      return { kind: k.kind, modelMessage: msg ? `${msg} ${k.kind === "hdf5" || k.kind === "savedmodel" ? "" : TFLITE_HELP}`.trim() : "" };
    }
  }
  return { kind: "", modelMessage: "" };
}

// plainLoadError words a failed model load: the converter's own words when
// they already say what the file is (core/tflite names non-model files,
// "this is a PNG image, not a .tflite model: ..."), else the kind sniffed
// here, then a TensorFlow Lite file that would not read (cut short, or
// damaged).
export function plainLoadError(file, sniffed, detail) {
  const said = /^this is (an? [^,]+), not a \.tflite model(?:: ([^(]+))?/i.exec(detail || "");
  if (said) return `This is ${said[1]}, not a TensorFlow Lite model${said[2] ? `: ${said[2].trim()}` : ""}. ${TFLITE_HELP}`;
  if (sniffed.modelMessage) return sniffed.modelMessage;
  if (file.size === 0) return "The file is empty.";
  if (sniffed.kind === "tflite") {
    return /truncat|out of range|beyond|exceeds|short|EOF|past the end/i.test(detail)
      ? "This TensorFlow Lite model is cut short: the file ends before the model does (an interrupted download or copy?). Get the whole file again."
      : "This looks like a TensorFlow Lite model but it is damaged: it cannot be read. Get the file again; if it still fails, the details below say where.";
  }
  return `This is not a TensorFlow Lite model (its first bytes are not a .tflite file's). ${TFLITE_HELP}`;
}

// float16 weights are not here: a float16 model (MediaPipe's, say) is a
// float model whose weights are stored small, and the converter takes it.
const QUANTIZED = ["INT8", "UINT8", "INT16"];

// alreadyQuantized says why a model that loaded is not a float model to
// quantize ("" when it is one): most of its constant data is int8, uint8
// or int16 already.
export function alreadyQuantized(summary) {
  const by = summary.constant_bytes_by_type || {};
  const q = QUANTIZED.reduce((n, t) => n + (by[t] || 0), 0);
  const f = by.FLOAT32 || 0;
  if (q === 0 || f >= q) return "";
  const kinds = QUANTIZED.filter((t) => by[t]).map((t) => t.toLowerCase()).join(" and ");
  return `This model is already quantized: its weights are ${kinds}. litequant quantizes float models — ` +
    "give it the float .tflite this one was made from (the converter's output without `optimizations`).";
}

// isSample says whether a file name is one the samples reader takes.
export const SAMPLE_EXT = /\.(npy|npz|png|jpe?g|gif|bmp|wav)$/i;
