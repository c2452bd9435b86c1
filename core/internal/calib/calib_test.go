package calib

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"testing"

	"litequant/core/modelbuild"
	fb "litequant/core/schema/tflitefb"
	"litequant/core/tflite"
)

// floats is a Source of float32 samples for a one-input model.
type floats struct {
	shape []int
	data  [][]float32
}

func (f floats) Len() int            { return len(f.data) }
func (f floats) Shapes(int) [][]int  { return [][]int{f.shape} }
func (f floats) Source(i int) string { return fmt.Sprintf("sample %d", i) }
func (f floats) SampleTo(i int, dst [][]byte) ([][]byte, error) {
	return [][]byte{modelbuild.Float32Bytes(f.data[i])}, nil
}

// addMul computes y = (x + c) * 2 with c = [1, -1, 0.5].
func addMul(t *testing.T) *tflite.Model {
	b := modelbuild.New()
	x := b.Tensor("x", fb.TensorTypeFLOAT32, 1, 3)
	c := b.ConstFloat32("c", []int32{1, 3}, []float32{1, -1, 0.5})
	two := b.ConstFloat32("two", []int32{1}, []float32{2})
	h := b.Tensor("h", fb.TensorTypeFLOAT32, 1, 3)
	y := b.Tensor("y", fb.TensorTypeFLOAT32, 1, 3)
	b.Op(fb.BuiltinOperatorADD, &fb.AddOptionsT{}, []int32{x, c}, []int32{h})
	b.Op(fb.BuiltinOperatorMUL, &fb.MulOptionsT{}, []int32{h, two}, []int32{y})
	b.Inputs(x)
	b.Outputs(y)
	m, err := tflite.Load(b.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestRanges(t *testing.T) {
	m := addMul(t)
	src := floats{[]int{1, 3}, [][]float32{{0, 0, 0}, {2, -3, 1}, {-1, 5, float32(math.Inf(1))}}}
	var progress []int
	st, err := Run(context.Background(), m, src, Options{Progress: func(done, total int) { progress = append(progress, done) }})
	if err != nil {
		t.Fatal(err)
	}
	if st.Samples != 3 || len(progress) != 3 || progress[2] != 3 {
		t.Errorf("samples %d, progress %v", st.Samples, progress)
	}
	want := map[int]TensorStats{
		0: {Min: -3, Max: 5, NonFinite: 1}, // x (the Inf is left out)
		3: {Min: -4, Max: 4, NonFinite: 1}, // h = x + c
		4: {Min: -8, Max: 8, NonFinite: 1}, // y = 2h
	}
	for idx, w := range want {
		ts := st.Subgraphs[0].Tensors[idx]
		if ts == nil || ts.Min != w.Min || ts.Max != w.Max || ts.NonFinite != w.NonFinite {
			t.Errorf("tensor %d: %+v, want %+v", idx, ts, w)
		}
	}
	if _, _, ok := st.Range(0, 1); ok {
		t.Error("constant tensor c has a recorded range")
	}
	// Each sample's largest finite magnitude: x = {0,0,0}, {2,-3,1},
	// {-1,5,Inf}; h = x + c; y = 2h.
	for idx, want := range map[int][]float32{0: {0, 3, 5}, 3: {1, 4, 4}, 4: {2, 8, 8}} {
		if got := st.SampleMax(0, idx); !slices.Equal(got, want) {
			t.Errorf("tensor %d: sample maxima %v, want %v", idx, got, want)
		}
	}
	if st.SampleName(1) != "sample 1" || st.SampleName(3) != "" {
		t.Errorf("sample names %q", st.SampleNames)
	}
	// Stats survive JSON (the browser caches them).
	data, _ := json.Marshal(st)
	var back Stats
	if err := json.Unmarshal(data, &back); err != nil {
		t.Fatal(err)
	}
	if got := back.SampleMax(0, 4); !slices.Equal(got, []float32{2, 8, 8}) {
		t.Errorf("after JSON: sample maxima %v", got)
	}
	if lo, hi, ok := back.Range(0, 4); !ok || lo != -8 || hi != 8 {
		t.Errorf("after JSON: %v %v %v", lo, hi, ok)
	}
}

// TestChannels checks the per-channel ranges of Options.Channels: each
// channel's own range for the input of a FULLY_CONNECTED, none for tensors
// no weight operator reads, none for a tensor that held non-finite values,
// and the ranges survive JSON.
func TestChannels(t *testing.T) {
	b := modelbuild.New()
	x := b.Tensor("x", fb.TensorTypeFLOAT32, 1, 3)
	c := b.ConstFloat32("c", []int32{1, 3}, []float32{1, -1, 0.5})
	h := b.Tensor("h", fb.TensorTypeFLOAT32, 1, 3)
	w := b.ConstFloat32("w", []int32{2, 3}, []float32{1, 2, 3, 4, 5, 6})
	y := b.Tensor("y", fb.TensorTypeFLOAT32, 1, 2)
	b.Op(fb.BuiltinOperatorADD, &fb.AddOptionsT{}, []int32{x, c}, []int32{h})
	b.Op(fb.BuiltinOperatorFULLY_CONNECTED, &fb.FullyConnectedOptionsT{}, []int32{h, w, -1}, []int32{y})
	b.Inputs(x)
	b.Outputs(y)
	m, err := tflite.Load(b.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	src := floats{[]int{1, 3}, [][]float32{{0, 1, 0}, {2, -3, -0.5}, {-1, 5, 0}}}
	st, err := Run(context.Background(), m, src, Options{Channels: true})
	if err != nil {
		t.Fatal(err)
	}
	data, _ := json.Marshal(st)
	var back Stats
	if err := json.Unmarshal(data, &back); err != nil {
		t.Fatal(err)
	}
	for _, s := range []*Stats{st, &back} {
		lo, hi, ok := s.ChannelRange(0, int(h)) // h = x + [1, -1, 0.5]
		if !ok || !slices.Equal(lo, []float32{0, -4, 0}) || !slices.Equal(hi, []float32{3, 4, 0.5}) {
			t.Errorf("h: %v %v %v", lo, hi, ok)
		}
	}
	for _, k := range []int32{x, c, y} {
		if _, _, ok := st.ChannelRange(0, int(k)); ok {
			t.Errorf("tensor %d, which no weight operator reads, has channel ranges", k)
		}
	}
	plain, err := Run(context.Background(), m, src, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, ok := plain.ChannelRange(0, int(h)); ok {
		t.Error("channel ranges without Options.Channels")
	}
	nan := floats{[]int{1, 3}, [][]float32{{0, 1, 2}, {0, 1, float32(math.NaN())}}}
	st, err = Run(context.Background(), m, nan, Options{Channels: true})
	if err != nil {
		t.Fatal(err)
	}
	if lo, hi, ok := st.ChannelRange(0, int(h)); ok {
		t.Errorf("h held NaN but has channel ranges %v %v", lo, hi)
	}
}

func TestCancelAndEmpty(t *testing.T) {
	m := addMul(t)
	ctx, cancel := context.WithCancel(context.Background())
	src := floats{[]int{1, 3}, [][]float32{{1, 2, 3}, {1, 2, 3}}}
	_, err := Run(ctx, m, src, Options{Progress: func(done, total int) { cancel() }})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled run: %v", err)
	}
	if _, err := Run(context.Background(), m, floats{}, Options{}); err == nil {
		t.Error("empty source accepted")
	}
}

// Patch statistics: the input windows a 2×2 VALID convolution's weights
// see on a 3×3 image holding 1..9 are [1 2 4 5], [2 3 5 6], [4 5 7 8] and
// [5 6 8 9]; a depthwise convolution sees the same per channel; a fully
// connected layer sees its input rows.
func TestPatches(t *testing.T) {
	f := fb.TensorTypeFLOAT32
	b := modelbuild.New()
	x := b.Tensor("x", f, 1, 3, 3, 2)
	cw := b.ConstFloat32("cw", []int32{1, 2, 2, 2}, make([]float32, 8))
	c := b.Tensor("c", f, 1, 2, 2, 1)
	b.Op(fb.BuiltinOperatorCONV_2D, &fb.Conv2DOptionsT{Padding: fb.PaddingVALID, StrideW: 1, StrideH: 1, DilationWFactor: 1, DilationHFactor: 1}, []int32{x, cw, -1}, []int32{c})
	dw := b.ConstFloat32("dw", []int32{1, 2, 2, 4}, make([]float32, 16))
	d := b.Tensor("d", f, 1, 2, 2, 4)
	b.Op(fb.BuiltinOperatorDEPTHWISE_CONV_2D, &fb.DepthwiseConv2DOptionsT{Padding: fb.PaddingVALID, StrideW: 1, StrideH: 1, DepthMultiplier: 2, DilationWFactor: 1, DilationHFactor: 1}, []int32{x, dw, -1}, []int32{d})
	r := b.Tensor("r", f, 4, 4)
	shape := b.ConstInt32("shape", []int32{2}, []int32{4, 4})
	b.Op(fb.BuiltinOperatorRESHAPE, nil, []int32{d, shape}, []int32{r})
	fw := b.ConstFloat32("fw", []int32{3, 4}, make([]float32, 12))
	y := b.Tensor("y", f, 4, 3)
	b.Op(fb.BuiltinOperatorFULLY_CONNECTED, &fb.FullyConnectedOptionsT{}, []int32{r, fw, -1}, []int32{y})
	b.Inputs(x)
	b.Outputs(c, y)
	m, err := tflite.Load(b.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	// Channel 0 holds 1..9, channel 1 holds 10 times that.
	img := make([]float32, 18)
	for i := 0; i < 9; i++ {
		img[2*i], img[2*i+1] = float32(i+1), float32(10*(i+1))
	}
	st, err := Run(context.Background(), m, floats{[]int{1, 3, 3, 2}, [][]float32{img}}, Options{Patches: true})
	if err != nil {
		t.Fatal(err)
	}
	conv, dwise, fc := st.Patch(0, 0), st.Patch(0, 1), st.Patch(0, 3)
	if conv == nil || dwise == nil || fc == nil || st.Patch(0, 2) != nil {
		t.Fatalf("patches: %v %v %v", conv, dwise, fc)
	}
	// CONV_2D: patch layout [kh, kw, in]: (1, 10, 2, 20, 4, 40, 5, 50) first.
	if conv.Dims != 8 || conv.Groups != 1 || conv.Patches != 4 || !conv.HasMoment() {
		t.Fatalf("conv: %+v", conv)
	}
	wantMean := []float64{3, 30, 4, 40, 6, 60, 7, 70}
	for i, v := range wantMean {
		if conv.Mean[i] != v {
			t.Errorf("conv mean[%d] = %g, want %g", i, conv.Mean[i], v)
		}
	}
	// E[x0·x0] = (1+4+16+25)/4; E[x0·x7] = (1·50+2·60+4·80+5·90)/4.
	if conv.At(0, 0, 0) != 11.5 || conv.At(0, 0, 7) != 235 || conv.At(0, 7, 0) != 235 {
		t.Errorf("conv moments %g %g", conv.At(0, 0, 0), conv.At(0, 0, 7))
	}
	// DEPTHWISE_CONV_2D: per input channel, windows of 4.
	if dwise.Dims != 4 || dwise.Groups != 2 || dwise.Mean[0] != 3 || dwise.Mean[4] != 30 || dwise.At(1, 0, 3) != 100*(1*5+2*6+4*8+5*9)/4.0 {
		t.Errorf("depthwise: %+v (At(1,0,3) = %g)", dwise, dwise.At(1, 0, 3))
	}
	if fc.Dims != 4 || fc.Patches != 4 {
		t.Errorf("fc: %+v", fc)
	}
	// JSON round trip (the browser caches statistics).
	js, err := json.Marshal(st)
	if err != nil {
		t.Fatal(err)
	}
	var back Stats
	if err := json.Unmarshal(js, &back); err != nil {
		t.Fatal(err)
	}
	if p := back.Patch(0, 0); p == nil || p.At(0, 0, 7) != 235 || p.Mean[1] != 30 {
		t.Errorf("after JSON: %+v", p)
	}
	// Without Options.Patches there are none.
	st, _ = Run(context.Background(), m, floats{[]int{1, 3, 3, 2}, [][]float32{img}}, Options{})
	if st.Patch(0, 0) != nil {
		t.Error("patches recorded without Options.Patches")
	}
}
