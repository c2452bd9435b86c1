package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"litequant/core/fixtures"
	"litequant/core/inspect"
)

// runCLI runs one command line and returns its exit status and output.
func runCLI(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	status := run(args, &stdout, &stderr)
	return status, stdout.String(), stderr.String()
}

func TestInspectJSONKnownModels(t *testing.T) {
	type io struct {
		Name  string
		Type  string
		Shape []int32
	}
	cases := []struct {
		file      string
		inputs    []io
		outputs   []io
		opCounts  map[string]int
		subgraphs int
	}{
		{"mobilenet_v1_0.25_224_float.tflite",
			[]io{{"input", "FLOAT32", []int32{1, 224, 224, 3}}},
			[]io{{"MobilenetV1/Predictions/Reshape_1", "FLOAT32", []int32{1, 1001}}},
			map[string]int{"AVERAGE_POOL_2D": 1, "CONV_2D": 15, "DEPTHWISE_CONV_2D": 13, "SOFTMAX": 1, "SQUEEZE": 1}, 1},
		{"hello_world_int8.tflite",
			[]io{{"serving_default_dense_input:0", "INT8", []int32{1, 1}}},
			[]io{{"StatefulPartitionedCall:0", "INT8", []int32{1, 1}}},
			map[string]int{"FULLY_CONNECTED": 3}, 1},
		{"single_select.tflite",
			nil, nil, map[string]int{"SELECT": 1}, 1},
		{"face_detection_short_range.tflite",
			[]io{{"input", "FLOAT32", []int32{1, 128, 128, 3}}}, nil,
			map[string]int{"ADD": 16, "CONCATENATION": 2, "CONV_2D": 21, "DEPTHWISE_CONV_2D": 16, "DEQUANTIZE": 74, "MAX_POOL_2D": 3, "PAD": 11, "RELU": 17, "RESHAPE": 4}, 1},
		{"iris_landmark.tflite", nil, nil,
			map[string]int{"ADD": 26, "CONV_2D": 55, "DEPTHWISE_CONV_2D": 26, "MAX_POOL_2D": 6, "PAD": 1, "PRELU": 53, "RESHAPE": 2}, 1},
		{"two_signatures.tflite", nil, nil, map[string]int{"ADD": 1, "MUL": 1}, 2},
		{"trained_lstm.tflite",
			[]io{{"serving_default_fixed_input:0", "FLOAT32", []int32{1, 28, 28}}}, nil,
			map[string]int{"FULLY_CONNECTED": 1, "RESHAPE": 1, "SOFTMAX": 1, "UNIDIRECTIONAL_SEQUENCE_LSTM": 1}, 1},
	}
	for _, c := range cases {
		t.Run(c.file, func(t *testing.T) {
			path := fixtures.Model(t, c.file)
			status, out, errOut := runCLI(t, "inspect", "--json", path)
			if status != 0 {
				t.Fatalf("exit %d: %s", status, errOut)
			}
			var s inspect.Summary
			if err := json.Unmarshal([]byte(out), &s); err != nil {
				t.Fatalf("output is not one JSON object: %v", err)
			}
			st, _ := os.Stat(path)
			if s.SizeBytes != int(st.Size()) {
				t.Errorf("size_bytes %d, want %d", s.SizeBytes, st.Size())
			}
			if len(s.Subgraphs) != c.subgraphs {
				t.Fatalf("%d subgraphs, want %d", len(s.Subgraphs), c.subgraphs)
			}
			if !reflect.DeepEqual(s.OpCounts, c.opCounts) {
				t.Errorf("op_counts %v, want %v", s.OpCounts, c.opCounts)
			}
			check := func(what string, got []inspect.IO, want []io) {
				if want == nil {
					return
				}
				if len(got) != len(want) {
					t.Fatalf("%d %s, want %d", len(got), what, len(want))
				}
				for i := range want {
					if got[i].Name != want[i].Name || got[i].Type != want[i].Type || !reflect.DeepEqual(got[i].Shape, want[i].Shape) {
						t.Errorf("%s %d: %s %s %v, want %s %s %v", what, i, got[i].Name, got[i].Type, got[i].Shape, want[i].Name, want[i].Type, want[i].Shape)
					}
				}
			}
			check("inputs", s.Subgraphs[0].Inputs, c.inputs)
			check("outputs", s.Subgraphs[0].Outputs, c.outputs)
			ops := 0
			for _, n := range s.Subgraphs[0].OpCounts {
				ops += n
			}
			if len(s.Subgraphs[0].Operators) != ops {
				t.Errorf("%d operators listed, op counts sum to %d", len(s.Subgraphs[0].Operators), ops)
			}
		})
	}
}

func TestInspectQuantizationAndSignatures(t *testing.T) {
	path := fixtures.Model(t, "hello_world_int8.tflite")
	_, out, _ := runCLI(t, "inspect", "--json", path)
	var s inspect.Summary
	if err := json.Unmarshal([]byte(out), &s); err != nil {
		t.Fatal(err)
	}
	in := s.Subgraphs[0].Inputs[0]
	if in.Quantization == nil || len(in.Quantization.Scale) != 1 || in.Quantization.ZeroPoint[0] != -128 {
		t.Errorf("input quantization %+v, want one scale with zero point -128", in.Quantization)
	}
	if s.QuantizedTensorCount == 0 || s.ConstantBytesByType["INT8"] == 0 {
		t.Errorf("quantized count %d, INT8 bytes %d", s.QuantizedTensorCount, s.ConstantBytesByType["INT8"])
	}

	path = fixtures.Model(t, "two_signatures.tflite")
	_, out, _ = runCLI(t, "inspect", "--json", path)
	s = inspect.Summary{}
	if err := json.Unmarshal([]byte(out), &s); err != nil {
		t.Fatal(err)
	}
	if len(s.Signatures) != 2 || s.Signatures[0].Key != "add" || s.Signatures[1].SubgraphIndex != 1 {
		t.Errorf("signatures %+v", s.Signatures)
	}
	var names []string
	for _, md := range s.Metadata {
		names = append(names, md.Name)
	}
	if !reflect.DeepEqual(names, []string{"min_runtime_version", "CONVERSION_METADATA"}) {
		t.Errorf("metadata %v", names)
	}
}

func TestInspectText(t *testing.T) {
	path := fixtures.Model(t, "mobilenet_v1_0.25_224_float.tflite")
	status, out, _ := runCLI(t, "inspect", path)
	if status != 0 {
		t.Fatal(status)
	}
	for _, want := range []string{"input  input", "FLOAT32  [1, 224, 224, 3]", "CONV_2D×15", "tensors: 88", "constant data: FLOAT32"} {
		if !strings.Contains(out, want) {
			t.Errorf("text output lacks %q:\n%s", want, out)
		}
	}
}

func TestInspectErrors(t *testing.T) {
	dir := t.TempDir()
	notModel := filepath.Join(dir, "notes.txt")
	os.WriteFile(notModel, []byte("hello, this is not a model at all"), 0o644)
	empty := filepath.Join(dir, "empty.tflite")
	os.WriteFile(empty, nil, 0o644)
	savedModel := filepath.Join(dir, "saved")
	os.Mkdir(savedModel, 0o755)
	os.WriteFile(filepath.Join(savedModel, "saved_model.pb"), []byte("\x08\x01"), 0o644)
	cases := []struct {
		args   []string
		status int
		want   string
	}{
		{[]string{"inspect", notModel}, 1, `this is a text file, not a .tflite model (file identifier is "o, t"`},
		{[]string{"inspect", empty}, 1, "too short"},
		{[]string{"inspect", savedModel}, 1, "this is a TensorFlow SavedModel directory, not a .tflite model: convert it"},
		{[]string{"inspect", filepath.Join(dir, "missing.tflite")}, 1, "no such file"},
		{[]string{"inspect"}, 2, "want one model file"},
		{[]string{"inspect", "--bogus", empty}, 2, "flag provided but not defined"},
		{[]string{"frobnicate"}, 2, "unknown command"},
	}
	for _, c := range cases {
		status, _, errOut := runCLI(t, c.args...)
		if status != c.status || !strings.Contains(errOut, c.want) {
			t.Errorf("%v: status %d, stderr %q; want %d and %q", c.args, status, errOut, c.status, c.want)
		}
		if c.status == 1 && strings.Count(strings.TrimSpace(errOut), "\n") != 0 {
			t.Errorf("%v: error is not one line: %q", c.args, errOut)
		}
	}
}
