package convert

import (
	"context"
	"strings"
	"testing"

	"litequant/core/runtimetest"
	"litequant/core/samples"
	fb "litequant/core/schema/tflitefb"
	"litequant/core/tflite"
)

// TestTargetSQNRKeepsInt16Ops: operators --int16-ops names stay int16
// through the fallback's steps, beside those it makes int16 itself, and
// the model runs in the pinned runtime with the verification's figures.
func TestTargetSQNRKeepsInt16Ops(t *testing.T) {
	model := cancelNet()
	held := uniform(8, 2)
	req := Request{Model: model, Calib: []samples.File{npyFile(t, "calib.npy", uniform(32, 1))},
		Verify:  []samples.File{npyFile(t, "held.npy", held)},
		Options: Options{Mode: Int8, TargetSQNR: 30, Int16Ops: []string{"ya"}}}
	res, err := Convert(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	fr := res.Report.Fallback
	if fr == nil || !fr.Reached || strings.Join(fr.Int16Ops, ",") != "h" {
		t.Fatalf("fallback %+v, want reached with h made int16", fr)
	}
	m, err := tflite.Load(res.Model)
	if err != nil {
		t.Fatal(err)
	}
	types := map[string]fb.TensorType{}
	for _, tt := range m.Subgraphs[0].Tensors {
		types[tt.Name] = tt.Type
	}
	if types["ya_int16"] != fb.TensorTypeINT16 || types["h"] != fb.TensorTypeINT16 {
		t.Errorf("ya_int16 %s, h %s: want both INT16", tflite.TypeName(types["ya_int16"]), tflite.TypeName(types["h"]))
	}
	runtimetest.Require(t)
	fOut := runtimetest.RunBytes(t, model, held)
	qOut := runtimetest.RunBytes(t, res.Model, held)
	for k, o := range res.Report.Verification.Outputs {
		got := sqnrOf(t, fOut[k], qOut[k])
		if want := float64(o.Metrics.SQNR); got < 30 || got-want > 0.1 || want-got > 0.1 {
			t.Errorf("output %q: TensorFlow Lite %.2f dB, verification %.2f dB", o.Name, got, want)
		}
	}
	t.Logf("steps %+v", fr.Steps)
}
