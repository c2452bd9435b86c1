package interp

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"litequant/core/modelbuild"
	"litequant/core/npy"
	"litequant/core/runtimetest"
	fb "litequant/core/schema/tflitefb"
)

// Integer CONV_2D, DEPTHWISE_CONV_2D and FULLY_CONNECTED against the real
// runtime: single-operator models built in code, merged into a few models
// per run, whose integer outputs must equal the runtime's element for
// element (icCompare reports how many differ and by how much).

// icCfg is one integer convolution or fully connected case.
type icCfg struct {
	code      fb.BuiltinOperator
	typ       fb.TensorType // the activations' type
	b, h, w   int           // input batch and spatial size (FC: rows, -, depth)
	c         int           // input channels
	kh, kw    int
	oc        int // CONV_2D output channels; DEPTHWISE multiplier; FC units
	sh, sw    int
	dh, dw    int
	pad       fb.Padding
	act       fb.ActivationFunctionType
	perTensor bool // per-tensor weights (int8 and int16 use per-channel otherwise)
	noBias    bool
	wInput    bool // FC: weights as a graph input (TensorFlow Lite's kernel runs)
	keepDims  bool // FC: input [1, b, depth] with keep_num_dims
	zeroZP    bool // input and output zero points 0
	biasPC    bool // per-tensor weights with a bias quantized per channel (equal scales)
	groups    int  // CONV_2D: filter channels c/groups (0: 1 group)
}

func (c icCfg) name() string {
	t := map[fb.TensorType]string{fb.TensorTypeINT8: "i8", fb.TensorTypeUINT8: "u8", fb.TensorTypeINT16: "i16x8"}[c.typ]
	s := fmt.Sprintf("%s_%s_%dx%dx%dx%d", fb.EnumNamesBuiltinOperator[c.code], t, c.b, c.h, c.w, c.c)
	if c.code != fb.BuiltinOperatorFULLY_CONNECTED {
		s += fmt.Sprintf("_k%dx%d_o%d_s%d%d_d%d%d_%s", c.kh, c.kw, c.oc, c.sh, c.sw, c.dh, c.dw, fb.EnumNamesPadding[c.pad])
	} else {
		s = fmt.Sprintf("%s_%s_%dx%d_u%d", fb.EnumNamesBuiltinOperator[c.code], t, c.b, c.w, c.oc)
	}
	if c.act != fb.ActivationFunctionTypeNONE {
		s += "_" + fb.EnumNamesActivationFunctionType[c.act]
	}
	if c.perTensor {
		s += "_pt"
	}
	if c.noBias {
		s += "_nobias"
	}
	if c.wInput {
		s += "_winput"
	}
	if c.keepDims {
		s += "_keepdims"
	}
	if c.zeroZP {
		s += "_zp0"
	}
	if c.biasPC {
		s += "_biaspc"
	}
	if c.groups > 1 {
		s += fmt.Sprintf("_g%d", c.groups)
	}
	return s
}

func icConvBase(code fb.BuiltinOperator, typ fb.TensorType, h, w, c, k, oc int) icCfg {
	return icCfg{code: code, typ: typ, b: 1, h: h, w: w, c: c, kh: k, kw: k, oc: oc, sh: 1, sw: 1, dh: 1, dw: 1, pad: fb.PaddingSAME}
}

// icValues returns n random values of the activation type (full range;
// int16 within ±20000) and a zero point for it.
func icValues(r *rand.Rand, typ fb.TensorType, shape ...int) (*npy.Array, int64) {
	switch typ {
	case fb.TensorTypeUINT8:
		return ktU8(r, 0, 255, shape...), int64(100 + r.IntN(56))
	case fb.TensorTypeINT16:
		return ktI16(r, -20000, 20000, shape...), 0
	}
	return ktI8(r, -128, 127, shape...), int64(r.IntN(41) - 20)
}

// case_ builds the operator with random weights, bias and scales. The
// output scale makes the outputs spread over the type's range.
func (c icCfg) case_(r *rand.Rand) ktCase {
	in, inZP := icValues(r, c.typ, c.b, c.h, c.w, c.c)
	if c.code == fb.BuiltinOperatorFULLY_CONNECTED {
		in, inZP = icValues(r, c.typ, c.b, c.w)
		if c.keepDims {
			in.Shape = []int{1, c.b, c.w}
		}
	}
	if c.zeroZP {
		inZP = 0
	}
	inScale := float32(0.01 + 0.04*r.Float64())
	var wShape []int
	var channels, axis, depth int
	switch c.code {
	case fb.BuiltinOperatorCONV_2D:
		cg := c.c / max(c.groups, 1)
		wShape, channels, axis, depth = []int{c.oc, c.kh, c.kw, cg}, c.oc, 0, c.kh*c.kw*cg
	case fb.BuiltinOperatorDEPTHWISE_CONV_2D:
		wShape, channels, axis, depth = []int{1, c.kh, c.kw, c.c * c.oc}, c.c*c.oc, 3, c.kh*c.kw
	default:
		wShape, channels, axis, depth = []int{c.oc, c.w}, c.oc, 0, c.w
	}
	wt := ktT{typ: fb.TensorTypeINT8, shape: wShape}
	var wZP []int64
	var wScale []float32
	nScales := channels
	if c.perTensor || c.typ == fb.TensorTypeUINT8 {
		nScales = 1
	}
	for range nScales {
		wScale = append(wScale, float32(0.002+0.02*r.Float64()))
		wZP = append(wZP, 0)
	}
	if c.typ == fb.TensorTypeUINT8 {
		wt.typ = fb.TensorTypeUINT8
		wZP[0] = int64(110 + r.IntN(30))
		wt.data = ktU8(r, 0, 255, wShape...).Data
	} else {
		wt.data = ktI8(r, -127, 127, wShape...).Data
	}
	wt = ktQuant(wt, wScale, wZP, int32(axis))
	if len(wScale) == 1 {
		wt.axis = 0
	}
	if c.wInput {
		wt.data = nil
	}
	// Accumulators are about sqrt(depth)·σx·σw in integer units.
	sx, sw := 74.0, 73.0
	if c.typ == fb.TensorTypeINT16 {
		sx = 11500
	}
	accStd := math.Sqrt(float64(depth)) * sx * sw
	meanW := 0.0
	for _, s := range wScale {
		meanW += float64(s) / float64(len(wScale))
	}
	qmax := 128.0
	if c.typ == fb.TensorTypeINT16 {
		qmax = 32768
	}
	outScale := float32(2.5 * accStd * float64(inScale) * meanW / qmax)
	outZP := int64(0)
	switch c.typ {
	case fb.TensorTypeINT8:
		outZP = int64(r.IntN(61) - 30)
	case fb.TensorTypeUINT8:
		outZP = int64(100 + r.IntN(56))
	}
	if c.zeroZP {
		outZP = 0
	}
	ins := []ktT{ktQuant(ktIn(c.typ, in.Shape...), []float32{inScale}, []int64{inZP}, 0), wt}
	inputs := []*npy.Array{in}
	if c.wInput {
		inputs = append(inputs, &npy.Array{DType: npy.Int8, Shape: wShape, Data: ktI8(r, -127, 127, wShape...).Data})
		if c.typ == fb.TensorTypeUINT8 {
			inputs[1] = ktU8(r, 0, 255, wShape...)
		}
	}
	if !c.noBias {
		// Bias scale in·w, per channel as the weights (or, with biasPC,
		// per channel with equal scales); values about one accumulator σ.
		nb := len(wScale)
		if c.biasPC {
			nb = channels
		}
		bScale := make([]float32, nb)
		for i := range bScale {
			bScale[i] = inScale * wScale[min(i, len(wScale)-1)]
		}
		bz := make([]int64, nb)
		lim := int32(accStd)
		if c.typ == fb.TensorTypeINT16 {
			b := make([]int64, channels)
			for i := range b {
				b[i] = int64(r.Int32N(2*lim+1) - lim)
			}
			ins = append(ins, ktQuant(ktConst(npy.FromInt64([]int{channels}, b)), bScale, bz, 0))
		} else {
			ins = append(ins, ktQuant(ktConst(ktI32(r, -lim, lim, channels)), bScale, bz, 0))
		}
	}
	var outShape []int
	var opts any
	switch c.code {
	case fb.BuiltinOperatorCONV_2D:
		oh, _, _ := convOutSize(c.pad, c.h, c.kh, c.sh, c.dh)
		ow, _, _ := convOutSize(c.pad, c.w, c.kw, c.sw, c.dw)
		outShape = []int{c.b, oh, ow, c.oc}
		opts = &fb.Conv2DOptionsT{Padding: c.pad, StrideH: int32(c.sh), StrideW: int32(c.sw), DilationHFactor: int32(c.dh), DilationWFactor: int32(c.dw), FusedActivationFunction: c.act}
	case fb.BuiltinOperatorDEPTHWISE_CONV_2D:
		oh, _, _ := convOutSize(c.pad, c.h, c.kh, c.sh, c.dh)
		ow, _, _ := convOutSize(c.pad, c.w, c.kw, c.sw, c.dw)
		outShape = []int{c.b, oh, ow, c.c * c.oc}
		opts = &fb.DepthwiseConv2DOptionsT{Padding: c.pad, StrideH: int32(c.sh), StrideW: int32(c.sw), DilationHFactor: int32(c.dh), DilationWFactor: int32(c.dw), DepthMultiplier: int32(c.oc), FusedActivationFunction: c.act}
	default:
		outShape = []int{c.b, c.oc}
		if c.keepDims {
			outShape = []int{1, c.b, c.oc}
		}
		opts = &fb.FullyConnectedOptionsT{FusedActivationFunction: c.act, KeepNumDims: c.keepDims}
	}
	out := ktQuant(ktIn(c.typ, outShape...), []float32{outScale}, []int64{outZP}, 0)
	op := ktSpec(c.code, opts, ins, out)
	// Versions the runtime asks for these operand types.
	switch {
	case c.typ == fb.TensorTypeINT16 && c.code == fb.BuiltinOperatorFULLY_CONNECTED:
		op.version = 7
	case c.typ == fb.TensorTypeINT16:
		op.version = 4
	case c.typ == fb.TensorTypeINT8 && c.code == fb.BuiltinOperatorFULLY_CONNECTED:
		op.version = 4
	case c.typ == fb.TensorTypeINT8 && c.code == fb.BuiltinOperatorDEPTHWISE_CONV_2D:
		op.version = 3
	case c.typ == fb.TensorTypeINT8:
		op.version = 3
	}
	return ktCase{name: c.name(), op: op, inputs: inputs}
}

// icCompare runs the cases, a group at a time merged into one model, in
// the Go interpreter and the real runtime and requires equal integer
// outputs, reporting per case the number of differing elements and the
// largest difference.
func icCompare(t *testing.T, cases []ktCase) {
	t.Helper()
	runtimetest.Require(t)
	for g0 := 0; g0 < len(cases); g0 += ktGroup {
		group := cases[g0:min(g0+ktGroup, len(cases))]
		b := modelbuild.New()
		var ins, outs []int32
		var arrays []*npy.Array
		for k, c := range group {
			gi, oi := c.op.add(b, fmt.Sprintf("c%d_", k))
			ins = append(ins, gi...)
			outs = append(outs, oi...)
			arrays = append(arrays, c.inputs...)
		}
		b.Inputs(ins...)
		b.Outputs(outs...)
		model := b.Bytes()
		t.Run(group[0].name+"...", func(t *testing.T) {
			got, err := runGo(model, arrays)
			if err != nil {
				t.Fatalf("Go interpreter: %v", err)
			}
			res, err := runtimetest.RunModelBytes(context.Background(), model, arrays, runtimetest.Options{})
			if err != nil {
				t.Fatalf("real runtime: %v", err)
			}
			for i, c := range group {
				if msg := icDiff(got[i], res.Outputs[i]); msg != "" {
					t.Errorf("%s: %s", c.name, msg)
				}
			}
		})
	}
}

// icDiff describes how integer array got differs from want, or "".
func icDiff(got, want *npy.Array) string {
	if got.DType != want.DType || !slices.Equal(got.Shape, want.Shape) {
		return fmt.Sprintf("%s %v, runtime gives %s %v", got.DType, got.Shape, want.DType, want.Shape)
	}
	g, _ := got.Float64s()
	w, _ := want.Float64s()
	diff, worst, at := 0, 0.0, -1
	for i := range w {
		if d := math.Abs(g[i] - w[i]); d != 0 {
			diff++
			if d > worst {
				worst, at = d, i
			}
		}
	}
	if diff == 0 {
		return ""
	}
	return fmt.Sprintf("%d of %d elements differ, by up to %g (element %d: %g, runtime %g)", diff, len(w), worst, at, g[at], w[at])
}

// icConvCfgs is the table of convolution cases for one operator and type.
func icConvCfgs(code fb.BuiltinOperator, typ fb.TensorType) []icCfg {
	oc := func(n int) int {
		if code == fb.BuiltinOperatorDEPTHWISE_CONV_2D {
			return 1 + n%3 // multipliers 1..3
		}
		return n
	}
	var cfgs []icCfg
	for _, pad := range []fb.Padding{fb.PaddingSAME, fb.PaddingVALID} {
		for _, k := range [][2]int{{1, 1}, {3, 3}, {2, 3}, {5, 5}} {
			for _, st := range [][2]int{{1, 1}, {2, 2}, {1, 2}} {
				c := icConvBase(code, typ, 9, 8, 5, 1, oc(7))
				c.kh, c.kw, c.sh, c.sw, c.pad = k[0], k[1], st[0], st[1], pad
				cfgs = append(cfgs, c)
			}
		}
		for _, d := range [][2]int{{2, 2}, {1, 3}} {
			c := icConvBase(code, typ, 10, 11, 4, 3, oc(6))
			c.dh, c.dw, c.pad = d[0], d[1], pad
			cfgs = append(cfgs, c)
		}
	}
	// Channel counts and depth multipliers; batch 2.
	for i, ch := range [][2]int{{1, 1}, {3, 2}, {8, 16}, {16, 3}, {17, 9}} {
		c := icConvBase(code, typ, 6, 7, ch[0], 3, ch[1])
		if code == fb.BuiltinOperatorDEPTHWISE_CONV_2D {
			c.oc = 1 + i%3
		}
		c.b = 1 + i%2
		cfgs = append(cfgs, c)
	}
	for _, act := range []fb.ActivationFunctionType{fb.ActivationFunctionTypeRELU, fb.ActivationFunctionTypeRELU6,
		fb.ActivationFunctionTypeRELU_N1_TO_1, fb.ActivationFunctionTypeTANH} {
		c := icConvBase(code, typ, 5, 6, 4, 3, oc(5))
		c.act = act
		cfgs = append(cfgs, c)
	}
	c := icConvBase(code, typ, 7, 5, 6, 3, oc(4))
	c.perTensor = true
	cfgs = append(cfgs, c)
	if code == fb.BuiltinOperatorCONV_2D {
		for _, g := range [][3]int{{2, 8, 6}, {4, 16, 8}} {
			c = icConvBase(code, typ, 9, 7, g[1], 3, g[2])
			c.groups = g[0]
			cfgs = append(cfgs, c)
		}
	}
	if code == fb.BuiltinOperatorDEPTHWISE_CONV_2D {
		// TensorFlow Lite's quantized CONV_2D requires a bias.
		c = icConvBase(code, typ, 7, 5, 6, 3, oc(4))
		c.noBias = true
		cfgs = append(cfgs, c)
		c = icConvBase(code, typ, 32, 32, 16, 3, 2)
		c.noBias = true
		cfgs = append(cfgs, c)
	}
	// A fused activation XNNPACK does not take, on a large image.
	c = icConvBase(code, typ, 32, 32, 32, 3, oc(32))
	c.act = fb.ActivationFunctionTypeTANH
	cfgs = append(cfgs, c)
	// A large filter on a large image, as in single_depthwise_conv2d_bias.
	c = icConvBase(code, typ, 64, 64, 3, 8, oc(3))
	cfgs = append(cfgs, c)
	// Larger images (many outputs, so that rounding differences show).
	cfgs = append(cfgs, icConvBase(code, typ, 24, 20, 16, 3, oc(24)), icConvBase(code, typ, 32, 32, 32, 3, oc(32)))
	return cfgs
}

func icRunCfgs(t *testing.T, seed uint64, cfgs []icCfg) {
	r := ktRand(seed)
	var cases []ktCase
	for _, c := range cfgs {
		cases = append(cases, c.case_(r))
	}
	icCompare(t, cases)
}

var icTypes = []fb.TensorType{fb.TensorTypeINT8, fb.TensorTypeUINT8, fb.TensorTypeINT16}

func TestIntConv2DRuntime(t *testing.T) {
	for i, typ := range icTypes {
		t.Run(fb.EnumNamesTensorType[typ], func(t *testing.T) {
			icRunCfgs(t, uint64(100+i), icConvCfgs(fb.BuiltinOperatorCONV_2D, typ))
		})
	}
}

func TestIntDepthwiseConv2DRuntime(t *testing.T) {
	for i, typ := range icTypes {
		t.Run(fb.EnumNamesTensorType[typ], func(t *testing.T) {
			icRunCfgs(t, uint64(200+i), icConvCfgs(fb.BuiltinOperatorDEPTHWISE_CONV_2D, typ))
		})
	}
}

func TestIntFullyConnectedRuntime(t *testing.T) {
	for i, typ := range icTypes {
		t.Run(fb.EnumNamesTensorType[typ], func(t *testing.T) {
			var cfgs []icCfg
			for _, s := range [][3]int{{1, 1, 1}, {1, 7, 5}, {3, 16, 10}, {2, 33, 17}, {5, 128, 64}, {1, 400, 12}, {16, 256, 200}} {
				cfgs = append(cfgs, icCfg{code: fb.BuiltinOperatorFULLY_CONNECTED, typ: typ, b: s[0], w: s[1], oc: s[2]})
			}
			for _, act := range []fb.ActivationFunctionType{fb.ActivationFunctionTypeRELU, fb.ActivationFunctionTypeRELU6, fb.ActivationFunctionTypeRELU_N1_TO_1} {
				cfgs = append(cfgs, icCfg{code: fb.BuiltinOperatorFULLY_CONNECTED, typ: typ, b: 2, w: 20, oc: 9, act: act})
			}
			cfgs = append(cfgs,
				icCfg{code: fb.BuiltinOperatorFULLY_CONNECTED, typ: typ, b: 2, w: 20, oc: 9, noBias: true},
				icCfg{code: fb.BuiltinOperatorFULLY_CONNECTED, typ: typ, b: 3, w: 24, oc: 7, wInput: true},
				icCfg{code: fb.BuiltinOperatorFULLY_CONNECTED, typ: typ, b: 3, w: 24, oc: 7, wInput: true, act: fb.ActivationFunctionTypeRELU},
				icCfg{code: fb.BuiltinOperatorFULLY_CONNECTED, typ: typ, b: 16, w: 256, oc: 200, wInput: true},
				icCfg{code: fb.BuiltinOperatorFULLY_CONNECTED, typ: typ, b: 16, w: 256, oc: 200, noBias: true},
				icCfg{code: fb.BuiltinOperatorFULLY_CONNECTED, typ: typ, b: 32, w: 300, oc: 256, noBias: true},
				icCfg{code: fb.BuiltinOperatorFULLY_CONNECTED, typ: typ, b: 32, w: 300, oc: 256, noBias: true, wInput: true},
				icCfg{code: fb.BuiltinOperatorFULLY_CONNECTED, typ: typ, b: 32, w: 300, oc: 256},
				icCfg{code: fb.BuiltinOperatorFULLY_CONNECTED, typ: typ, b: 32, w: 300, oc: 256, keepDims: true},
				icCfg{code: fb.BuiltinOperatorFULLY_CONNECTED, typ: typ, b: 32, w: 300, oc: 256, zeroZP: true},
				icCfg{code: fb.BuiltinOperatorFULLY_CONNECTED, typ: typ, b: 32, w: 300, oc: 256, act: fb.ActivationFunctionTypeRELU},
			)
			for k := range cfgs {
				cfgs[k].perTensor = true // TensorFlow Lite 2.9 has per-tensor FULLY_CONNECTED only
			}
			icRunCfgs(t, uint64(300+i), cfgs)
		})
	}
}

// TestIntUint8KernelsRuntime covers TensorFlow Lite's own uint8 kernels:
// per-tensor weights with a bias quantized per channel (equal scales) are
// not taken by XNNPACK, so the runtime runs its gemmlowp and depthwise
// kernels. (Such nodes get a model of their own: mixed with others, the
// runtime was seen to run every node of the model on its own kernels.)
func TestIntUint8KernelsRuntime(t *testing.T) {
	u8 := fb.TensorTypeUINT8
	var cfgs []icCfg
	for _, code := range []fb.BuiltinOperator{fb.BuiltinOperatorCONV_2D, fb.BuiltinOperatorDEPTHWISE_CONV_2D} {
		for _, k := range []int{1, 3} {
			c := icConvBase(code, u8, 32, 32, 16, k, 16)
			if code == fb.BuiltinOperatorDEPTHWISE_CONV_2D {
				c.oc = 2
			}
			c.biasPC = true
			cfgs = append(cfgs, c)
		}
	}
	for _, act := range []fb.ActivationFunctionType{fb.ActivationFunctionTypeNONE, fb.ActivationFunctionTypeRELU6} {
		cfgs = append(cfgs, icCfg{code: fb.BuiltinOperatorFULLY_CONNECTED, typ: u8, b: 32, w: 300, oc: 256, perTensor: true, biasPC: true, act: act})
	}
	icRunCfgs(t, 400, cfgs)
}

// TestIntBatchMatMulRuntime: integer BATCH_MATMUL over batch broadcasting,
// adj_x/adj_y, constant and input rhs, int8 and int16.
func TestIntBatchMatMulRuntime(t *testing.T) {
	r := ktRand(500)
	type bmm struct {
		l, rr      []int
		adjX, adjY bool
		constR     bool
	}
	var cases []ktCase
	for _, typ := range []fb.TensorType{fb.TensorTypeINT8, fb.TensorTypeINT16} {
		for _, c := range []bmm{
			{l: []int{1, 4, 3}, rr: []int{1, 3, 5}},
			{l: []int{2, 7, 16}, rr: []int{2, 16, 9}, constR: true},
			{l: []int{3, 2, 8, 32}, rr: []int{32, 24}, constR: true},
			{l: []int{2, 1, 6, 10}, rr: []int{1, 3, 10, 4}},
			{l: []int{2, 10, 6}, rr: []int{2, 4, 10}, adjX: true, adjY: true},
			{l: []int{4, 64, 48}, rr: []int{4, 48, 64}},
			{l: []int{1, 128, 96}, rr: []int{1, 96, 80}, constR: true},
		} {
			gen := func(shape []int) (*npy.Array, int64) {
				if typ == fb.TensorTypeINT16 {
					return ktI16(r, -20000, 20000, shape...), 0
				}
				return ktI8(r, -128, 127, shape...), int64(r.IntN(41) - 20)
			}
			la, lz := gen(c.l)
			ra, rz := gen(c.rr)
			k := c.l[len(c.l)-1]
			if c.adjX {
				k = c.l[len(c.l)-2]
			}
			ls, rs := float32(0.01+0.04*r.Float64()), float32(0.01+0.04*r.Float64())
			sx := 74.0
			qmax := 128.0
			if typ == fb.TensorTypeINT16 {
				sx, qmax = 11500, 32768
			}
			os := float32(2.5 * math.Sqrt(float64(k)) * sx * sx * float64(ls*rs) / qmax)
			oz := int64(0)
			if typ == fb.TensorTypeINT8 {
				oz = int64(r.IntN(61) - 30)
			}
			g, err := newBmmGeom(&Tensor{Shape: c.l}, &Tensor{Shape: c.rr}, c.adjX, c.adjY)
			if err != nil {
				t.Fatal(err)
			}
			rt := ktQuant(ktIn(typ, c.rr...), []float32{rs}, []int64{rz}, 0)
			inputs := []*npy.Array{la}
			if c.constR {
				rt.data = ra.Data
			} else {
				inputs = append(inputs, ra)
			}
			op := ktSpec(fb.BuiltinOperatorBATCH_MATMUL, &fb.BatchMatMulOptionsT{AdjX: c.adjX, AdjY: c.adjY},
				[]ktT{ktQuant(ktIn(typ, c.l...), []float32{ls}, []int64{lz}, 0), rt},
				ktQuant(ktIn(typ, g.outShape[:g.rank]...), []float32{os}, []int64{oz}, 0))
			op.version = 4
			name := fmt.Sprintf("BATCH_MATMUL_%s_%v_%v_adj%v%v_const%v", fb.EnumNamesTensorType[typ], c.l, c.rr, c.adjX, c.adjY, c.constR)
			cases = append(cases, ktCase{name: name, op: op, inputs: inputs})
		}
	}
	icCompare(t, cases)
}

// TestIntTransposeConvRuntime: integer TRANSPOSE_CONV over strides,
// padding, filter sizes, channel counts, with and without bias.
func TestIntTransposeConvRuntime(t *testing.T) {
	r := ktRand(600)
	type tc struct{ h, w, c, k, oc, s int }
	var cases []ktCase
	for _, typ := range icTypes {
		for _, pad := range []fb.Padding{fb.PaddingSAME, fb.PaddingVALID} {
			for ci, g := range []tc{{4, 5, 3, 3, 4, 2}, {6, 6, 8, 2, 5, 2}, {5, 4, 2, 3, 3, 1}, {3, 3, 16, 4, 8, 2}, {8, 8, 16, 3, 16, 2}} {
				in, inZP := icValues(r, typ, 1, g.h, g.w, g.c)
				inScale := float32(0.01 + 0.04*r.Float64())
				oh, ow := g.h*g.s, g.w*g.s
				if pad == fb.PaddingVALID {
					oh, ow = (g.h-1)*g.s+g.k, (g.w-1)*g.s+g.k
				}
				wShape := []int{g.oc, g.k, g.k, g.c}
				wt := ktT{typ: fb.TensorTypeINT8, shape: wShape, data: ktI8(r, -127, 127, wShape...).Data}
				nsc := g.oc
				var wZP []int64
				if typ == fb.TensorTypeUINT8 {
					wt.typ, wt.data, nsc = fb.TensorTypeUINT8, ktU8(r, 0, 255, wShape...).Data, 1
					wZP = []int64{int64(110 + r.IntN(30))}
				} else {
					wZP = make([]int64, nsc)
				}
				wScale := make([]float32, nsc)
				bScale := make([]float32, nsc)
				for i := range wScale {
					wScale[i] = float32(0.002 + 0.02*r.Float64())
					bScale[i] = inScale * wScale[i]
				}
				wt = ktQuant(wt, wScale, wZP, 0)
				// Each output sums about (k/s)²·c products.
				taps := float64(g.k*g.k*g.c) / float64(g.s*g.s)
				sx, qmax := 74.0, 128.0
				if typ == fb.TensorTypeINT16 {
					sx, qmax = 11500, 32768
				}
				accStd := math.Sqrt(taps) * sx * 73
				outScale := float32(2.5 * accStd * float64(inScale) * float64(wScale[0]) / qmax)
				outZP := int64(0)
				if typ == fb.TensorTypeUINT8 {
					outZP = int64(100 + r.IntN(56))
				} else if typ == fb.TensorTypeINT8 {
					outZP = int64(r.IntN(61) - 30)
				}
				ins := []ktT{ktConst(npy.FromInt32([]int{4}, []int32{1, int32(oh), int32(ow), int32(g.oc)})), wt,
					ktQuant(ktIn(typ, 1, g.h, g.w, g.c), []float32{inScale}, []int64{inZP}, 0)}
				if ci%2 == 0 {
					lim := int32(accStd)
					bz := make([]int64, nsc)
					if typ == fb.TensorTypeINT16 {
						b := make([]int64, g.oc)
						for i := range b {
							b[i] = int64(r.Int32N(2*lim+1) - lim)
						}
						ins = append(ins, ktQuant(ktConst(npy.FromInt64([]int{g.oc}, b)), bScale, bz, 0))
					} else {
						ins = append(ins, ktQuant(ktConst(ktI32(r, -lim, lim, g.oc)), bScale, bz, 0))
					}
				}
				op := ktSpec(fb.BuiltinOperatorTRANSPOSE_CONV, &fb.TransposeConvOptionsT{Padding: pad, StrideH: int32(g.s), StrideW: int32(g.s)},
					ins, ktQuant(ktIn(typ, 1, oh, ow, g.oc), []float32{outScale}, []int64{outZP}, 0))
				op.version = 3
				name := fmt.Sprintf("TRANSPOSE_CONV_%s_%dx%dx%d_k%d_o%d_s%d_%s_bias%v", fb.EnumNamesTensorType[typ], g.h, g.w, g.c, g.k, g.oc, g.s, fb.EnumNamesPadding[pad], ci%2 == 0)
				cases = append(cases, ktCase{name: name, op: op, inputs: []*npy.Array{in}})
			}
		}
	}
	icCompare(t, cases)
}

// TestIntKernelErrors: configurations the integer kernels refuse, with
// messages that say what is wrong.
func TestIntKernelErrors(t *testing.T) {
	r := ktRand(700)
	I8, U8, I16, I32 := fb.TensorTypeINT8, fb.TensorTypeUINT8, fb.TensorTypeINT16, fb.TensorTypeINT32
	q := func(tt ktT, scale float32, zp int64) ktT { return ktQuant(tt, []float32{scale}, []int64{zp}, 0) }
	x := q(ktIn(I8, 1, 4, 4, 3), 0.05, 1)
	w := q(ktConst(ktI8(r, -127, 127, 2, 3, 3, 3)), 0.01, 0)
	bias := q(ktConst(ktI32(r, -100, 100, 2)), 0.0005, 0)
	conv := &fb.Conv2DOptionsT{Padding: fb.PaddingSAME, StrideH: 1, StrideW: 1, DilationHFactor: 1, DilationWFactor: 1}
	out := q(ktIn(I8, 1, 4, 4, 2), 0.1, 0)
	in := ktI8(r, -128, 127, 1, 4, 4, 3)
	for _, c := range []struct {
		name, want string
		ins        []ktT
		out        ktT
		inputs     []*npy.Array
	}{
		{"float weights", "weights (want INT8)", []ktT{x, ktConst(cvtArray(r, 2, 3, 3, 3)), bias}, out, []*npy.Array{in}},
		{"filter input", "non-constant filter", []ktT{x, q(ktIn(I8, 2, 3, 3, 3), 0.01, 0), bias}, out, []*npy.Array{in, ktI8(r, -127, 127, 2, 3, 3, 3)}},
		{"bias size", "bias has 3 elements", []ktT{x, w, q(ktConst(ktI32(r, -100, 100, 3)), 0.0005, 0)}, out, []*npy.Array{in}},
		{"output type", "output of type UINT8", []ktT{x, w, bias}, q(ktIn(U8, 1, 4, 4, 2), 0.1, 0), []*npy.Array{in}},
		{"int16 zero point", "zero point 3", []ktT{q(ktIn(I16, 1, 4, 4, 3), 0.001, 3), w, q(ktConst(npy.FromInt64([]int{2}, []int64{1, 2})), 0.00001, 0)}, q(ktIn(I16, 1, 4, 4, 2), 0.01, 0), []*npy.Array{ktI16(r, -100, 100, 1, 4, 4, 3)}},
		{"int8 with int64 bias", "a INT64 bias", []ktT{x, w, q(ktConst(npy.FromInt64([]int{2}, []int64{1, 2})), 0.0005, 0)}, out, []*npy.Array{in}},
		{"weight scales", "do not match the shape", []ktT{x, ktQuant(ktConst(ktI8(r, -127, 127, 2, 3, 3, 3)), []float32{0.01, 0.02, 0.03}, []int64{0, 0, 0}, 0), bias}, out, []*npy.Array{in}},
		{"weight axis", "quantized along axis 3 (want 0)", []ktT{x, ktQuant(ktConst(ktI8(r, -127, 127, 2, 3, 3, 3)), []float32{0.01, 0.02, 0.03}, []int64{0, 0, 0}, 3), bias}, out, []*npy.Array{in}},
		{"unquantized input", "quantized per tensor", []ktT{ktIn(I8, 1, 4, 4, 3), w, bias}, out, []*npy.Array{in}},
		{"int32 input", "input of type INT32", []ktT{ktIn(I32, 1, 4, 4, 3), w, bias}, q(ktIn(I32, 1, 4, 4, 2), 0.1, 0), []*npy.Array{ktI32(r, -5, 5, 1, 4, 4, 3)}},
	} {
		t.Run(c.name, func(t *testing.T) {
			ktWantErr(t, c.want, ktModel(fb.BuiltinOperatorCONV_2D, conv, c.ins, c.out), c.inputs...)
		})
	}
}
