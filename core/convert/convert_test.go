package convert

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"math/rand/v2"
	"strings"
	"testing"

	"litequant/core/internal/calib"
	"litequant/core/modelbuild"
	"litequant/core/npy"
	"litequant/core/samples"
	fb "litequant/core/schema/tflitefb"
	"litequant/core/tflite"
)

// imageNet is x [1, 4, 4, 3] -> CONV_2D(2, 1x1) -> y: an image input.
func imageNet() []byte {
	f := fb.TensorTypeFLOAT32
	b := modelbuild.New()
	x := b.Tensor("x", f, 1, 4, 4, 3)
	w := b.ConstFloat32("w", []int32{2, 1, 1, 3}, []float32{0.5, -0.25, 1, 0.1, 0.2, -0.3})
	bias := b.ConstFloat32("b", []int32{2}, []float32{0.1, -0.1})
	y := b.Tensor("y", f, 1, 4, 4, 2)
	b.Op(fb.BuiltinOperatorCONV_2D, &fb.Conv2DOptionsT{Padding: fb.PaddingSAME, StrideW: 1, StrideH: 1, DilationWFactor: 1, DilationHFactor: 1}, []int32{x, w, bias}, []int32{y})
	b.Inputs(x)
	b.Outputs(y)
	return b.Bytes()
}

func npyFile(t *testing.T, name string, a *npy.Array) samples.File {
	t.Helper()
	var buf bytes.Buffer
	if err := npy.Write(&buf, a); err != nil {
		t.Fatal(err)
	}
	return samples.File{Name: name, Data: buf.Bytes()}
}

// pixels returns n random uint8 images of 4×4×3.
func pixels(t *testing.T, n int) samples.File {
	r := rand.New(rand.NewPCG(4, 5))
	v := make([]uint8, n*48)
	for i := range v {
		v[i] = uint8(r.IntN(256))
	}
	return npyFile(t, "pixels.npy", npy.FromUint8([]int{n, 4, 4, 3}, v))
}

func TestConvertFullInteger(t *testing.T) {
	model := imageNet()
	files := []samples.File{pixels(t, 12)}
	var phases []string
	req := Request{Model: model, Calib: files, Options: Options{Mode: "int8", CalibCount: 10},
		Progress: func(p Progress) {
			if len(phases) == 0 || phases[len(phases)-1] != p.Phase {
				phases = append(phases, p.Phase)
			}
		}}
	res, err := Convert(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(phases, ","); got != "reading,calibrating,quantizing,writing" {
		t.Errorf("phases %s", got)
	}
	rep := res.Report
	if rep.Mode != "int8" || rep.Calibration == nil || rep.Calibration.Samples != 10 || rep.Calibration.Cached ||
		rep.Quantize == nil || rep.Quantize.IntegerOps != 1 || res.Stats == nil || res.Stats.Samples != 10 {
		t.Fatalf("report %+v, stats %+v", rep, res.Stats)
	}
	// uint8 arrays for a FLOAT32 image input are pixels: normalised to
	// [-1, 1] by the default mean and std, not taken as 0..255.
	lo, hi, ok := res.Stats.Range(0, 0)
	if !ok || lo < -1 || hi > 1 || hi < 0.5 {
		t.Errorf("input range [%g, %g], want within [-1, 1]", lo, hi)
	}
	m, err := tflite.Load(res.Model)
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Subgraphs[0].Operators) != 3 {
		t.Errorf("%d operators", len(m.Subgraphs[0].Operators))
	}
	// The statistics round-trip through JSON (the browser caches them) and
	// give the same model without calibrating again.
	js, err := json.Marshal(res.Stats)
	if err != nil {
		t.Fatal(err)
	}
	var st calib.Stats
	if err := json.Unmarshal(js, &st); err != nil {
		t.Fatal(err)
	}
	phases = nil
	req.Stats = &st
	again, err := Convert(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(again.Model, res.Model) {
		t.Error("cached statistics gave another model")
	}
	if !again.Report.Calibration.Cached || strings.Contains(strings.Join(phases, ","), "calibrating") {
		t.Errorf("cached run: %+v, phases %v", again.Report.Calibration, phases)
	}
	// int16x8 with int16 I/O.
	req.Stats, req.Options = nil, Options{Mode: "int16x8", InputType: "int16", OutputType: "int16"}
	res16, err := Convert(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	m16, _ := tflite.Load(res16.Model)
	if sg := m16.Subgraphs[0]; sg.Tensors[sg.Inputs[0]].Type != fb.TensorTypeINT16 || len(sg.Operators) != 1 {
		t.Errorf("int16x8: input %s, %d operators", tflite.TypeName(sg.Tensors[sg.Inputs[0]].Type), len(sg.Operators))
	}
}

func TestConvertErrors(t *testing.T) {
	model := imageNet()
	files := []samples.File{pixels(t, 2)}
	cases := []struct {
		req  Request
		want string
	}{
		{Request{Model: model, Options: Options{Mode: "int8"}}, "--mode int8 needs calibration samples"},
		{Request{Model: model, Calib: files, Options: Options{Mode: "dynamic"}}, "takes no calibration samples"},
		{Request{Model: model, Options: Options{Mode: "float16", InputType: "int8"}}, "--input-type applies to the full-integer modes (int8, int16x8, uint8), not --mode float16"},
		{Request{Model: model, Options: Options{Mode: "dynamic", IntegerOnly: true, OutputType: "uint8"}}, "--output-type and --integer-only apply"},
		{Request{Model: model, Calib: files, Options: Options{Mode: "int8", InputType: "int16"}}, "--input-type int16 is not available with --mode int8"},
		{Request{Model: model, Calib: files, Options: Options{Mode: "int8", OutputType: "bf16"}}, `--output-type "bf16": want float32, int8, uint8 or int16`},
		{Request{Model: model, Calib: []samples.File{{Name: "x.npy", Data: []byte("nope")}}, Options: Options{Mode: "int8"}}, `x.npy: `},
		{Request{Model: model, Options: Options{Mode: "uint8"}}, "--mode uint8 needs calibration samples"},
		// Each bad --input-stats.
		{Request{Model: model, Calib: files, Options: Options{Mode: "uint8", InputStats: []string{"127.5,0"}}}, "--input-stats: STD must be positive, got 0"},
		{Request{Model: model, Calib: files, Options: Options{Mode: "uint8", InputStats: []string{"x=127.5,-1"}}}, `--input-stats for "x": STD must be positive, got -1`},
		{Request{Model: model, Calib: files, Options: Options{Mode: "uint8", InputStats: []string{"256,127.5"}}}, "--input-stats: MEAN 256 is outside [0, 255]"},
		{Request{Model: model, Calib: files, Options: Options{Mode: "uint8", InputStats: []string{"-1,127.5"}}}, "--input-stats: MEAN -1 is outside [0, 255]"},
		{Request{Model: model, Calib: files, Options: Options{Mode: "uint8", InputStats: []string{"image=127.5,127.5"}}}, `--input-stats: "image" is not a float input of the model (inputs: "x")`},
		{Request{Model: model, Calib: files, Options: Options{Mode: "uint8", InputStats: []string{"127.5,127.5", "0,1"}}}, `--input-stats: 2 given for 1 float model input(s) ("x")`},
		{Request{Model: model, Calib: files, Options: Options{Mode: "uint8", InputStats: []string{"127.5"}}}, `--input-stats "127.5": want MEAN,STD or NAME=MEAN,STD`},
		{Request{Model: model, Calib: files, Options: Options{Mode: "uint8", InputStats: []string{"a,1"}}}, `--input-stats "a,1": "a" is not a number`},
		{Request{Model: model, Calib: files, Options: Options{Mode: "uint8", InputStats: []string{"x=1,1", "1,1"}}}, "not a mix"},
		{Request{Model: model, Calib: files, Options: Options{Mode: "int8", InputStats: []string{"127.5,127.5"}}}, "--input-stats applies to --mode uint8, not --mode int8"},
		// --default-range.
		{Request{Model: model, Calib: files, Options: Options{Mode: "uint8", DefaultRange: "1"}}, `--default-range "1": want MIN,MAX`},
		{Request{Model: model, Calib: files, Options: Options{Mode: "uint8", DefaultRange: "2,1"}}, `MIN must not exceed MAX`},
		{Request{Model: model, Options: Options{Mode: "dynamic", DefaultRange: "0,1"}}, `--default-range applies to the full-integer modes`},
	}
	for _, c := range cases {
		_, err := Convert(context.Background(), c.req)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: got %v, want %q", c.req.Options, err, c.want)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Convert(ctx, Request{Model: model, Calib: files, Options: Options{Mode: "int8"}}); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}
}
