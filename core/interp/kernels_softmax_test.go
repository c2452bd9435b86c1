package interp

import (
	"math"
	"strconv"
	"strings"
	"testing"

	"litequant/core/npy"
	fb "litequant/core/schema/tflitefb"
)

func TestSoftmaxFamily(t *testing.T) {
	r := ktRand(40)
	F := fb.TensorTypeFLOAT32
	var cases []ktCase
	for _, shape := range [][]int{{10}, {3, 17}, {1, 4, 4, 6}, {2, 1, 3, 4, 5}} {
		for _, beta := range []float32{1, 0.5, 2.5} {
			cases = append(cases, ktCase{name: "SOFTMAX_" + ktShapeName(shape) + "_beta" + ktFloatName(beta),
				op:     ktUnarySpec(fb.BuiltinOperatorSOFTMAX, &fb.SoftmaxOptionsT{Beta: beta}, F, shape...),
				inputs: []*npy.Array{ktF32(r, -10, 10, shape...)}})
		}
		cases = append(cases, ktCase{name: "LOG_SOFTMAX_" + ktShapeName(shape),
			op:     ktUnarySpec(fb.BuiltinOperatorLOG_SOFTMAX, nil, F, shape...),
			inputs: []*npy.Array{ktF32(r, -10, 10, shape...)}})
	}
	// Large logits stay finite.
	cases = append(cases, ktCase{name: "SOFTMAX_large", op: ktUnarySpec(fb.BuiltinOperatorSOFTMAX, &fb.SoftmaxOptionsT{Beta: 1}, F, 2, 8),
		inputs: []*npy.Array{ktF32(r, 500, 1000, 2, 8)}})
	for _, shape := range [][]int{{7}, {3, 9}, {1, 3, 3, 8}} {
		cases = append(cases, ktCase{name: "L2_NORMALIZATION_" + ktShapeName(shape),
			op:     ktUnarySpec(fb.BuiltinOperatorL2_NORMALIZATION, &fb.L2NormOptionsT{}, F, shape...),
			inputs: []*npy.Array{ktF32(r, -4, 4, shape...)}})
	}
	ktCompare(t, cases)
}

func ktFloatName(f float32) string {
	return strings.ReplaceAll(strconv.FormatFloat(float64(f), 'g', -1, 32), ".", "p")
}

func TestSoftmaxHand(t *testing.T) {
	F := fb.TensorTypeFLOAT32
	m := ktUnaryModel(fb.BuiltinOperatorSOFTMAX, &fb.SoftmaxOptionsT{Beta: 1}, F, 2, 2)
	o := ktRun(t, m, npy.FromFloat32([]int{2, 2}, []float32{0, float32(math.Log(3)), 1000, 1000}))[0].F32()
	want := []float32{0.25, 0.75, 0.5, 0.5}
	for i := range want {
		if math.Abs(float64(o[i]-want[i])) > 1e-7 {
			t.Fatalf("SOFTMAX: %v, want %v", o, want)
		}
	}
	m = ktUnaryModel(fb.BuiltinOperatorLOG_SOFTMAX, nil, F, 2)
	o = ktRun(t, m, npy.FromFloat32([]int{2}, []float32{1, 1}))[0].F32()
	if math.Abs(float64(o[0])+math.Ln2) > 1e-7 || o[0] != o[1] {
		t.Fatalf("LOG_SOFTMAX: %v", o)
	}
	// L2 normalization of zeros uses the epsilon, not a division by zero.
	m = ktUnaryModel(fb.BuiltinOperatorL2_NORMALIZATION, nil, F, 2, 2)
	ktCheckF32(t, ktRun(t, m, npy.FromFloat32([]int{2, 2}, []float32{3, 4, 0, 0}))[0], []int{2, 2}, []float32{0.6, 0.8, 0, 0})
	// A missing options table gives beta 0 (uniform), as in TensorFlow Lite.
	m = ktUnaryModel(fb.BuiltinOperatorSOFTMAX, nil, F, 4)
	ktCheckF32(t, ktRun(t, m, npy.FromFloat32([]int{4}, []float32{1, 2, 3, 4}))[0], []int{4}, []float32{0.25, 0.25, 0.25, 0.25})
}

func TestSoftmaxErrors(t *testing.T) {
	F := fb.TensorTypeFLOAT32
	m := ktUnaryModel(fb.BuiltinOperatorSOFTMAX, &fb.SoftmaxOptionsT{Beta: 1}, F)
	ktWantErr(t, "scalar", m, npy.FromFloat32(nil, []float32{1}))
	m = ktUnaryModel(fb.BuiltinOperatorL2_NORMALIZATION, &fb.L2NormOptionsT{FusedActivationFunction: fb.ActivationFunctionTypeRELU}, F, 2)
	ktWantErr(t, "fused activation", m, npy.FromFloat32([]int{2}, []float32{1, 2}))
	m = ktUnaryModel(fb.BuiltinOperatorLOG_SOFTMAX, nil, fb.TensorTypeINT32, 2)
	ktWantErr(t, "unsupported", m, npy.FromInt32([]int{2}, []int32{1, 2}))
}
