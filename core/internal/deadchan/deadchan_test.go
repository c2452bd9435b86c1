package deadchan

import (
	"reflect"
	"testing"

	"litequant/core/internal/opspec"
	fb "litequant/core/schema/tflitefb"
)

func TestDead(t *testing.T) {
	for _, c := range []struct {
		name     string
		min, max []float32
		want     []int
	}{
		{"none", []float32{0, -1}, []float32{1, 0}, nil},
		{"exactly zero only", []float32{0, 0, 0, -0.0}, []float32{0, 1e-9, 0, 0}, []int{0, 2, 3}},
		{"constant nonzero is not dead", []float32{2}, []float32{2}, nil},
		{"short max", []float32{0, 0}, []float32{0}, []int{0}},
	} {
		if got := Dead(c.min, c.max); !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s: Dead = %v, want %v", c.name, got, c.want)
		}
	}
}

// seq returns 1, 2, ..., n (no zero, so every cleared weight counts).
func seq(n int) []float32 {
	v := make([]float32, n)
	for i := range v {
		v[i] = float32(i + 1)
	}
	return v
}

func TestClear(t *testing.T) {
	for _, c := range []struct {
		name     string
		kind     fb.BuiltinOperator
		shape    []int32
		channels int
		dead     []int
		// zero lists the indices that must become 0; n is the count.
		zero []int
	}{
		// CONV_2D [O=2, 1, 2, I=3]: input channel is index % 3.
		{"conv", fb.BuiltinOperatorCONV_2D, []int32{2, 1, 2, 3}, 3, []int{1}, []int{1, 4, 7, 10}},
		{"conv two channels", fb.BuiltinOperatorCONV_2D, []int32{1, 1, 1, 3}, 3, []int{0, 2}, []int{0, 2}},
		// FULLY_CONNECTED [O=2, I=3].
		{"fully connected", fb.BuiltinOperatorFULLY_CONNECTED, []int32{2, 3}, 3, []int{2}, []int{2, 5}},
		// DEPTHWISE [1, 1, 2, C=4] with multiplier 1: channel is index % 4.
		{"depthwise", fb.BuiltinOperatorDEPTHWISE_CONV_2D, []int32{1, 1, 2, 4}, 4, []int{3}, []int{3, 7}},
		// DEPTHWISE multiplier 2 over 2 inputs: outputs 2, 3 read input 1.
		{"depthwise multiplier", fb.BuiltinOperatorDEPTHWISE_CONV_2D, []int32{1, 1, 2, 4}, 2, []int{1}, []int{2, 3, 6, 7}},
		// Shapes that do not match the input are left alone.
		{"grouped conv", fb.BuiltinOperatorCONV_2D, []int32{2, 1, 1, 2}, 4, []int{1}, nil},
		{"flattened fc input", fb.BuiltinOperatorFULLY_CONNECTED, []int32{2, 12}, 3, []int{0}, nil},
		{"depthwise not a multiple", fb.BuiltinOperatorDEPTHWISE_CONV_2D, []int32{1, 1, 1, 3}, 2, []int{0}, nil},
		{"other operator", fb.BuiltinOperatorTRANSPOSE_CONV, []int32{1, 1, 1, 3}, 3, []int{0}, nil},
		{"channel out of range", fb.BuiltinOperatorCONV_2D, []int32{1, 1, 1, 3}, 3, []int{3}, nil},
		{"nothing dead", fb.BuiltinOperatorCONV_2D, []int32{1, 1, 1, 3}, 3, nil, nil},
	} {
		n := 1
		for _, d := range c.shape {
			n *= int(d)
		}
		v := seq(n)
		got := Clear(weightOf(c.kind), c.shape, v, c.channels, c.dead)
		if got != len(c.zero) {
			t.Errorf("%s: cleared %d, want %d", c.name, got, len(c.zero))
		}
		want := seq(n)
		for _, k := range c.zero {
			want[k] = 0
		}
		if !reflect.DeepEqual(v, want) {
			t.Errorf("%s: weights %v, want %v", c.name, v, want)
		}
	}
	// Weights already zero are not counted.
	v := []float32{0, 5, 0, 7}
	if n := Clear(weightOf(fb.BuiltinOperatorFULLY_CONNECTED), []int32{2, 2}, v, 2, []int{0}); n != 0 || v[1] != 5 || v[3] != 7 {
		t.Errorf("zero weights: cleared %d, weights %v", n, v)
	}
}

func TestUpperBounds(t *testing.T) {
	lo, hi := []float32{-1, 0.5}, []float32{2, 3} // channel 1 includes 0 (padding): [0, 3]
	for _, c := range []struct {
		name   string
		kind   fb.BuiltinOperator
		shape  []int32
		w, b   []float32
		lo, hi []float32
		want   []float64
	}{
		// CONV_2D [2, 1, 1, 2]: o0 = 1·x0 - 2·x1 + 0.5, o1 = -1·x0 + 1·x1 - 10.
		{"conv", fb.BuiltinOperatorCONV_2D, []int32{2, 1, 1, 2}, []float32{1, -2, -1, 1}, []float32{0.5, -10}, lo, hi, []float64{2 + 0 + 0.5, 1 + 3 - 10}},
		{"conv without bias", fb.BuiltinOperatorCONV_2D, []int32{1, 1, 2, 2}, []float32{1, 1, 1, 1}, nil, lo, hi, []float64{10}},
		{"fully connected", fb.BuiltinOperatorFULLY_CONNECTED, []int32{1, 2}, []float32{-1, -1}, []float32{-1}, lo, hi, []float64{1 + 0 - 1}},
		// DEPTHWISE [1, 1, 2, 2], multiplier 1: o0 reads x0 twice, o1 x1.
		{"depthwise", fb.BuiltinOperatorDEPTHWISE_CONV_2D, []int32{1, 1, 2, 2}, []float32{1, -1, 1, -1}, nil, lo, hi, []float64{4, 0}},
		// multiplier 2 over one input channel in [-1, 2].
		{"depthwise multiplier", fb.BuiltinOperatorDEPTHWISE_CONV_2D, []int32{1, 1, 1, 2}, []float32{3, -3}, []float32{0, 0}, lo[:1], hi[:1], []float64{6, 3}},
		{"wrong channels", fb.BuiltinOperatorCONV_2D, []int32{1, 1, 1, 3}, []float32{1, 1, 1}, nil, lo, hi, nil},
		{"wrong bias", fb.BuiltinOperatorCONV_2D, []int32{1, 1, 1, 2}, []float32{1, 1}, []float32{1, 2}, lo, hi, nil},
		{"other operator", fb.BuiltinOperatorADD, []int32{1, 2}, []float32{1, 1}, nil, lo, hi, nil},
	} {
		got, ok := UpperBounds(weightOf(c.kind), c.shape, c.w, c.b, c.lo, c.hi)
		if ok != (c.want != nil) || !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s: %v %v, want %v", c.name, got, ok, c.want)
		}
	}
}

// weightOf returns the weight whose layout opspec gives for kind (the zero
// Weight, which fits nothing, for other operators).
func weightOf(kind fb.BuiltinOperator) opspec.Weight {
	w, _, _ := opspec.Lookup(kind).LaidOut()
	return w
}
