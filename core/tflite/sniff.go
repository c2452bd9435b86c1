package tflite

import (
	"bytes"
	"os"
	"path/filepath"
	"unicode/utf8"
)

// Sniff says what data is when it is not a TensorFlow Lite model, from its
// first bytes: what is a phrase for a sentence such as "this is a PNG image,
// not a .tflite model" ("a PNG image", "a ZIP archive", "an ONNX model"),
// hint is advice for the person ("" when there is none). Both are "" when
// data is a model (identifier "TFL3") or nothing recognisable. Load uses it
// for its errors; the page and the CLI may call it to say why a file was
// refused.
func Sniff(data []byte) (what, hint string) {
	const convertHint = "convert it to .tflite first with TensorFlow's converter (tf.lite.TFLiteConverter)"
	has := func(prefix string) bool { return bytes.HasPrefix(data, []byte(prefix)) }
	head := data[:min(len(data), 4096)]
	contains := func(s string) bool { return bytes.Contains(head, []byte(s)) }
	switch {
	case len(data) == 0:
		return "an empty file", "the file holds no bytes: was the download complete?"
	case len(data) >= 8 && string(data[4:8]) == FileIdentifier:
		return "", ""
	case has("\x89PNG\r\n\x1a\n"):
		return "a PNG image", "images are calibration samples (--calib), not models"
	case has("\xff\xd8\xff"):
		return "a JPEG image", "images are calibration samples (--calib), not models"
	case has("GIF87a"), has("GIF89a"):
		return "a GIF image", "images are calibration samples (--calib), not models"
	case has("BM") && len(data) >= 26 && data[14] >= 12 && data[15] == 0 && data[16] == 0 && data[17] == 0:
		return "a BMP image", "images are calibration samples (--calib), not models"
	case has("RIFF") && len(data) >= 12 && string(data[8:12]) == "WEBP":
		return "a WebP image", ""
	case has("RIFF") && len(data) >= 12 && string(data[8:12]) == "WAVE":
		return "a WAV sound file", "sound files are calibration samples (--calib), not models"
	case has("\x93NUMPY"):
		return "a NumPy .npy array", "arrays are calibration samples (--calib), not models"
	case has("\x89HDF\r\n\x1a\n"):
		return "a Keras .h5 (HDF5) file", convertHint
	case has("PK\x03\x04"), has("PK\x05\x06"):
		switch {
		case contains("saved_model.pb"):
			return "a ZIP archive holding a SavedModel", "unzip it and " + convertHint
		case contains("model.weights.h5") || contains("config.json") && contains("metadata.json"):
			return "a Keras .keras archive", convertHint
		case contains(".tflite"):
			return "a ZIP archive", "unzip it: the .tflite model is inside"
		case contains(".npy"):
			return "a NumPy .npz archive", "arrays are calibration samples (--calib), not models"
		case contains("data.pkl"):
			return "a PyTorch checkpoint", "export it to ONNX or TensorFlow, then convert that to .tflite"
		}
		return "a ZIP archive", "unzip it first"
	case has("\x1f\x8b"):
		return "a gzip-compressed file", "decompress it first (a .tflite model may be inside)"
	case len(data) > 262 && string(data[257:262]) == "ustar":
		return "a tar archive", "extract it first (a .tflite model may be inside)"
	case has("%PDF"):
		return "a PDF document", ""
	case has("version https://git-lfs"):
		return "a Git LFS pointer file", "the model itself was not downloaded: run git lfs pull"
	case looksONNX(head):
		return "an ONNX model", "convert it to TensorFlow first (e.g. onnx2tf), then to .tflite"
	case looksTFProtobuf(head):
		return "a TensorFlow protobuf (SavedModel saved_model.pb or frozen graph)", convertHint
	}
	if text := bytes.TrimLeft(head, " \t\r\n\ufeff"); utf8.Valid(head) || utf8.Valid(head[:max(0, len(head)-3)]) {
		lower := bytes.ToLower(text[:min(len(text), 256)])
		switch {
		case bytes.HasPrefix(lower, []byte("<!doctype html")), bytes.HasPrefix(lower, []byte("<html")):
			return "an HTML page", "the download saved a web page instead of the model: download the file itself"
		case bytes.HasPrefix(text, []byte("{")), bytes.HasPrefix(text, []byte("[")):
			return "a JSON text file", ""
		case len(text) > 0 && printable(text[:min(len(text), 256)]):
			return "a text file", ""
		}
	}
	return "", ""
}

// printable reports whether b is text: no control bytes but tab and line
// breaks.
func printable(b []byte) bool {
	for _, c := range b {
		if c < 0x20 && c != '\t' && c != '\n' && c != '\r' {
			return false
		}
	}
	return true
}

// looksONNX recognises an ONNX ModelProto: field 1 (ir_version, a small
// varint) first, and the names ONNX exporters write near the start.
func looksONNX(b []byte) bool {
	if len(b) < 4 || b[0] != 0x08 || b[1] == 0 || b[1] > 0x20 {
		return false
	}
	for _, s := range []string{"onnx", "pytorch", "tf2onnx", "skl2onnx", "keras2onnx"} {
		if bytes.Contains(b, []byte(s)) {
			return true
		}
	}
	return false
}

// looksTFProtobuf recognises a TensorFlow SavedModel (saved_model.pb) or
// GraphDef by the op names they always hold.
func looksTFProtobuf(b []byte) bool {
	if len(b) < 4 || (b[0] != 0x08 && b[0] != 0x0a && b[0] != 0x12) {
		return false
	}
	n := 0
	for _, s := range []string{"serve", "Placeholder", "VarHandleOp", "StatefulPartitionedCall", "saved_model", "Const", "tensorflow"} {
		if bytes.Contains(b, []byte(s)) {
			n++
		}
	}
	return n >= 2
}

// SniffPath is Sniff for a path that may be a directory: a SavedModel
// directory (saved_model.pb inside) or any other folder is named as such;
// a file is read (its first 4 KiB) and sniffed.
func SniffPath(path string) (what, hint string) {
	st, err := os.Stat(path)
	if err != nil {
		return "", ""
	}
	if st.IsDir() {
		if _, err := os.Stat(filepath.Join(path, "saved_model.pb")); err == nil {
			return "a TensorFlow SavedModel directory", "convert it to .tflite first with TensorFlow's converter (tf.lite.TFLiteConverter.from_saved_model)"
		}
		return "a directory", "give the .tflite file inside it"
	}
	f, err := os.Open(path)
	if err != nil {
		return "", ""
	}
	defer f.Close()
	buf := make([]byte, 4096)
	n, _ := f.Read(buf)
	return Sniff(buf[:n])
}
