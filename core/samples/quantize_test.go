package samples

import (
	"math"
	"testing"

	"litequant/core/npy"
	fb "litequant/core/schema/tflitefb"
)

func TestQuantizeValue(t *testing.T) {
	for _, c := range []struct {
		x, scale float64
		zp       int64
		t        fb.TensorType
		want     int64
	}{
		{0, 0.1, 3, fb.TensorTypeINT8, 3},
		{0.25, 0.1, 0, fb.TensorTypeINT8, 3},   // 2.5 rounds away from zero
		{-0.25, 0.1, 0, fb.TensorTypeINT8, -3}, // -2.5 too
		{0.36, 0.1, -1, fb.TensorTypeINT8, 3},
		{100, 0.1, 0, fb.TensorTypeINT8, 127},
		{-100, 0.1, 0, fb.TensorTypeINT8, -128},
		{-1, 0.5, 128, fb.TensorTypeUINT8, 126},
		{-1e30, 0.5, 128, fb.TensorTypeUINT8, 0},
		{1e300, 1e-300, 0, fb.TensorTypeINT16, 32767},
		{math.NaN(), 0.5, 7, fb.TensorTypeINT8, 7},
		{math.Inf(-1), 0.5, 0, fb.TensorTypeINT16, -32768},
		{1e12, 1, 0, fb.TensorTypeINT32, math.MaxInt32},
		{1e30, 1, 0, fb.TensorTypeINT64, math.MaxInt64},
	} {
		if got := QuantizeValue(c.x, c.scale, c.zp, c.t); got != c.want {
			t.Errorf("QuantizeValue(%v, %v, %d, %v) = %d, want %d", c.x, c.scale, c.zp, c.t, got, c.want)
		}
	}
}

// TestQuantizedInputArrays: floating-point arrays for an integer input with
// a scale are quantized; integer arrays are taken as they are; NaN is
// refused.
func TestQuantizedInputArrays(t *testing.T) {
	in := Input{Name: "x", Type: fb.TensorTypeINT8, Shape: []int{1, 3}, Scale: 0.5, ZeroPoint: -2}
	for _, c := range []struct {
		name string
		data []byte
		want []int8
		err  bool
	}{
		{"f.npy", npyBytes(t, npy.FromFloat32([]int{1, 3}, []float32{-1, 0.25, 100})), []int8{-4, -1, 127}, false},
		{"i.npy", npyBytes(t, &npy.Array{DType: npy.Int8, Shape: []int{1, 3}, Data: []byte{0xff, 0, 5}}), []int8{-1, 0, 5}, false},
		{"nan.npy", npyBytes(t, npy.FromFloat32([]int{1, 3}, []float32{float32(math.NaN()), 0, 0})), nil, true},
	} {
		set, err := Load([]Input{in}, []File{{Name: c.name, Data: c.data}}, Options{})
		if c.err {
			if err == nil {
				t.Errorf("%s: no error", c.name)
			}
			continue
		}
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		buf, err := set.SampleTo(0, nil)
		if err != nil {
			t.Fatal(err)
		}
		for i, w := range c.want {
			if int8(buf[0][i]) != w {
				t.Errorf("%s: element %d = %d, want %d", c.name, i, int8(buf[0][i]), w)
			}
		}
	}
	if _, err := Load([]Input{{Name: "x", Type: fb.TensorTypeINT8, Shape: []int{1}, Scale: math.NaN()}}, []File{{Name: "f.npy"}}, Options{}); err == nil {
		t.Error("a NaN scale is accepted")
	}
}
