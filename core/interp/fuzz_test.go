package interp_test

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"litequant/core/fixtures"
	"litequant/core/interp"
	"litequant/core/modelbuild"
	fb "litequant/core/schema/tflitefb"
	"litequant/core/tflite"
)

// FuzzRun runs the interpreter on mutated models and inputs, with a 64 MiB
// memory limit: New and Invoke must return an error or run, never panic
// (an ErrInternal error is a recovered panic: a bug) or hang, and an
// interpreter that failed once must run again. The input bytes fill every
// model input in turn. Seeds: small built models and the ../shared models
// up to 64 KiB (read at test time); crashers found are kept under
// testdata/fuzz.
func FuzzRun(f *testing.F) {
	in := make([]byte, 256)
	for i := range in {
		in[i] = byte(i * 37)
	}
	for _, m := range fuzzBuiltModels() {
		f.Add(m, in)
	}
	if dir, ok := fixtures.SharedDir(); ok {
		paths, _ := filepath.Glob(filepath.Join(dir, "models", "*.tflite"))
		for _, p := range paths {
			if st, err := os.Stat(p); err == nil && st.Size() <= 64<<10 {
				if b, err := os.ReadFile(p); err == nil {
					f.Add(b, in)
				}
			}
		}
	}
	f.Fuzz(func(t *testing.T, model, input []byte) {
		dog := time.AfterFunc(30*time.Second, func() { panic("hang: one FuzzRun case ran longer than 30s") })
		defer dog.Stop()
		m, err := tflite.Load(model)
		if err != nil {
			return
		}
		it, err := interp.New(m, interp.Options{MaxMemory: 64 << 20})
		if err != nil {
			if errors.Is(err, interp.ErrInternal) {
				var pe *interp.PanicError
				errors.As(err, &pe)
				t.Fatalf("New: %v\n%s", err, pe.Stack)
			}
			return
		}
		for i := 0; i < it.NumInputs(); i++ {
			d := it.Input(i).Data
			for j := range d {
				if len(input) > 0 {
					d[j] = input[(i*131+j)%len(input)]
				}
			}
		}
		for run := 0; run < 2; run++ {
			if err := it.Invoke(); errors.Is(err, interp.ErrInternal) {
				var pe *interp.PanicError
				errors.As(err, &pe)
				t.Fatalf("Invoke %d: %v\n%s", run, err, pe.Stack)
			}
		}
	})
}

// fuzzBuiltModels are seeds made in code: a float chain and a quantized
// one.
func fuzzBuiltModels() [][]byte {
	f := fb.TensorTypeFLOAT32
	b := modelbuild.New()
	x := b.Tensor("x", f, 1, 4, 4, 2)
	w := b.ConstFloat32("w", []int32{3, 2, 2, 2}, []float32{1, -1, 0.5, 2, 0, 1, -2, 1, 1, 1, 1, 1, 0.25, -0.5, 3, 1, 2, 0, 1, -1, 1, 2, 0, 1})
	bias := b.ConstFloat32("b", []int32{3}, []float32{0.1, 0, -0.1})
	c := b.Tensor("c", f, 1, 4, 4, 3)
	p := b.Tensor("p", f, 1, 2, 2, 3)
	r := b.Tensor("r", f, 1, 12)
	y := b.Tensor("y", f, 1, 12)
	b.Op(fb.BuiltinOperatorCONV_2D, &fb.Conv2DOptionsT{Padding: fb.PaddingSAME, StrideW: 1, StrideH: 1, DilationWFactor: 1, DilationHFactor: 1, FusedActivationFunction: fb.ActivationFunctionTypeRELU}, []int32{x, w, bias}, []int32{c})
	b.Op(fb.BuiltinOperatorMAX_POOL_2D, &fb.Pool2DOptionsT{Padding: fb.PaddingVALID, StrideW: 2, StrideH: 2, FilterWidth: 2, FilterHeight: 2}, []int32{c}, []int32{p})
	b.Op(fb.BuiltinOperatorRESHAPE, nil, []int32{p, b.ConstInt32("shape", []int32{2}, []int32{1, 12})}, []int32{r})
	b.Op(fb.BuiltinOperatorSOFTMAX, &fb.SoftmaxOptionsT{Beta: 1}, []int32{r}, []int32{y})
	b.Inputs(x)
	b.Outputs(y)
	float := b.Bytes()

	q := modelbuild.New()
	i8 := fb.TensorTypeINT8
	qx := q.Tensor("x", i8, 1, 8)
	q.Quantize(qx, []float32{0.05}, []int64{-3}, 0)
	qw := q.Const("w", i8, []int32{4, 8}, []byte{1, 2, 3, 4, 5, 6, 7, 8, 255, 254, 253, 252, 9, 10, 11, 12, 0, 0, 1, 1, 2, 2, 3, 3, 127, 128, 1, 2, 3, 4, 5, 6})
	q.Quantize(qw, []float32{0.01, 0.02, 0.03, 0.04}, []int64{0, 0, 0, 0}, 0)
	qy := q.Tensor("y", i8, 1, 4)
	q.Quantize(qy, []float32{0.1}, []int64{5}, 0)
	qs := q.Tensor("s", i8, 1, 4)
	q.Quantize(qs, []float32{1.0 / 256}, []int64{-128}, 0)
	q.Op(fb.BuiltinOperatorFULLY_CONNECTED, &fb.FullyConnectedOptionsT{}, []int32{qx, qw, -1}, []int32{qy})
	q.Op(fb.BuiltinOperatorSOFTMAX, &fb.SoftmaxOptionsT{Beta: 1}, []int32{qy}, []int32{qs})
	q.Inputs(qx)
	q.Outputs(qs)
	return [][]byte{float, q.Bytes()}
}
