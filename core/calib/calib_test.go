package calib

import (
	"context"
	"encoding/json"
	"errors"
	"math"
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
func (f floats) Source(i int) string { return "sample" }
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
	// Stats survive JSON (the browser caches them).
	data, _ := json.Marshal(st)
	var back Stats
	if err := json.Unmarshal(data, &back); err != nil {
		t.Fatal(err)
	}
	if lo, hi, ok := back.Range(0, 4); !ok || lo != -8 || hi != 8 {
		t.Errorf("after JSON: %v %v %v", lo, hi, ok)
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
