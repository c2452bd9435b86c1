package interp

import (
	"math"
	"math/rand/v2"
	"testing"

	"litequant/core/modelbuild"
	"litequant/core/npy"
	fb "litequant/core/schema/tflitefb"
)

func fakeQuantModel(o *fb.FakeQuantOptionsT, shape ...int32) []byte {
	b := modelbuild.New()
	x := b.Tensor("x", fb.TensorTypeFLOAT32, shape...)
	y := b.Tensor("y", fb.TensorTypeFLOAT32, shape...)
	b.OpVersion(fb.BuiltinOperatorFAKE_QUANT, 2, o, []int32{x}, []int32{y})
	b.Inputs(x)
	b.Outputs(y)
	return b.Bytes()
}

func TestFakeQuantRuntime(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	for _, o := range []*fb.FakeQuantOptionsT{
		{Min: -1, Max: 1, NumBits: 8},
		{Min: -0.7, Max: 3.2, NumBits: 8},
		{Min: 0, Max: 6, NumBits: 8},
		{Min: -2.5, Max: 0, NumBits: 4},
	} {
		v := make([]float32, 2*3*5)
		for i := range v {
			v[i] = 8*r.Float32() - 4
		}
		compareWithRuntime(t, fakeQuantModel(o, 2, 3, 5), []*npy.Array{npy.FromFloat32([]int{2, 3, 5}, v)}, 1e-6)
	}
}

func TestFakeQuantValues(t *testing.T) {
	// [0, 255] over 8 bits is the identity on integers and clamps outside.
	out, err := runGo(fakeQuantModel(&fb.FakeQuantOptionsT{Min: 0, Max: 255, NumBits: 8}, 5),
		[]*npy.Array{npy.FromFloat32([]int{5}, []float32{-3, 0, 7.4, 7.5, 300})})
	if err != nil {
		t.Fatal(err)
	}
	got, _ := out[0].Float32s()
	want := []float32{0, 0, 7, 8, 255}
	for i := range want {
		if math.Abs(float64(got[i]-want[i])) > 1e-5 {
			t.Errorf("element %d: %v, want %v", i, got[i], want[i])
		}
	}
	// narrow_range (weights only; the runtime refuses it on activations):
	// [1, 255] over [-1, 1] has scale 2/254 and zero at 128.
	out, err = runGo(fakeQuantModel(&fb.FakeQuantOptionsT{Min: -1, Max: 1, NumBits: 8, NarrowRange: true}, 3),
		[]*npy.Array{npy.FromFloat32([]int{3}, []float32{-2, 0, 1.0 / 254})})
	if err != nil {
		t.Fatal(err)
	}
	got, _ = out[0].Float32s()
	if got[0] != -1 || got[1] != 0 || math.Abs(float64(got[2]-2.0/254)) > 1e-7 {
		t.Errorf("narrow range: %v", got)
	}
	for _, o := range []*fb.FakeQuantOptionsT{{Min: 1, Max: 2, NumBits: 8}, {Min: -1, Max: 1, NumBits: 1}} {
		if _, err := runGo(fakeQuantModel(o, 2), []*npy.Array{npy.FromFloat32([]int{2}, []float32{0, 1})}); err == nil {
			t.Errorf("options %+v accepted", o)
		}
	}
}
