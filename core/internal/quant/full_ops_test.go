package quant

import (
	"math"
	"math/rand/v2"
	"testing"

	"litequant/core/fixtures"
	"litequant/core/internal/opspec"
	"litequant/core/internal/opversion"
	"litequant/core/modelbuild"
	"litequant/core/npy"
	"litequant/core/runtimetest"
	fb "litequant/core/schema/tflitefb"
	"litequant/core/tflite"
)

// fullCase is a one-operator float model for checking an opspec entry in the
// real runtime: its inputs (shape, and the range random values take) and
// how to build the operator on them.
type fullCase struct {
	name   string
	op     fb.BuiltinOperator
	inputs []caseInput
	build  func(b *modelbuild.Builder, in []int32) []int32 // returns the outputs
	// minSQNR overrides the default floor (int8 and int16x8).
	min8, min16 float64
	// exact compares BOOL/INT32 outputs: at most this fraction may differ.
	exact float64
}

type caseInput struct {
	shape  []int
	lo, hi float32
	typ    fb.TensorType // FLOAT32 unless set (BOOL conditions)
}

func f32in(lo, hi float32, shape ...int) caseInput { return caseInput{shape: shape, lo: lo, hi: hi} }

// one makes a unary case on a [1, 8, 8, 4] input in [lo, hi].
func one(name string, op fb.BuiltinOperator, opts any, lo, hi float32) fullCase {
	return fullCase{name: name, op: op, inputs: []caseInput{f32in(lo, hi, 1, 8, 8, 4)},
		build: func(b *modelbuild.Builder, in []int32) []int32 {
			out := b.Tensor("out", fb.TensorTypeFLOAT32)
			b.Op(op, opts, []int32{in[0]}, []int32{out})
			return []int32{out}
		}}
}

// binary makes a two-input case on [1, 8, 8, 4] inputs.
func binop(name string, op fb.BuiltinOperator, opts any, constB bool) fullCase {
	c := fullCase{name: name, op: op, inputs: []caseInput{f32in(-2, 3, 1, 8, 8, 4)}}
	if !constB {
		c.inputs = append(c.inputs, f32in(-1, 1.5, 1, 8, 8, 4))
	}
	c.build = func(b *modelbuild.Builder, in []int32) []int32 {
		y := int32(0)
		if constB {
			y = b.ConstFloat32("b", []int32{1, 1, 1, 4}, []float32{0.5, -0.25, 1.5, -1})
		} else {
			y = in[1]
		}
		out := b.Tensor("out", fb.TensorTypeFLOAT32)
		b.Op(op, opts, []int32{in[0], y}, []int32{out})
		return []int32{out}
	}
	return c
}

// withConst makes a case whose operator takes the input and constant
// INT32 operands (shapes, axes, indices).
func withConst(name string, op fb.BuiltinOperator, opts any, in caseInput, consts ...[]int32) fullCase {
	return fullCase{name: name, op: op, inputs: []caseInput{in},
		build: func(b *modelbuild.Builder, x []int32) []int32 {
			ins := []int32{x[0]}
			for _, c := range consts {
				ins = append(ins, b.ConstInt32("c", []int32{int32(len(c))}, c))
			}
			out := b.Tensor("out", fb.TensorTypeFLOAT32)
			b.Op(op, opts, ins, []int32{out})
			return []int32{out}
		}}
}

func weightsOf(n int, seed uint64, scale float32) []float32 {
	v := values(n, seed)
	for i := range v {
		v[i] *= scale
	}
	return v
}

var nhwc = f32in(-2, 3, 1, 8, 8, 4)

// fullOpCases covers every operator opspec gives an integer kernel.
func fullOpCases() []fullCase {
	f := fb.TensorTypeFLOAT32
	return []fullCase{
		{name: "conv", op: fb.BuiltinOperatorCONV_2D, inputs: []caseInput{nhwc}, build: func(b *modelbuild.Builder, in []int32) []int32 {
			w := b.ConstFloat32("w", []int32{6, 3, 3, 4}, spread(weightsOf(6*36, 1, 0.3), []int32{6, 3, 3, 4}, 0))
			bias := b.ConstFloat32("bias", []int32{6}, []float32{0.1, -0.2, 0.3, 0, 0.5, -1})
			out := b.Tensor("out", f)
			b.Op(fb.BuiltinOperatorCONV_2D, &fb.Conv2DOptionsT{Padding: fb.PaddingSAME, StrideW: 1, StrideH: 1, FusedActivationFunction: fb.ActivationFunctionTypeRELU6, DilationWFactor: 1, DilationHFactor: 1}, []int32{in[0], w, bias}, []int32{out})
			return []int32{out}
		}},
		{name: "depthwise", op: fb.BuiltinOperatorDEPTHWISE_CONV_2D, inputs: []caseInput{nhwc}, build: func(b *modelbuild.Builder, in []int32) []int32 {
			w := b.ConstFloat32("w", []int32{1, 3, 3, 8}, spread(weightsOf(72, 2, 0.4), []int32{1, 3, 3, 8}, 3))
			bias := b.ConstFloat32("bias", []int32{8}, []float32{0.1, -0.2, 0.3, 0, 0.5, -1, 0.2, 0.1})
			out := b.Tensor("out", f)
			b.Op(fb.BuiltinOperatorDEPTHWISE_CONV_2D, &fb.DepthwiseConv2DOptionsT{Padding: fb.PaddingVALID, StrideW: 2, StrideH: 2, DepthMultiplier: 2, DilationWFactor: 1, DilationHFactor: 1}, []int32{in[0], w, bias}, []int32{out})
			return []int32{out}
		}},
		{name: "fully_connected", op: fb.BuiltinOperatorFULLY_CONNECTED, inputs: []caseInput{f32in(-1, 2, 2, 16)}, build: func(b *modelbuild.Builder, in []int32) []int32 {
			w := b.ConstFloat32("w", []int32{5, 16}, weightsOf(80, 3, 0.5))
			bias := b.ConstFloat32("bias", []int32{5}, []float32{0.1, -0.2, 0.3, 0, 0.5})
			out := b.Tensor("out", f)
			b.Op(fb.BuiltinOperatorFULLY_CONNECTED, &fb.FullyConnectedOptionsT{}, []int32{in[0], w, bias}, []int32{out})
			return []int32{out}
		}},
		{name: "fully_connected no bias", op: fb.BuiltinOperatorFULLY_CONNECTED, inputs: []caseInput{f32in(-1, 2, 1, 16)}, build: func(b *modelbuild.Builder, in []int32) []int32 {
			w := b.ConstFloat32("w", []int32{5, 16}, weightsOf(80, 4, 0.5))
			out := b.Tensor("out", f)
			b.Op(fb.BuiltinOperatorFULLY_CONNECTED, &fb.FullyConnectedOptionsT{}, []int32{in[0], w, -1}, []int32{out})
			return []int32{out}
		}},
		{name: "transpose_conv", op: fb.BuiltinOperatorTRANSPOSE_CONV, inputs: []caseInput{f32in(-1, 2, 1, 4, 4, 4)}, build: func(b *modelbuild.Builder, in []int32) []int32 {
			shape := b.ConstInt32("shape", []int32{4}, []int32{1, 8, 8, 3})
			w := b.ConstFloat32("w", []int32{3, 3, 3, 4}, spread(weightsOf(108, 5, 0.3), []int32{3, 3, 3, 4}, 0))
			bias := b.ConstFloat32("bias", []int32{3}, []float32{0.1, -0.2, 0.3})
			out := b.Tensor("out", f, 1, 8, 8, 3)
			b.Op(fb.BuiltinOperatorTRANSPOSE_CONV, &fb.TransposeConvOptionsT{Padding: fb.PaddingSAME, StrideW: 2, StrideH: 2}, []int32{shape, w, in[0], bias}, []int32{out})
			return []int32{out}
		}},
		{name: "batch_matmul", op: fb.BuiltinOperatorBATCH_MATMUL, inputs: []caseInput{f32in(-1, 2, 2, 4, 8), f32in(-2, 1, 2, 8, 3)}, build: func(b *modelbuild.Builder, in []int32) []int32 {
			out := b.Tensor("out", f)
			b.Op(fb.BuiltinOperatorBATCH_MATMUL, &fb.BatchMatMulOptionsT{}, []int32{in[0], in[1]}, []int32{out})
			return []int32{out}
		}},
		{name: "batch_matmul const", op: fb.BuiltinOperatorBATCH_MATMUL, inputs: []caseInput{f32in(-1, 2, 2, 4, 8)}, build: func(b *modelbuild.Builder, in []int32) []int32 {
			rhs := b.ConstFloat32("rhs", []int32{8, 3}, weightsOf(24, 6, 0.7))
			out := b.Tensor("out", f)
			b.Op(fb.BuiltinOperatorBATCH_MATMUL, &fb.BatchMatMulOptionsT{}, []int32{in[0], rhs}, []int32{out})
			return []int32{out}
		}},
		{name: "gather", op: fb.BuiltinOperatorGATHER, inputs: []caseInput{f32in(-1, 2, 6, 4)}, build: func(b *modelbuild.Builder, in []int32) []int32 {
			idx := b.ConstInt32("idx", []int32{3}, []int32{4, 0, 2})
			out := b.Tensor("out", f)
			b.Op(fb.BuiltinOperatorGATHER, &fb.GatherOptionsT{}, []int32{in[0], idx}, []int32{out})
			return []int32{out}
		}},
		{name: "gather const table", op: fb.BuiltinOperatorGATHER, inputs: []caseInput{f32in(-1, 2, 3, 4)}, build: func(b *modelbuild.Builder, in []int32) []int32 {
			table := b.ConstFloat32("table", []int32{5, 4}, weightsOf(20, 7, 1))
			idx := b.ConstInt32("idx", []int32{3}, []int32{4, 0, 2})
			g := b.Tensor("g", f)
			b.Op(fb.BuiltinOperatorGATHER, &fb.GatherOptionsT{}, []int32{table, idx}, []int32{g})
			out := b.Tensor("out", f)
			b.Op(fb.BuiltinOperatorADD, &fb.AddOptionsT{}, []int32{g, in[0]}, []int32{out})
			return []int32{out}
		}},
		binop("add", fb.BuiltinOperatorADD, &fb.AddOptionsT{}, false),
		binop("add const", fb.BuiltinOperatorADD, &fb.AddOptionsT{}, true),
		binop("add no options", fb.BuiltinOperatorADD, nil, false),
		binop("sub", fb.BuiltinOperatorSUB, &fb.SubOptionsT{}, false),
		binop("mul", fb.BuiltinOperatorMUL, &fb.MulOptionsT{}, false),
		binop("mul const", fb.BuiltinOperatorMUL, &fb.MulOptionsT{}, true),
		binop("squared_difference", fb.BuiltinOperatorSQUARED_DIFFERENCE, nil, false),
		binop("maximum", fb.BuiltinOperatorMAXIMUM, nil, false),
		binop("minimum const", fb.BuiltinOperatorMINIMUM, nil, true),
		one("average_pool", fb.BuiltinOperatorAVERAGE_POOL_2D, &fb.Pool2DOptionsT{Padding: fb.PaddingVALID, StrideW: 2, StrideH: 2, FilterWidth: 2, FilterHeight: 2}, -2, 3),
		one("max_pool", fb.BuiltinOperatorMAX_POOL_2D, &fb.Pool2DOptionsT{Padding: fb.PaddingSAME, StrideW: 2, StrideH: 2, FilterWidth: 3, FilterHeight: 3}, -2, 3),
		withConst("reshape", fb.BuiltinOperatorRESHAPE, &fb.ReshapeOptionsT{NewShape: []int32{1, 256}}, nhwc, []int32{1, 256}),
		withConst("squeeze", fb.BuiltinOperatorSQUEEZE, &fb.SqueezeOptionsT{SqueezeDims: []int32{2}}, f32in(-1, 2, 1, 8, 1, 4)),
		withConst("expand_dims", fb.BuiltinOperatorEXPAND_DIMS, nil, f32in(-1, 2, 1, 8, 4), []int32{1}),
		withConst("transpose", fb.BuiltinOperatorTRANSPOSE, nil, nhwc, []int32{0, 3, 1, 2}),
		{name: "concatenation", op: fb.BuiltinOperatorCONCATENATION, inputs: []caseInput{f32in(-1, 1, 1, 4, 4, 2), f32in(0, 6, 1, 4, 4, 3)}, build: func(b *modelbuild.Builder, in []int32) []int32 {
			out := b.Tensor("out", f)
			b.Op(fb.BuiltinOperatorCONCATENATION, &fb.ConcatenationOptionsT{Axis: 3}, []int32{in[0], in[1]}, []int32{out})
			return []int32{out}
		}},
		{name: "pack", op: fb.BuiltinOperatorPACK, inputs: []caseInput{f32in(-1, 1, 4, 4), f32in(0, 5, 4, 4)}, build: func(b *modelbuild.Builder, in []int32) []int32 {
			out := b.Tensor("out", f)
			b.Op(fb.BuiltinOperatorPACK, &fb.PackOptionsT{ValuesCount: 2, Axis: 0}, []int32{in[0], in[1]}, []int32{out})
			return []int32{out}
		}},
		{name: "unpack", op: fb.BuiltinOperatorUNPACK, inputs: []caseInput{f32in(-1, 2, 2, 4, 4)}, build: func(b *modelbuild.Builder, in []int32) []int32 {
			o1, o2 := b.Tensor("o1", f), b.Tensor("o2", f)
			b.Op(fb.BuiltinOperatorUNPACK, &fb.UnpackOptionsT{Num: 2, Axis: 0}, []int32{in[0]}, []int32{o1, o2})
			return []int32{o1, o2}
		}},
		{name: "pad", op: fb.BuiltinOperatorPAD, inputs: []caseInput{f32in(0.5, 2, 1, 4, 4, 2)}, build: func(b *modelbuild.Builder, in []int32) []int32 {
			pads := b.ConstInt32("pads", []int32{4, 2}, []int32{0, 0, 1, 1, 2, 0, 0, 0})
			out := b.Tensor("out", f)
			b.Op(fb.BuiltinOperatorPAD, nil, []int32{in[0], pads}, []int32{out})
			return []int32{out}
		}},
		{name: "padv2 -inf", op: fb.BuiltinOperatorPADV2, inputs: []caseInput{f32in(-1, 2, 1, 4, 4, 2)}, build: func(b *modelbuild.Builder, in []int32) []int32 {
			pads := b.ConstInt32("pads", []int32{4, 2}, []int32{0, 0, 1, 1, 1, 1, 0, 0})
			v := b.ConstFloat32("v", []int32{}, []float32{float32(math.Inf(-1))})
			p := b.Tensor("p", f)
			b.Op(fb.BuiltinOperatorPADV2, nil, []int32{in[0], pads, v}, []int32{p})
			out := b.Tensor("out", f)
			b.Op(fb.BuiltinOperatorMAX_POOL_2D, &fb.Pool2DOptionsT{Padding: fb.PaddingVALID, StrideW: 1, StrideH: 1, FilterWidth: 3, FilterHeight: 3}, []int32{p}, []int32{out})
			return []int32{out}
		}},
		{name: "mirror_pad", op: fb.BuiltinOperatorMIRROR_PAD, inputs: []caseInput{f32in(-1, 2, 1, 4, 4, 2)}, build: func(b *modelbuild.Builder, in []int32) []int32 {
			pads := b.ConstInt32("pads", []int32{4, 2}, []int32{0, 0, 1, 1, 1, 1, 0, 0})
			out := b.Tensor("out", f)
			b.Op(fb.BuiltinOperatorMIRROR_PAD, &fb.MirrorPadOptionsT{Mode: fb.MirrorPadModeREFLECT}, []int32{in[0], pads}, []int32{out})
			return []int32{out}
		}},
		withConst("slice", fb.BuiltinOperatorSLICE, nil, nhwc, []int32{0, 1, 2, 1}, []int32{1, 4, 5, 2}),
		withConst("strided_slice", fb.BuiltinOperatorSTRIDED_SLICE, &fb.StridedSliceOptionsT{}, nhwc, []int32{0, 1, 0, 0}, []int32{1, 7, 8, 4}, []int32{1, 2, 3, 1}),
		{name: "split", op: fb.BuiltinOperatorSPLIT, inputs: []caseInput{nhwc}, build: func(b *modelbuild.Builder, in []int32) []int32 {
			axis := b.ConstInt32("axis", []int32{}, []int32{3})
			o1, o2 := b.Tensor("o1", f), b.Tensor("o2", f)
			b.Op(fb.BuiltinOperatorSPLIT, &fb.SplitOptionsT{NumSplits: 2}, []int32{axis, in[0]}, []int32{o1, o2})
			return []int32{o1, o2}
		}},
		{name: "split_v", op: fb.BuiltinOperatorSPLIT_V, inputs: []caseInput{nhwc}, build: func(b *modelbuild.Builder, in []int32) []int32 {
			sizes := b.ConstInt32("sizes", []int32{2}, []int32{1, 3})
			axis := b.ConstInt32("axis", []int32{}, []int32{3})
			o1, o2 := b.Tensor("o1", f), b.Tensor("o2", f)
			b.Op(fb.BuiltinOperatorSPLIT_V, &fb.SplitVOptionsT{NumSplits: 2}, []int32{in[0], sizes, axis}, []int32{o1, o2})
			return []int32{o1, o2}
		}},
		{name: "gather_nd", op: fb.BuiltinOperatorGATHER_ND, inputs: []caseInput{f32in(-1, 2, 4, 3, 2)}, build: func(b *modelbuild.Builder, in []int32) []int32 {
			idx := b.ConstInt32("idx", []int32{2, 2}, []int32{1, 2, 3, 0})
			out := b.Tensor("out", f)
			b.Op(fb.BuiltinOperatorGATHER_ND, nil, []int32{in[0], idx}, []int32{out})
			return []int32{out}
		}},
		withConst("tile", fb.BuiltinOperatorTILE, nil, f32in(-1, 2, 1, 3, 4), []int32{2, 1, 2}),
		withConst("resize_bilinear", fb.BuiltinOperatorRESIZE_BILINEAR, &fb.ResizeBilinearOptionsT{}, nhwc, []int32{12, 16}),
		withConst("resize_bilinear half_pixel", fb.BuiltinOperatorRESIZE_BILINEAR, &fb.ResizeBilinearOptionsT{HalfPixelCenters: true}, nhwc, []int32{16, 16}),
		withConst("resize_nearest_neighbor", fb.BuiltinOperatorRESIZE_NEAREST_NEIGHBOR, &fb.ResizeNearestNeighborOptionsT{}, nhwc, []int32{16, 12}),
		one("space_to_depth", fb.BuiltinOperatorSPACE_TO_DEPTH, &fb.SpaceToDepthOptionsT{BlockSize: 2}, -1, 2),
		one("depth_to_space", fb.BuiltinOperatorDEPTH_TO_SPACE, &fb.DepthToSpaceOptionsT{BlockSize: 2}, -1, 2),
		withConst2D("space_to_batch_nd", fb.BuiltinOperatorSPACE_TO_BATCH_ND, []int32{2, 2}, []int32{0, 0, 0, 0}),
		withConst2D("batch_to_space_nd", fb.BuiltinOperatorBATCH_TO_SPACE_ND, []int32{1, 1}, []int32{0, 0, 0, 0}),
		withConst("reduce_max", fb.BuiltinOperatorREDUCE_MAX, &fb.ReducerOptionsT{KeepDims: true}, nhwc, []int32{1, 2}),
		withConst("reduce_min", fb.BuiltinOperatorREDUCE_MIN, &fb.ReducerOptionsT{}, nhwc, []int32{3}),
		withConst("mean", fb.BuiltinOperatorMEAN, &fb.ReducerOptionsT{KeepDims: true}, nhwc, []int32{1, 2}),
		withConst("sum", fb.BuiltinOperatorSUM, &fb.ReducerOptionsT{}, nhwc, []int32{3}),
		{name: "softmax", op: fb.BuiltinOperatorSOFTMAX, inputs: []caseInput{f32in(-4, 4, 2, 10)}, build: func(b *modelbuild.Builder, in []int32) []int32 {
			out := b.Tensor("out", f)
			b.Op(fb.BuiltinOperatorSOFTMAX, &fb.SoftmaxOptionsT{Beta: 1}, []int32{in[0]}, []int32{out})
			return []int32{out}
		}},
		one("logistic", fb.BuiltinOperatorLOGISTIC, nil, -6, 6),
		one("tanh", fb.BuiltinOperatorTANH, nil, -3, 3),
		{name: "log_softmax", op: fb.BuiltinOperatorLOG_SOFTMAX, inputs: []caseInput{f32in(-3, 3, 2, 10)}, build: func(b *modelbuild.Builder, in []int32) []int32 {
			out := b.Tensor("out", f)
			b.Op(fb.BuiltinOperatorLOG_SOFTMAX, nil, []int32{in[0]}, []int32{out})
			return []int32{out}
		}},
		one("l2_normalization", fb.BuiltinOperatorL2_NORMALIZATION, &fb.L2NormOptionsT{}, -2, 3),
		one("relu", fb.BuiltinOperatorRELU, nil, -2, 3),
		one("relu6", fb.BuiltinOperatorRELU6, nil, -2, 8),
		one("relu_n1_to_1", fb.BuiltinOperatorRELU_N1_TO_1, nil, -2, 2),
		one("leaky_relu", fb.BuiltinOperatorLEAKY_RELU, &fb.LeakyReluOptionsT{Alpha: 0.2}, -2, 3),
		one("hard_swish", fb.BuiltinOperatorHARD_SWISH, nil, -4, 4),
		{name: "prelu", op: fb.BuiltinOperatorPRELU, inputs: []caseInput{nhwc}, build: func(b *modelbuild.Builder, in []int32) []int32 {
			alpha := b.ConstFloat32("alpha", []int32{1, 1, 4}, []float32{0.1, 0.25, -0.2, 0.5})
			out := b.Tensor("out", f)
			b.Op(fb.BuiltinOperatorPRELU, nil, []int32{in[0], alpha}, []int32{out})
			return []int32{out}
		}},
		one("rsqrt", fb.BuiltinOperatorRSQRT, nil, 0.2, 4),
		cmpCase("equal", fb.BuiltinOperatorEQUAL),
		cmpCase("not_equal", fb.BuiltinOperatorNOT_EQUAL),
		cmpCase("less", fb.BuiltinOperatorLESS),
		cmpCase("less_equal", fb.BuiltinOperatorLESS_EQUAL),
		cmpCase("greater", fb.BuiltinOperatorGREATER),
		cmpCase("greater_equal", fb.BuiltinOperatorGREATER_EQUAL),
		{name: "arg_max", op: fb.BuiltinOperatorARG_MAX, inputs: []caseInput{nhwc}, exact: 0.05, build: func(b *modelbuild.Builder, in []int32) []int32 {
			axis := b.ConstInt32("axis", []int32{1}, []int32{3})
			out := b.Tensor("out", fb.TensorTypeINT32)
			b.Op(fb.BuiltinOperatorARG_MAX, &fb.ArgMaxOptionsT{OutputType: fb.TensorTypeINT32}, []int32{in[0], axis}, []int32{out})
			return []int32{out}
		}},
		{name: "arg_min", op: fb.BuiltinOperatorARG_MIN, inputs: []caseInput{nhwc}, exact: 0.05, build: func(b *modelbuild.Builder, in []int32) []int32 {
			axis := b.ConstInt32("axis", []int32{1}, []int32{3})
			out := b.Tensor("out", fb.TensorTypeINT32)
			b.Op(fb.BuiltinOperatorARG_MIN, &fb.ArgMinOptionsT{OutputType: fb.TensorTypeINT32}, []int32{in[0], axis}, []int32{out})
			return []int32{out}
		}},
		selectCase("select", fb.BuiltinOperatorSELECT),
		selectCase("select_v2", fb.BuiltinOperatorSELECT_V2),
	}
}

func cmpCase(name string, op fb.BuiltinOperator) fullCase {
	c := binop(name, op, nil, false)
	c.exact = 0.05
	build := c.build
	c.build = func(b *modelbuild.Builder, in []int32) []int32 {
		outs := build(b, in)
		b.TensorT(outs[0]).Type = fb.TensorTypeBOOL
		return outs
	}
	return c
}

func selectCase(name string, op fb.BuiltinOperator) fullCase {
	return fullCase{name: name, op: op,
		inputs: []caseInput{{shape: []int{1, 4, 4, 2}, typ: fb.TensorTypeBOOL}, f32in(-1, 2, 1, 4, 4, 2), f32in(0, 4, 1, 4, 4, 2)},
		build: func(b *modelbuild.Builder, in []int32) []int32 {
			out := b.Tensor("out", fb.TensorTypeFLOAT32)
			b.Op(op, nil, in, []int32{out})
			return []int32{out}
		}}
}

func withConst2D(name string, op fb.BuiltinOperator, block, pads []int32) fullCase {
	return fullCase{name: name, op: op, inputs: []caseInput{f32in(-1, 2, 4, 4, 4, 2)},
		build: func(b *modelbuild.Builder, in []int32) []int32 {
			bl := b.ConstInt32("block", []int32{2}, block)
			p := b.ConstInt32("pads", []int32{2, 2}, pads)
			out := b.Tensor("out", fb.TensorTypeFLOAT32)
			b.Op(op, nil, []int32{in[0], bl, p}, []int32{out})
			return []int32{out}
		}}
}

// caseModel builds c's float model and n random samples.
func caseModel(t *testing.T, c fullCase, n int) ([]byte, []fixtures.Sample) {
	t.Helper()
	b := modelbuild.New()
	var ins []int32
	for k, in := range c.inputs {
		shape := make([]int32, len(in.shape))
		for i, d := range in.shape {
			shape[i] = int32(d)
		}
		typ := in.typ
		ins = append(ins, b.Tensor(string(rune('a'+k)), typ, shape...))
	}
	outs := c.build(b, ins)
	b.Inputs(ins...)
	b.Outputs(outs...)
	data := b.Bytes()
	// Let the interpreter work out the output shapes.
	m := mustLoad(t, data)
	r := rand.New(rand.NewPCG(uint64(len(c.name)), 11))
	var samples []fixtures.Sample
	for i := 0; i < n; i++ {
		var s fixtures.Sample
		for _, in := range c.inputs {
			count := npyCount(in.shape)
			if in.typ == fb.TensorTypeBOOL {
				v := make([]bool, count)
				for j := range v {
					v[j] = r.IntN(2) == 1
				}
				s = append(s, npy.FromBool(in.shape, v))
				continue
			}
			v := make([]float32, count)
			for j := range v {
				v[j] = in.lo + (in.hi-in.lo)*r.Float32()
			}
			s = append(s, npy.FromFloat32(in.shape, v))
		}
		samples = append(samples, s)
	}
	_ = m
	return data, samples
}

// TestFullOperators checks every operator opspec gives an integer kernel:
// quantized alone in int8 and int16x8 it must run in the real runtime
// with the operator version the table says, and match the float model.
func TestFullOperators(t *testing.T) {
	runtimetest.Require(t)
	if testing.Short() {
		t.Skip("runs about 60 one-operator models in the real runtime, twice each")
	}
	covered := map[fb.BuiltinOperator]bool{}
	for _, c := range fullOpCases() {
		covered[c.op] = true
		t.Run(c.name, func(t *testing.T) {
			// Calibrated on the samples it is judged on: this checks the
			// kernels and their parameters, not how ranges generalise
			// (TestFullSharedModels does that).
			data, samples := caseModel(t, c, 16)
			held := samples
			st := calibrate(t, mustLoad(t, data), samples)
			ref := runtimetest.RunBytes(t, data, stack(held)...)
			spec := opspec.Lookup(c.op)
			for _, mode := range []FullMode{ModeInt8, ModeInt16x8, ModeUint8} {
				s := schemes[mode]
				want := spec.Full.Kernel(s.act)
				m := mustLoad(t, data)
				rep, err := Full(m, mode, st, Options{})
				if want == 0 {
					if err == nil && rep.IntegerOps > 0 && opCount(m, c.op, s.act) > 0 {
						t.Errorf("%s: no kernel in the table, but the operator was quantized", mode)
					}
					continue
				}
				if err != nil {
					t.Errorf("%s: %v", mode, err)
					continue
				}
				if len(rep.FloatOps) > 0 {
					t.Errorf("%s: left float: %+v", mode, rep.FloatOps)
				}
				out, err := m.Save()
				if err != nil {
					t.Fatal(err)
				}
				for _, op := range m.Subgraphs[0].Operators {
					if m.Builtin(op) != c.op {
						continue
					}
					v := m.OpCode(op).Version
					if v != want && !(c.op == fb.BuiltinOperatorTRANSPOSE_CONV && v == 3) && !(c.op == fb.BuiltinOperatorFULLY_CONNECTED && v == 6) &&
						!(c.op == fb.BuiltinOperatorRESIZE_BILINEAR && v == 3) {
						t.Errorf("%s: version %d, table says %d", mode, v, want)
					}
					if max, ok := opversion.PinnedMax(c.op); ok && v > max {
						t.Errorf("%s: version %d, the runtime registers up to %d", mode, v, max)
					}
				}
				res, err := runtimetest.RunModelBytes(t.Context(), out, stack(held), runtimetest.Options{})
				if err != nil {
					t.Errorf("%s: runtime: %v", mode, err)
					continue
				}
				got := res.Outputs
				if c.exact > 0 {
					if d := differing(t, ref, got); d > c.exact {
						t.Errorf("%s: %.1f%% of the outputs differ", mode, 100*d)
					}
					t.Logf("%s: %.1f%% of the outputs differ", mode, 100*differing(t, ref, got))
					continue
				}
				q := sqnr(t, ref, got)
				floor := or(c.min8, 30)
				if mode == ModeInt16x8 {
					floor = or(c.min16, 50)
				}
				t.Logf("%s: SQNR %.1f dB (version %d)", mode, q, want)
				if len(spec.Weights) > 0 && !spec.Full.IsInput(spec.Weights[0].Input) {
					floor = min(floor, 38) // int8 weights bound 16x8
				}
				if q < floor {
					t.Errorf("%s: SQNR %.1f dB, want at least %.0f", mode, q, floor)
				}
			}
		})
	}
	for _, s := range opspec.All() {
		if (s.Full.Int8 != 0 || s.Full.Int16 != 0) && !covered[s.Op] {
			t.Errorf("%s has an integer kernel in opspec but no case here", s.Name())
		}
	}
}

// opCount counts operators of code whose first input has type act.
func opCount(m *tflite.Model, code fb.BuiltinOperator, act fb.TensorType) int {
	n := 0
	for _, op := range m.Subgraphs[0].Operators {
		if m.Builtin(op) == code {
			for _, t := range op.Inputs {
				if t >= 0 && m.Subgraphs[0].Tensors[t].Type == act {
					n++
					break
				}
			}
		}
	}
	return n
}

// differing returns the fraction of output elements that differ.
func differing(t *testing.T, ref, got []*npy.Array) float64 {
	t.Helper()
	diff, total := 0, 0
	for i := range ref {
		a, err := ref[i].Float64s()
		if err != nil {
			t.Fatal(err)
		}
		b, err := got[i].Float64s()
		if err != nil {
			t.Fatal(err)
		}
		for k := range a {
			total++
			if a[k] != b[k] {
				diff++
			}
		}
	}
	return float64(diff) / float64(max(total, 1))
}
