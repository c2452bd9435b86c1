package interp_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"litequant/core/convert"
	"litequant/core/fixtures"
	"litequant/core/interp"
	"litequant/core/npy"
	"litequant/core/runtimetest"
	"litequant/core/samples"
	fb "litequant/core/schema/tflitefb"
	"litequant/core/tflite"
)

// Whole quantized models in the Go interpreter and the real runtime on the
// same inputs: every float model in ../shared quantized by litequant in
// each integer mode, and TensorFlow's own quantized models. Integer
// outputs must be equal element for element, float outputs within 1e-5
// relative L2 error. When an output differs, the test runs both interpreters once
// more with every activation as an output and names the first operator
// whose result differs.
//
// (An external test package: core/convert imports core/interp.)

// qmModes are the conversions applied to every float model: the three
// integer modes, and int8 with int8 inputs and outputs ("int8-io", whose
// graph starts without a QUANTIZE).
var qmModes = []string{"int8", "int8-io", "int16x8", "uint8"}

// qmTFModels are TensorFlow's quantized models in ../shared/models.
var qmTFModels = []string{
	"mobilenet_v1_0.25_224_quant_uint8.tflite",
	"mobilenet_v2_1.0_224_quant_uint8.tflite",
	"mnist_quantized.tflite",
	"micro_speech_quantized.tflite",
	"hello_world_int8.tflite",
	"conv_fc_mnist_srq_a8w8.tflite",
	"partly_quantized_mnist.tflite",
	"trained_lstm_int8.tflite",
}

// qmSamples is the number of test inputs per model; qmCalib the number of
// calibration samples (as scripts/golden uses).
const (
	qmSamples  = 3
	qmCalib    = 8
	qmFloatTol = 1e-5
)

type qmCase struct {
	name  string
	base  string // the model file, for fixtures.Samples' data pairing
	model []byte // nil: convert float with mode
	float []byte
	mode  string
}

func TestQuantizedModels(t *testing.T) {
	runtimetest.Require(t)
	for _, c := range qmCases(t) {
		if why, ok := qmKnown[c.name]; ok {
			t.Run(c.name, func(t *testing.T) { qmCompareKnown(t, qmModel(t, c), c.base, why) })
			continue
		}
		t.Run(c.name, func(t *testing.T) { qmCompare(t, qmModel(t, c), c.base) })
	}
}

// qmKnown are the cases where litequant's interpreter is not yet
// bit-exact with the runtime, with what differs. Each is still checked:
// integer outputs within 1 step of the runtime's, float outputs within 5%
// relative L2 — and the test fails once a case becomes exact, so the list
// stays true. "missing:" cases must fail to build naming the operator.
var qmKnown = map[string]string{
	// Empty: the requantizing QUANTIZE cases left when it took XNNPACK's
	// Q8 multiplier (kernels_int_requant.go), the int8 LSTM when it got its
	// kernel (kernels_int_lstm.go).
}

// qmCompareKnown checks a qmKnown case: close to the runtime but not
// exact, or, for a missing kernel, refused with the operator named.
func qmCompareKnown(t *testing.T, model []byte, base, why string) {
	t.Logf("known difference: %s", why)
	m, err := tflite.Load(model)
	if err != nil {
		t.Fatal(err)
	}
	if op, ok := strings.CutPrefix(why, "missing: "); ok {
		name := strings.Fields(op)[0]
		if _, err := interp.New(m, interp.Options{}); err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("want an error naming %s, got %v (a kernel now exists? then move the case out of qmKnown)", name, err)
		}
		return
	}
	ss, err := fixtures.Samples(m, base, qmSamples)
	if err != nil {
		t.Fatal(err)
	}
	res, err := runtimetest.RunModelBytes(context.Background(), model, fixtures.Stack(ss), runtimetest.Options{})
	if err != nil {
		t.Fatalf("real runtime: %v", err)
	}
	got, err := qmRunGo(m, ss, qmStateful(m))
	if err != nil {
		t.Fatalf("Go interpreter: %v", err)
	}
	exact := true
	for k, want := range res.Outputs {
		g, err := got[k].Float64s()
		if err != nil {
			t.Fatal(err)
		}
		w, _ := want.Float64s()
		var num, den, worst float64
		for i := range w {
			d := math.Abs(g[i] - w[i])
			num, den, worst = num+d*d, den+w[i]*w[i], max(worst, d)
		}
		exact = exact && num == 0
		switch {
		case want.DType.IsInteger() && worst > 1:
			t.Errorf("output %d: %g steps from the runtime, want at most 1", k, worst)
		case !want.DType.IsInteger() && den > 0 && math.Sqrt(num/den) > 0.05:
			t.Errorf("output %d: relative L2 %.3g from the runtime, want at most 0.05", k, math.Sqrt(num/den))
		}
	}
	if exact {
		t.Errorf("now bit-exact with the runtime: move the case out of qmKnown")
	}
}

// TestQuantizedModelPrefixes checks, for each model the Go interpreter
// cannot build whole (an operator without an integer kernel yet), the
// longest prefix of its operators that it can build: every activation
// of that prefix must match the runtime's as in TestQuantizedModels. So
// the operators before the first missing kernel are checked on real
// models too.
func TestQuantizedModelPrefixes(t *testing.T) {
	runtimetest.Require(t)
	for _, c := range qmCases(t) {
		t.Run(c.name, func(t *testing.T) {
			model := qmModel(t, c)
			m, err := tflite.Load(model)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := interp.New(m, interp.Options{}); err == nil {
				t.Skip("the Go interpreter builds the whole model: TestQuantizedModels checks it")
			}
			ss, err := fixtures.Samples(m, c.base, 1)
			if err != nil {
				t.Fatal(err)
			}
			prefix, kept, why := qmPrefix(t, m, ss[0])
			if kept == 0 {
				t.Skipf("no operator before the first one the Go interpreter cannot build: %v", why)
			}
			t.Logf("checking operators 0..%d of %d; operator %d: %v", kept-1, len(m.Subgraphs[0].Operators), kept, why)
			qmCompare(t, prefix, c.base)
		})
	}
}

// qmPrefix cuts m to its first operators up to the first one the Go
// interpreter cannot build or run (on sample s), with every activation
// they produce as an output; it returns the model, the number of
// operators kept and the error of the first dropped one.
func qmPrefix(t *testing.T, m *tflite.Model, s fixtures.Sample) ([]byte, int, error) {
	t.Helper()
	data, err := m.Save()
	if err != nil {
		t.Fatal(err)
	}
	opRe := regexp.MustCompile(`operator (\d+) \(`)
	var why error
	for {
		cut, err := tflite.Load(data)
		if err != nil {
			t.Fatal(err)
		}
		if _, err = qmRunGo(cut, []fixtures.Sample{s}, false); err == nil {
			return data, len(cut.Subgraphs[0].Operators), why
		}
		mm := opRe.FindStringSubmatch(err.Error())
		if mm == nil {
			t.Fatalf("cannot tell the failing operator: %v", err)
		}
		k, _ := strconv.Atoi(mm[1])
		if why == nil || k < len(cut.Subgraphs[0].Operators) {
			why = err
		}
		if k == 0 {
			return nil, 0, why
		}
		sg := cut.Subgraphs[0]
		sg.Operators = sg.Operators[:k]
		sg.Outputs = qmActivations(sg)
		if data, err = cut.Save(); err != nil {
			t.Fatal(err)
		}
	}
}

// qmActivations lists the tensors the operators produce whose type the
// runtime harness can exchange.
func qmActivations(sg *fb.SubGraphT) []int32 {
	var outs []int32
	seen := map[int32]bool{}
	for _, op := range sg.Operators {
		for _, o := range op.Outputs {
			tt := sg.Tensors[o]
			if seen[o] || samples.NPYType(tt.Type) == npy.InvalidDType || tt.Type == fb.TensorTypeINT64 {
				continue
			}
			seen[o] = true
			outs = append(outs, o)
		}
	}
	return outs
}

// qmCases lists every float model in each mode, then TensorFlow's
// quantized models.
func qmCases(t *testing.T) []qmCase {
	var cases []qmCase
	for _, path := range fixtures.Models(t) {
		base := filepath.Base(path)
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		m, err := tflite.Load(data)
		if err != nil {
			t.Fatalf("%s: %v", base, err)
		}
		if slices.Contains(qmTFModels, base) || !qmFloat(m) {
			continue
		}
		for _, mode := range qmModes {
			cases = append(cases, qmCase{name: base + "/" + mode, base: base, float: data, mode: mode})
		}
	}
	for _, name := range qmTFModels {
		data, err := os.ReadFile(fixtures.Model(t, name))
		if err != nil {
			t.Fatal(err)
		}
		cases = append(cases, qmCase{name: name, base: name, model: data})
	}
	return cases
}

// qmModel returns the case's quantized model, converting a float one.
func qmModel(t *testing.T, c qmCase) []byte {
	t.Helper()
	if c.model != nil {
		return c.model
	}
	model, err := qmConvert(c.float, c.base, c.mode)
	if err != nil {
		qmConvertFailed(t, c, err)
	}
	return model
}

// qmConvertFailed ends a case whose conversion failed: skipped when the
// converter found nothing to quantize in this mode (there is no quantized
// model to compare) or when the real runtime cannot run the float model
// either (single_slice's declared shapes, as in TestSharedFloatModels);
// failed otherwise.
func qmConvertFailed(t *testing.T, c qmCase, err error) {
	t.Helper()
	if errors.Is(err, convert.ErrNothingToDo) {
		t.Skipf("no %s model to compare: %v", c.mode, err)
	}
	m, lerr := tflite.Load(c.float)
	if lerr == nil {
		if ss, serr := fixtures.Samples(m, c.base, 1); serr == nil {
			if _, rerr := runtimetest.RunModelBytes(context.Background(), c.float, fixtures.Stack(ss), runtimetest.Options{}); rerr != nil {
				t.Skipf("the runtime rejects the float model too: %v; convert: %v", rerr, err)
			}
		}
	}
	t.Fatalf("convert: %v", err)
}

// qmFloat reports whether m is a float model: no activation of a
// quantized integer type.
func qmFloat(m *tflite.Model) bool {
	for _, t := range m.Subgraphs[0].Tensors {
		if len(m.TensorData(t)) > 0 {
			continue
		}
		switch t.Type {
		case fb.TensorTypeINT8, fb.TensorTypeUINT8, fb.TensorTypeINT16:
			return false
		}
	}
	return true
}

// qmConvert quantizes a float model with calibration samples from
// core/fixtures, given as one .npz archive (as scripts/golden does).
func qmConvert(data []byte, base, mode string) ([]byte, error) {
	m, err := tflite.Load(data)
	if err != nil {
		return nil, err
	}
	ss, err := fixtures.Samples(m, base, qmCalib)
	if err != nil {
		return nil, err
	}
	sg := m.Subgraphs[0]
	var ar npy.Archive
	for k, a := range fixtures.Stack(ss) {
		ar = append(ar, npy.NamedArray{Name: sg.Tensors[sg.Inputs[k]].Name, Array: a})
	}
	var buf bytes.Buffer
	if err := npy.WriteNPZ(&buf, ar); err != nil {
		return nil, err
	}
	res, err := convert.Convert(context.Background(), convert.Request{
		Model:   data,
		Calib:   []samples.File{{Name: "calib.npz", Data: buf.Bytes()}},
		Options: qmOptions(mode),
	})
	if err != nil {
		return nil, err
	}
	return res.Model, nil
}

// qmOptions returns the conversion options of a qmModes entry.
func qmOptions(mode string) convert.Options {
	if mode == "int8-io" {
		return convert.Options{Mode: "int8", InputType: "int8", OutputType: "int8"}
	}
	return convert.Options{Mode: convert.Mode(mode)}
}

// qmCompare runs model on qmSamples inputs in both interpreters and
// compares every output.
func qmCompare(t *testing.T, model []byte, base string) {
	t.Helper()
	m, err := tflite.Load(model)
	if err != nil {
		t.Fatal(err)
	}
	ss, err := fixtures.Samples(m, base, qmSamples)
	if err != nil {
		t.Fatal(err)
	}
	stacked := fixtures.Stack(ss)
	res, err := runtimetest.RunModelBytes(context.Background(), model, stacked, runtimetest.Options{})
	if err != nil {
		t.Fatalf("real runtime: %v", err)
	}
	got, err := qmRunGo(m, ss, qmStateful(m))
	if err != nil {
		t.Fatalf("Go interpreter: %v", err)
	}
	if len(got) != len(res.Outputs) {
		t.Fatalf("Go gave %d outputs, the runtime %d", len(got), len(res.Outputs))
	}
	failed := false
	for k, want := range res.Outputs {
		if msg := qmDiff(got[k], want); msg != "" {
			t.Errorf("output %d (%s): %s", k, want.DType, msg)
			failed = true
		}
	}
	if failed && !qmStateful(m) {
		found := false
		for _, s := range ss {
			if found = qmLocate(t, model, s); found {
				break
			}
		}
		if !found {
			t.Logf("locate: every activation agrees on each sample alone")
		}
	}
}

// qmStateful reports whether the primary subgraph has variable tensors.
func qmStateful(m *tflite.Model) bool {
	for _, t := range m.Subgraphs[0].Tensors {
		if t.IsVariable {
			return true
		}
	}
	return false
}

// qmRunGo runs the samples in the Go interpreter and stacks each output as
// the runtime harness does. A stateful model replays the harness's exact
// calls in one interpreter (a warm-up and a timed call on the first
// sample, then each sample); others get a fresh one per sample.
func qmRunGo(m *tflite.Model, ss []fixtures.Sample, stateful bool) ([]*npy.Array, error) {
	var it *interp.Interpreter
	newIt := func() error {
		var err error
		it, err = interp.New(m, interp.Options{})
		return err
	}
	run := func(s fixtures.Sample) error {
		for i, a := range s {
			if err := it.SetInput(i, a.Shape, a.Data); err != nil {
				return err
			}
		}
		return it.Invoke()
	}
	if err := newIt(); err != nil {
		return nil, err
	}
	if stateful {
		for range 2 {
			if err := run(ss[0]); err != nil {
				return nil, err
			}
		}
	}
	var outs []fixtures.Sample
	for i, s := range ss {
		if !stateful && i > 0 {
			if err := newIt(); err != nil {
				return nil, err
			}
		}
		if err := run(s); err != nil {
			return nil, err
		}
		var o fixtures.Sample
		for k := 0; k < it.NumOutputs(); k++ {
			a, err := qmArray(it.Output(k))
			if err != nil {
				return nil, fmt.Errorf("output %d: %v", k, err)
			}
			o = append(o, a)
		}
		outs = append(outs, o)
	}
	return fixtures.Stack(outs), nil
}

func qmArray(t *interp.Tensor) (*npy.Array, error) {
	dt := samples.NPYType(t.Type)
	if dt == npy.InvalidDType {
		return nil, fmt.Errorf("no .npy dtype for %s", tflite.TypeName(t.Type))
	}
	return &npy.Array{DType: dt, Shape: slices.Clone(t.Shape), Data: slices.Clone(t.Data)}, nil
}

// qmDiff describes how got differs from want, or "": integers must be
// equal element for element; floats within qmFloatTol relative L2 error
// (max abs error when the reference is all zeros), the project's measure
// for float outputs (compare_test.go), NaNs in the same places.
func qmDiff(got, want *npy.Array) string {
	if got.DType != want.DType {
		return fmt.Sprintf("dtype %s, runtime gives %s", got.DType, want.DType)
	}
	if got.NumElements() != want.NumElements() {
		return fmt.Sprintf("shape %v, runtime gives %v", got.Shape, want.Shape)
	}
	g, err := got.Float64s()
	if err != nil {
		return err.Error()
	}
	w, _ := want.Float64s()
	diff, worst, at := 0, 0.0, -1
	var num, den float64
	for i := range w {
		if math.IsNaN(g[i]) != math.IsNaN(w[i]) {
			return fmt.Sprintf("element %d: %g, runtime %g", i, g[i], w[i])
		}
		if math.IsNaN(w[i]) {
			continue
		}
		d := math.Abs(g[i] - w[i])
		num += d * d
		den += w[i] * w[i]
		if d != 0 {
			diff++
			if d > worst {
				worst, at = d, i
			}
		}
	}
	if diff == 0 {
		return ""
	}
	msg := fmt.Sprintf("%d of %d elements differ, by up to %g (element %d: %g, runtime %g)", diff, len(w), worst, at, g[at], w[at])
	if !want.DType.IsFloat() {
		return msg
	}
	if den == 0 {
		if worst <= qmFloatTol {
			return ""
		}
		return msg + " (reference all zeros)"
	}
	if rel := math.Sqrt(num / den); rel > qmFloatTol {
		return fmt.Sprintf("relative L2 error %.3g > %g; %s", rel, qmFloatTol, msg)
	}
	return ""
}

// qmLocate makes every activation of the primary subgraph an output, runs
// sample s in both interpreters and reports the first operator (in
// execution order) with an output that differs; it returns whether it
// found one (or could not run).
func qmLocate(t *testing.T, modelBytes []byte, s fixtures.Sample) bool {
	t.Helper()
	model, err := tflite.Load(modelBytes)
	if err != nil {
		t.Logf("locate: %v", err)
		return true
	}
	sg := model.Subgraphs[0]
	outs := qmActivations(sg)
	sg.Outputs = outs
	data, err := model.Save()
	if err != nil {
		t.Logf("locate: %v", err)
		return true
	}
	res, err := runtimetest.RunModelBytes(context.Background(), data, s, runtimetest.Options{})
	if err != nil {
		t.Logf("locate: real runtime: %v", err)
		return true
	}
	got, err := qmRunGo(model, []fixtures.Sample{s}, false)
	if err != nil {
		t.Logf("locate: Go interpreter: %v", err)
		return true
	}
	for oi, op := range sg.Operators {
		for _, o := range op.Outputs {
			k := slices.Index(outs, o)
			if k < 0 || k >= len(res.Outputs) {
				continue
			}
			if msg := qmDiff(got[k], res.Outputs[k]); msg != "" {
				t.Errorf("first difference: operator %d (%s), output tensor %d %q (%s): %s",
					oi, model.OpName(op), o, sg.Tensors[o].Name, tflite.TypeName(sg.Tensors[o].Type), msg)
				return true
			}
		}
	}
	return false
}
