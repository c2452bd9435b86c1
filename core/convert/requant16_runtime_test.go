package convert

import (
	"encoding/binary"
	"math"
	"strings"
	"testing"

	"litequant/core/modelbuild"
	"litequant/core/npy"
	"litequant/core/runtimetest"
	fb "litequant/core/schema/tflitefb"
)

// TestRuntimeRequantizes16To8Only records why --int16-ops (int8 mode with
// some operators on int16 activations) converts int8 to int16 through
// float: the pinned runtime runs QUANTIZE int16 -> int8, but refuses
// int8 -> int16 (QUANTIZE version 3 takes int8 input to int8 or uint8
// only; version 4 is not registered), so quant's mixed plan writes
// DEQUANTIZE + QUANTIZE on the way in. The test fails when the runtime
// changes (then one QUANTIZE would do).
func TestRuntimeRequantizes16To8Only(t *testing.T) {
	runtimetest.Require(t)
	quantize := func(in, out fb.TensorType, version int32, inScale, outScale float32, outZP int64) []byte {
		b := modelbuild.New()
		x, y := b.Tensor("x", in, 1, 8), b.Tensor("y", out, 1, 8)
		b.Quantize(x, []float32{inScale}, []int64{0}, 0)
		b.Quantize(y, []float32{outScale}, []int64{outZP}, 0)
		b.OpVersion(fb.BuiltinOperatorQUANTIZE, version, nil, []int32{x}, []int32{y})
		b.Inputs(x)
		b.Outputs(y)
		return b.Bytes()
	}
	// int16 -> int8 runs, and rounds as real = q·scale says.
	x := []int16{0, 20, 40, -200, 1000, 3000, -3000, 31}
	data := make([]byte, 16)
	for i, v := range x {
		binary.LittleEndian.PutUint16(data[2*i:], uint16(v))
	}
	in := &npy.Array{DType: npy.Int16, Shape: []int{1, 8}, Data: data}
	for _, version := range []int32{1, 2, 3} {
		res, err := runtimetest.RunModelBytes(t.Context(), quantize(fb.TensorTypeINT16, fb.TensorTypeINT8, version, 0.001, 0.02, -5), []*npy.Array{in}, runtimetest.Options{})
		if err != nil {
			t.Fatalf("QUANTIZE v%d int16 -> int8: %v", version, err)
		}
		for i, v := range x {
			want := max(-128, min(127, math.Round(float64(v)*0.001/0.02)-5))
			if got := float64(int8(res.Outputs[0].Data[i])); got != want {
				t.Errorf("QUANTIZE v%d int16 -> int8: %d gave %v, want %v", version, v, got, want)
			}
		}
	}
	in8 := &npy.Array{DType: npy.Int8, Shape: []int{1, 8}, Data: make([]byte, 8)}
	for _, tc := range []struct {
		version int32
		want    string
	}{
		{3, "output->type == kTfLiteUInt8 || output->type == kTfLiteInt8 was not true"},
		{4, "Didn't find op for builtin opcode 'QUANTIZE' version '4'"},
	} {
		_, err := runtimetest.RunModelBytes(t.Context(), quantize(fb.TensorTypeINT8, fb.TensorTypeINT16, tc.version, 0.05, 0.001, 0), []*npy.Array{in8}, runtimetest.Options{})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("QUANTIZE v%d int8 -> int16: err = %v, want %q (does the runtime take it now? then --int16-ops can be built)", tc.version, err, tc.want)
		}
	}
}
