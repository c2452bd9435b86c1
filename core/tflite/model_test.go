package tflite_test

import (
	"bytes"
	"encoding/binary"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"litequant/core/fixtures"
	"litequant/core/modelbuild"
	fb "litequant/core/schema/tflitefb"
	"litequant/core/tflite"
)

// tinyModel is FULLY_CONNECTED with constant weights and bias, an ADD with a
// constant, a custom op and metadata: enough structure for malformed-file
// tests.
func tinyModel(t testing.TB) *tflite.Model {
	t.Helper()
	b := modelbuild.New()
	x := b.Tensor("x", fb.TensorTypeFLOAT32, 1, 4)
	w := b.ConstFloat32("w", []int32{3, 4}, []float32{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12})
	bias := b.ConstFloat32("b", []int32{3}, []float32{0.5, -0.5, 1})
	h := b.Tensor("h", fb.TensorTypeFLOAT32, 1, 3)
	c := b.ConstFloat32("c", []int32{1, 3}, []float32{1, 1, 1})
	y := b.Tensor("y", fb.TensorTypeFLOAT32, 1, 3)
	b.Op(fb.BuiltinOperatorFULLY_CONNECTED, &fb.FullyConnectedOptionsT{FusedActivationFunction: fb.ActivationFunctionTypeRELU}, []int32{x, w, bias}, []int32{h})
	b.Op(fb.BuiltinOperatorADD, &fb.AddOptionsT{PotScaleInt16: true}, []int32{h, c}, []int32{y})
	b.Inputs(x)
	b.Outputs(y)
	m := b.Model()
	m.Buffers = append(m.Buffers, &fb.BufferT{Data: []byte("1.5.0\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00")})
	m.Metadata = []*fb.MetadataT{{Name: "min_runtime_version", Buffer: uint32(len(m.Buffers) - 1)}}
	m.SignatureDefs = []*fb.SignatureDefT{{SignatureKey: "serving_default",
		Inputs: []*fb.TensorMapT{{Name: "x", TensorIndex: uint32(x)}}, Outputs: []*fb.TensorMapT{{Name: "y", TensorIndex: uint32(y)}}}}
	return m
}

func mustSave(t testing.TB, m *tflite.Model) []byte {
	t.Helper()
	out, err := m.Save()
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// roundTrip checks load → save → load gives an equal model, that saving is
// deterministic and that buffer data is 16-byte aligned.
func roundTrip(t *testing.T, data []byte) []byte {
	t.Helper()
	m1, err := tflite.Load(data)
	if err != nil {
		t.Fatal(err)
	}
	out := mustSave(t, m1)
	m2, err := tflite.Load(out)
	if err != nil {
		t.Fatalf("reloading saved model: %v", err)
	}
	if !reflect.DeepEqual(m1, m2) {
		t.Fatalf("model changed in a round trip:\n%s", firstDifference(m1, m2))
	}
	if again := mustSave(t, m2); !bytes.Equal(out, again) {
		t.Fatal("saving the same model twice gave different bytes")
	}
	checkAlignment(t, out)
	return out
}

// checkAlignment requires every buffer's data to start at a multiple of 16
// in the file.
func checkAlignment(t *testing.T, file []byte) {
	t.Helper()
	root := fb.GetRootAsModel(file, 0)
	var buf fb.Buffer
	for i := 0; i < root.BuffersLength(); i++ {
		root.Buffers(&buf, i)
		data := buf.DataBytes()
		if len(data) == 0 {
			continue
		}
		// data is a subslice of file: its offset is the difference of caps.
		if off := cap(file) - cap(data); off%16 != 0 {
			t.Errorf("buffer %d data at file offset %d, not 16-byte aligned", i, off)
		}
	}
	if string(file[4:8]) != "TFL3" {
		t.Errorf("identifier %q", file[4:8])
	}
}

// firstDifference describes where two models differ, for failure messages.
func firstDifference(a, b *tflite.Model) string {
	va, vb := reflect.ValueOf(a).Elem(), reflect.ValueOf(b).Elem()
	return diff("model", va, vb)
}

func diff(path string, a, b reflect.Value) string {
	if a.Kind() != b.Kind() {
		return path + ": kinds differ"
	}
	switch a.Kind() {
	case reflect.Pointer, reflect.Interface:
		if a.IsNil() || b.IsNil() {
			if a.IsNil() != b.IsNil() {
				return path + ": nil vs non-nil"
			}
			return ""
		}
		return diff(path, a.Elem(), b.Elem())
	case reflect.Struct:
		for i := 0; i < a.NumField(); i++ {
			if d := diff(path+"."+a.Type().Field(i).Name, a.Field(i), b.Field(i)); d != "" {
				return d
			}
		}
	case reflect.Slice:
		if a.Len() != b.Len() || a.IsNil() != b.IsNil() {
			return path + ": lengths or nil-ness differ"
		}
		for i := 0; i < a.Len(); i++ {
			if d := diff(path+"["+itoa(i)+"]", a.Index(i), b.Index(i)); d != "" {
				return d
			}
		}
	default:
		if !reflect.DeepEqual(a.Interface(), b.Interface()) {
			return path + ": values differ"
		}
	}
	return ""
}

func itoa(i int) string { return strconv.Itoa(i) }

func TestRoundTripBuiltModel(t *testing.T) {
	roundTrip(t, mustSave(t, tinyModel(t)))
}

func TestRoundTripSharedModels(t *testing.T) {
	for _, path := range fixtures.Models(t) {
		t.Run(filepath.Base(path), func(t *testing.T) {
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			roundTrip(t, data)
		})
	}
}

func TestOpcodeCodes(t *testing.T) {
	m := tinyModel(t)
	// A code above 127 lives only in builtin_code; the deprecated byte holds
	// the placeholder 127.
	m.OperatorCodes = append(m.OperatorCodes, &fb.OperatorCodeT{BuiltinCode: fb.BuiltinOperatorBROADCAST_TO, Version: 2})
	out := mustSave(t, m)
	root := fb.GetRootAsModel(out, 0)
	var oc fb.OperatorCode
	for i := 0; i < root.OperatorCodesLength(); i++ {
		root.OperatorCodes(&oc, i)
		want := min(int8(127), int8(min(oc.BuiltinCode(), 127)))
		if oc.DeprecatedBuiltinCode() != want {
			t.Errorf("opcode %d (%d): deprecated_builtin_code %d, want %d", i, oc.BuiltinCode(), oc.DeprecatedBuiltinCode(), want)
		}
	}
	// An old-style file: builtin_code 0, the real code in the deprecated byte.
	old := tinyModel(t)
	old.OperatorCodes[0].BuiltinCode = 0
	old.OperatorCodes[0].DeprecatedBuiltinCode = int8(fb.BuiltinOperatorFULLY_CONNECTED)
	raw := packRaw(old)
	m2, err := tflite.Load(raw)
	if err != nil {
		t.Fatal(err)
	}
	if got := m2.OperatorCodes[0].BuiltinCode; got != fb.BuiltinOperatorFULLY_CONNECTED {
		t.Errorf("old-style opcode read as %v, want FULLY_CONNECTED", got)
	}
}

// packRaw serializes with the generated object API only (no normalization),
// to make files the way other writers might.
func packRaw(m *tflite.Model) []byte {
	b := flatbuffersBuilder()
	b.FinishWithFileIdentifier(m.ModelT.Pack(b), []byte("TFL3"))
	return b.FinishedBytes()
}

func TestExternalData(t *testing.T) {
	m, err := tflite.Load(mustSave(t, tinyModel(t)))
	if err != nil {
		t.Fatal(err)
	}
	m.ExternalData = true
	m.Subgraphs[0].Operators[1].CustomOptions = []byte{1, 2, 3}
	out := mustSave(t, m)
	// The FlatBuffer itself holds no data bytes; offsets point past it.
	root := fb.GetRootAsModel(out, 0)
	var buf fb.Buffer
	external := 0
	for i := 0; i < root.BuffersLength(); i++ {
		root.Buffers(&buf, i)
		if len(buf.DataBytes()) != 0 {
			t.Errorf("buffer %d has inline data in external layout", i)
		}
		if buf.Offset() > 1 {
			external++
			if buf.Offset()%16 != 0 {
				t.Errorf("buffer %d external offset %d not aligned", i, buf.Offset())
			}
		}
	}
	if external != 4 {
		t.Errorf("%d external buffers, want 4", external)
	}
	m2, err := tflite.Load(out)
	if err != nil {
		t.Fatal(err)
	}
	if !m2.ExternalData || !reflect.DeepEqual(m, m2) {
		t.Fatalf("external round trip differs: %s", firstDifference(m, m2))
	}
	// Past the end: truncate the file inside the external area.
	if _, err := tflite.Load(out[:len(out)-8]); err == nil || !strings.Contains(err.Error(), "past the end") {
		t.Errorf("truncated external data: got %v", err)
	}
}

func TestMalformed(t *testing.T) {
	good := mustSave(t, tinyModel(t))
	edit := func(f func(m *tflite.Model)) []byte {
		m := tinyModel(t)
		f(m)
		return packRaw(m)
	}
	cases := []struct {
		name string
		data []byte
		want string
	}{
		{"empty", nil, "too short"},
		{"seven bytes", good[:7], "too short"},
		{"wrong identifier", append(append([]byte{}, good[:4]...), append([]byte("ABCD"), good[8:]...)...), `file identifier is "ABCD"`},
		{"truncated", good[:len(good)/2], "malformed model"},
		{"root offset past end", patchU32(good, 0, uint32(len(good)+100)), "malformed model"},
		{"tensor buffer index", edit(func(m *tflite.Model) { m.Subgraphs[0].Tensors[1].Buffer = 99 }), `subgraph 0, tensor 1 ("w"): buffer index 99 out of range`},
		{"opcode index", edit(func(m *tflite.Model) { m.Subgraphs[0].Operators[1].OpcodeIndex = 7 }), "subgraph 0, operator 1: opcode index 7 out of range"},
		{"operator input", edit(func(m *tflite.Model) { m.Subgraphs[0].Operators[0].Inputs[1] = 40 }), "subgraph 0, operator 0 (FULLY_CONNECTED): input 1 is tensor 40, out of range"},
		{"operator output -1", edit(func(m *tflite.Model) { m.Subgraphs[0].Operators[1].Outputs[0] = -1 }), "subgraph 0, operator 1 (ADD): output 0 is tensor -1"},
		{"subgraph input", edit(func(m *tflite.Model) { m.Subgraphs[0].Inputs[0] = 12 }), "subgraph 0: input 0 is tensor 12, out of range"},
		{"subgraph output", edit(func(m *tflite.Model) { m.Subgraphs[0].Outputs[0] = -3 }), "subgraph 0: output 0 is tensor -3"},
		{"signature subgraph", edit(func(m *tflite.Model) { m.SignatureDefs[0].SubgraphIndex = 3 }), `signature 0 ("serving_default"): subgraph index 3 out of range`},
		{"signature tensor", edit(func(m *tflite.Model) { m.SignatureDefs[0].Outputs[0].TensorIndex = 30 }), `signature 0 ("serving_default"): output "y" is tensor 30, out of range`},
		{"metadata buffer", edit(func(m *tflite.Model) { m.Metadata[0].Buffer = 50 }), `metadata 0 ("min_runtime_version"): buffer index 50 out of range`},
		{"constant size", edit(func(m *tflite.Model) { m.Subgraphs[0].Tensors[1].Shape = []int32{4, 4} }), `subgraph 0, tensor 1 ("w"): buffer 1 holds 48 bytes, but shape [4 4] of FLOAT32 needs 64`},
		{"negative constant dim", edit(func(m *tflite.Model) { m.Subgraphs[0].Tensors[2].Shape = []int32{-3} }), `tensor 2 ("b"): constant tensor has a negative dimension`},
		{"no subgraphs", edit(func(m *tflite.Model) { m.Subgraphs = nil }), "no subgraphs"},
		{"control-flow subgraph", edit(func(m *tflite.Model) {
			m.Subgraphs[0].Operators[1].BuiltinOptions = &fb.BuiltinOptionsT{Type: fb.BuiltinOptionsWhileOptions, Value: &fb.WhileOptionsT{CondSubgraphIndex: 0, BodySubgraphIndex: 5}}
		}), "refers to subgraph 5, out of range"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := tflite.Load(c.data)
			if err == nil {
				t.Fatal("loaded without error")
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %q does not mention %q", err, c.want)
			}
		})
	}
}

func TestVectorLengthPastEnd(t *testing.T) {
	// Find the shape vector of a [5, 7] tensor and claim 2^30 elements.
	m := tinyModel(t)
	m.Subgraphs[0].Tensors = append(m.Subgraphs[0].Tensors, &fb.TensorT{Name: "z", Shape: []int32{5, 7}})
	good := mustSave(t, m)
	needle := make([]byte, 12)
	binary.LittleEndian.PutUint32(needle, 2)
	binary.LittleEndian.PutUint32(needle[4:], 5)
	binary.LittleEndian.PutUint32(needle[8:], 7)
	at := bytes.Index(good, needle)
	if at < 0 {
		t.Fatal("shape vector not found")
	}
	bad := patchU32(good, at, 1<<30)
	_, err := tflite.Load(bad)
	if err == nil || !strings.Contains(err.Error(), "tensors[6].shape: vector of 4-byte elements with length 1073741824 runs past the end") {
		t.Fatalf("huge vector length: got %v, want an error naming the shape vector", err)
	}
}

func TestTruncationsNeverPanic(t *testing.T) {
	good := mustSave(t, tinyModel(t))
	for n := 0; n < len(good); n++ {
		if _, err := tflite.Load(good[:n]); err == nil && n < len(good)-16 {
			t.Fatalf("prefix of %d/%d bytes loaded without error", n, len(good))
		}
	}
}

func patchU32(b []byte, at int, v uint32) []byte {
	out := append([]byte{}, b...)
	binary.LittleEndian.PutUint32(out[at:], v)
	return out
}
