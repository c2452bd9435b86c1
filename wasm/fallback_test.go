//go:build js && wasm

package main

import (
	"bytes"
	"encoding/json"
	"syscall/js"
	"testing"

	"litequant/core/convert"
)

// TestFloatOpsReuseCalibration: the page's "quantize again" with
// float_ops (and no target) reuses the cached calibration statistics: no
// calibration pass, and the native converter's model.
func TestFloatOpsReuseCalibration(t *testing.T) {
	_, api := testAPI(t, nil)
	model, files := exampleFiles(t)
	first, err := quantizeJS(t, api, model, files, `{"mode":"int8","verify_split":0.25,"target_sqnr":60}`, js.Undefined())
	if err != nil {
		t.Fatal(err)
	}
	var rep convert.Report
	if err := json.Unmarshal([]byte(first.Get("reportJSON").String()), &rep); err != nil {
		t.Fatal(err)
	}
	if rep.Fallback == nil || rep.Verification == nil {
		t.Fatalf("no fallback or verification section: %+v", rep)
	}
	// Every operator on an integer kernel after the first run goes float.
	var ops []string
	for _, l := range rep.Verification.Layers {
		if l.Type != "FLOAT32" && l.Operator != "QUANTIZE" {
			ops = append(ops, l.Name)
		}
	}
	if len(ops) == 0 {
		t.Fatalf("no integer operator left: %+v", rep.Verification.Layers)
	}
	phases := map[string]int{}
	progress := js.FuncOf(func(_ js.Value, args []js.Value) any {
		phases[args[0].Get("phase").String()]++
		return nil
	})
	defer progress.Release()
	o := convert.Options{Mode: convert.Int8, VerifySplit: 0.25, FloatOps: ops[:1]}
	optJSON, _ := json.Marshal(o)
	second, err := quantizeJS(t, api, model, files, string(optJSON), progress.Value)
	if err != nil {
		t.Fatal(err)
	}
	if c := second.Get("cached").String(); c != "calibration" || phases["calibrating"] != 0 {
		t.Errorf("cached=%q, %d calibration progress calls: want the statistics reused", c, phases["calibrating"])
	}
	if !bytes.Equal(modelOf(t, second), native(t, model, files, o)) {
		t.Error("the float_ops result differs from convert.Convert's")
	}
}
