package tflite_test

import (
	"errors"
	"strings"
	"testing"

	"litequant/core/modelbuild"
	fb "litequant/core/schema/tflitefb"
	"litequant/core/tflite"
)

// TestGraphLimits: each limit Load checks before any work has its message,
// naming what and how big.
func TestGraphLimits(t *testing.T) {
	edit := func(f func(m *tflite.Model)) []byte {
		m := tinyModel(t)
		f(m)
		return packRaw(m)
	}
	// addSubgraph appends a subgraph whose one operator is op.
	addSubgraph := func(m *tflite.Model, op *fb.OperatorT) {
		m.Subgraphs = append(m.Subgraphs, &fb.SubGraphT{Name: "sub",
			Tensors: []*fb.TensorT{{Name: "s", Type: fb.TensorTypeFLOAT32, Shape: []int32{1}}, {Name: "t", Type: fb.TensorTypeFLOAT32, Shape: []int32{1}}},
			Inputs:  []int32{0}, Outputs: []int32{1},
			Operators: []*fb.OperatorT{op}})
	}
	callOp := func(m *tflite.Model, opts *fb.BuiltinOptionsT) *fb.OperatorT {
		m.OperatorCodes = append(m.OperatorCodes, &fb.OperatorCodeT{BuiltinCode: fb.BuiltinOperatorWHILE, Version: 1})
		return &fb.OperatorT{OpcodeIndex: uint32(len(m.OperatorCodes) - 1), Inputs: []int32{0}, Outputs: []int32{1}, BuiltinOptions: opts}
	}
	cases := []struct {
		name string
		data []byte
		want string
	}{
		{"element count overflows", edit(func(m *tflite.Model) {
			m.Subgraphs[0].Tensors[3].Shape = []int32{1 << 30, 1 << 30, 1 << 30}
		}), `subgraph 0, tensor 3 ("h"): shape [1073741824 1073741824 1073741824] of FLOAT32 is too large: more than 281474976710656 bytes`},
		{"byte size too large", edit(func(m *tflite.Model) {
			m.Subgraphs[0].Tensors[3].Shape = []int32{1 << 24, 1 << 23}
		}), `shape [16777216 8388608] of FLOAT32 is too large`},
		{"constant larger than its buffer", edit(func(m *tflite.Model) {
			m.Subgraphs[0].Tensors[1].Shape = []int32{1 << 30, 1 << 30}
		}), `buffer 1 holds 48 bytes, but shape [1073741824 1073741824] of FLOAT32 needs`},
		{"used before written", edit(func(m *tflite.Model) {
			ops := m.Subgraphs[0].Operators
			ops[0], ops[1] = ops[1], ops[0]
		}), `subgraph 0, operator 0 (ADD): input 0 is tensor 3 ("h"), which a later operator writes (operator 1, FULLY_CONNECTED): the operators are out of order or form a cycle`},
		{"operator reads its own output", edit(func(m *tflite.Model) {
			m.Subgraphs[0].Operators[1].Inputs[1] = 5
		}), `subgraph 0, operator 1 (ADD): input 1 is tensor 5 ("y"), which the operator itself writes`},
		{"operator writes the subgraph input it reads", edit(func(m *tflite.Model) {
			m.Subgraphs[0].Operators[0].Outputs[0] = 0
		}), `subgraph 0, operator 0 (FULLY_CONNECTED): input 0 is tensor 0 ("x"), which the operator itself writes (operator 0, FULLY_CONNECTED)`},
		{"while calls its own subgraph", edit(func(m *tflite.Model) {
			op := callOp(m, &fb.BuiltinOptionsT{Type: fb.BuiltinOptionsWhileOptions, Value: &fb.WhileOptionsT{CondSubgraphIndex: 1, BodySubgraphIndex: 1}})
			addSubgraph(m, op)
		}), `subgraph 1, operator 0 (WHILE) calls subgraph 1, which is already running: subgraphs call themselves (1 → 1)`},
		{"indirect recursion", edit(func(m *tflite.Model) {
			addSubgraph(m, callOp(m, &fb.BuiltinOptionsT{Type: fb.BuiltinOptionsIfOptions, Value: &fb.IfOptionsT{ThenSubgraphIndex: 2, ElseSubgraphIndex: 2}}))
			addSubgraph(m, callOp(m, &fb.BuiltinOptionsT{Type: fb.BuiltinOptionsCallOnceOptions, Value: &fb.CallOnceOptionsT{InitSubgraphIndex: 1}}))
			m.Subgraphs[0].Operators = append(m.Subgraphs[0].Operators, callOp(m, &fb.BuiltinOptionsT{Type: fb.BuiltinOptionsCallOnceOptions, Value: &fb.CallOnceOptionsT{InitSubgraphIndex: 1}}))
			m.Subgraphs[0].Operators[2].Inputs, m.Subgraphs[0].Operators[2].Outputs = []int32{5}, []int32{}
		}), `subgraph 2, operator 0 (WHILE) calls subgraph 1, which is already running: subgraphs call themselves (1 → 2 → 1)`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := tflite.Load(c.data)
			if err == nil {
				t.Fatal("loaded without error")
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %q\ndoes not say %q", err, c.want)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Fatalf("error is not one line: %q", err)
			}
		})
	}
}

// TestCallingOtherSubgraphsIsFine: a WHILE calling two other subgraphs,
// which call a third, is no recursion.
func TestCallingOtherSubgraphsIsFine(t *testing.T) {
	m := tinyModel(t)
	m.OperatorCodes = append(m.OperatorCodes, &fb.OperatorCodeT{BuiltinCode: fb.BuiltinOperatorWHILE, Version: 1})
	code := uint32(len(m.OperatorCodes) - 1)
	sub := func(ops ...*fb.OperatorT) *fb.SubGraphT {
		return &fb.SubGraphT{Tensors: []*fb.TensorT{{Name: "s", Type: fb.TensorTypeFLOAT32, Shape: []int32{1}}, {Name: "t", Type: fb.TensorTypeFLOAT32, Shape: []int32{1}}}, Inputs: []int32{0}, Outputs: []int32{1}, Operators: ops}
	}
	call := func(in, out int32, opts any) *fb.OperatorT {
		o := &fb.OperatorT{OpcodeIndex: code, Inputs: []int32{in}, Outputs: []int32{out}}
		switch v := opts.(type) {
		case *fb.WhileOptionsT:
			o.BuiltinOptions = &fb.BuiltinOptionsT{Type: fb.BuiltinOptionsWhileOptions, Value: v}
		case *fb.CallOnceOptionsT:
			o.BuiltinOptions = &fb.BuiltinOptionsT{Type: fb.BuiltinOptionsCallOnceOptions, Value: v}
		}
		return o
	}
	sg := m.Subgraphs[0]
	sg.Tensors = append(sg.Tensors, &fb.TensorT{Name: "z", Type: fb.TensorTypeFLOAT32, Shape: []int32{1, 3}})
	sg.Operators = append(sg.Operators, call(5, 6, &fb.WhileOptionsT{CondSubgraphIndex: 1, BodySubgraphIndex: 2}))
	m.Subgraphs = append(m.Subgraphs, sub(call(0, 1, &fb.CallOnceOptionsT{InitSubgraphIndex: 3})), sub(call(0, 1, &fb.CallOnceOptionsT{InitSubgraphIndex: 3})), sub())
	if _, err := tflite.Load(packRaw(m)); err != nil {
		t.Fatal(err)
	}
}

// TestPeopleErrors: files that are not models say what they are, and
// truncated models say so, offsets following.
func TestPeopleErrors(t *testing.T) {
	good := mustSave(t, tinyModel(t))
	cases := []struct {
		name string
		data []byte
		want string
	}{
		{"png", []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"), `this is a PNG image, not a .tflite model: images are calibration samples (--calib), not models (file identifier is "\r\n\x1a\n", want "TFL3")`},
		{"jpeg", []byte("\xff\xd8\xff\xe0\x00\x10JFIF\x00"), "this is a JPEG image, not a .tflite model"},
		{"gif", []byte("GIF89a\x01\x00\x01\x00"), "this is a GIF image, not a .tflite model"},
		{"zip", []byte("PK\x03\x04\x14\x00\x00\x00\x08\x00somefile.txt"), "this is a ZIP archive, not a .tflite model: unzip it first"},
		{"zipped tflite", []byte("PK\x03\x04\x14\x00\x00\x00\x08\x00model.tflite"), "this is a ZIP archive, not a .tflite model: unzip it: the .tflite model is inside"},
		{"keras archive", []byte("PK\x03\x04\x14\x00\x00\x00\x08\x00model.weights.h5"), "this is a Keras .keras archive, not a .tflite model: convert it to .tflite first"},
		{"hdf5", []byte("\x89HDF\r\n\x1a\n\x00\x00\x00\x00"), "this is a Keras .h5 (HDF5) file, not a .tflite model"},
		{"onnx", append([]byte("\x08\x07\x12\x07pytorch\x1a\x052.1.0"), make([]byte, 20)...), "this is an ONNX model, not a .tflite model"},
		{"saved_model.pb", []byte("\x08\x01\x12\xa0\x01\n\x9a\x01\n\x05serve\x12tensorflow Placeholder"), "this is a TensorFlow protobuf (SavedModel saved_model.pb or frozen graph), not a .tflite model"},
		{"html", []byte("<!DOCTYPE html><html><body>404</body></html>"), "this is an HTML page, not a .tflite model: the download saved a web page"},
		{"lfs pointer", []byte("version https://git-lfs.github.com/spec/v1\noid sha256:abc\nsize 123\n"), "this is a Git LFS pointer file, not a .tflite model: the model itself was not downloaded"},
		{"npy", []byte("\x93NUMPY\x01\x00v\x00{'descr': '<f4'"), "this is a NumPy .npy array, not a .tflite model"},
		{"empty", nil, "this is an empty file, not a .tflite model: the file holds no bytes: was the download complete? (0 bytes is too short for a FlatBuffer)"},
		{"text", []byte("hello, this is not a model at all"), `this is a text file, not a .tflite model (file identifier is "o, t", want "TFL3")`},
		{"unknown bytes", []byte{1, 2, 3, 4, 5, 6, 7, 8, 9}, `not a TensorFlow Lite model: file identifier is "\x05\x06\a\b", want "TFL3"`},
		{"truncated", good[:len(good)-40], "the file ends at byte "},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := tflite.Load(c.data)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v\ndoes not say %q", err, c.want)
			}
			if c.name != "truncated" && !errors.Is(err, tflite.ErrNotModel) {
				t.Fatalf("error %v does not match ErrNotModel", err)
			}
		})
	}
	// A truncation says how big the file is and how big it needs to be.
	cut := good[:len(good)/2]
	_, err := tflite.Load(cut)
	if err == nil || !strings.Contains(err.Error(), "it looks truncated (was the download complete?); malformed model: model.") {
		t.Fatalf("half a model: %v", err)
	}
	var n, need int
	if _, e := fmtSscanf(err.Error(), "the file ends at byte %d but the model needs %d", &n, &need); e != nil || n != len(cut) || need <= n || need > len(good) {
		t.Fatalf("half a model (%d of %d bytes): %v", len(cut), len(good), err)
	}
}

func TestSniffPath(t *testing.T) {
	dir := t.TempDir()
	if what, _ := tflite.SniffPath(dir); what != "a directory" {
		t.Fatalf("empty directory: %q", what)
	}
	writeFile(t, dir+"/saved_model.pb", []byte("\x08\x01"))
	if what, hint := tflite.SniffPath(dir); what != "a TensorFlow SavedModel directory" || !strings.Contains(hint, "from_saved_model") {
		t.Fatalf("SavedModel directory: %q, %q", what, hint)
	}
	writeFile(t, dir+"/x.png", []byte("\x89PNG\r\n\x1a\nrest"))
	if what, _ := tflite.SniffPath(dir + "/x.png"); what != "a PNG image" {
		t.Fatalf("png: %q", what)
	}
	writeFile(t, dir+"/m.tflite", mustSave(t, tinyModel(t)))
	if what, _ := tflite.SniffPath(dir + "/m.tflite"); what != "" {
		t.Fatalf("a model sniffed as %q", what)
	}
}

// TestDequantizeShape: DEQUANTIZE of a constant keeps its shape.
func TestDequantizeShape(t *testing.T) {
	b := modelbuild.New()
	w := b.Const("w16", fb.TensorTypeFLOAT16, []int32{2, 3}, make([]byte, 12))
	d := b.Tensor("w", fb.TensorTypeFLOAT32, 2, -1)
	x := b.Tensor("x", fb.TensorTypeFLOAT32, 1, 3)
	y := b.Tensor("y", fb.TensorTypeFLOAT32, 1, 2)
	b.Op(fb.BuiltinOperatorDEQUANTIZE, nil, []int32{w}, []int32{d})
	b.Op(fb.BuiltinOperatorFULLY_CONNECTED, &fb.FullyConnectedOptionsT{}, []int32{x, d, -1}, []int32{y})
	b.Inputs(x)
	b.Outputs(y)
	_, err := tflite.Load(b.Bytes())
	want := `subgraph 0, operator 0 (DEQUANTIZE): output "w" has shape [2 -1], its constant input "w16" has [2 3]`
	if err == nil || err.Error() != want {
		t.Fatalf("%v\nwant %s", err, want)
	}
}
