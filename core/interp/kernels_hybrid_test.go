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

// hybridTol bounds the difference between the Go interpreter's and the real
// runtime's float outputs of hybrid models: max |got − want| / max |want|
// over each output (maxRelDiff).
const hybridTol = 1e-5

// maxRelDiff is max |got − want| / max |want| over two float arrays of the
// same size (max |got − want| when want is all zeros), and a message when
// they differ in dtype, shape, or where one has NaN or Inf.
func maxRelDiff(got, want *npy.Array) (float64, string) {
	if got.DType != want.DType {
		return 0, fmt.Sprintf("dtype %s, runtime gives %s", got.DType, want.DType)
	}
	if !slices.Equal(got.Shape, want.Shape) {
		return 0, fmt.Sprintf("shape %v, runtime gives %v", got.Shape, want.Shape)
	}
	g, err := got.Float64s()
	if err != nil {
		return 0, err.Error()
	}
	w, err := want.Float64s()
	if err != nil {
		return 0, err.Error()
	}
	var maxAbs, maxDiff float64
	for i := range w {
		if math.IsNaN(w[i]) || math.IsInf(w[i], 0) || math.IsNaN(g[i]) || math.IsInf(g[i], 0) {
			if !(math.IsNaN(w[i]) && math.IsNaN(g[i])) && g[i] != w[i] {
				return 0, fmt.Sprintf("element %d: %v, runtime gives %v", i, g[i], w[i])
			}
			continue
		}
		maxAbs = max(maxAbs, math.Abs(w[i]))
		maxDiff = max(maxDiff, math.Abs(g[i]-w[i]))
	}
	if maxAbs == 0 {
		return maxDiff, ""
	}
	return maxDiff / maxAbs, ""
}

// hybridCompareModel runs model on inputs in both interpreters and returns
// the largest maxRelDiff over its outputs, failing the test on a mismatch
// of count, dtype or shape, or on a difference above tol.
func hybridCompareModel(t *testing.T, model []byte, inputs []*npy.Array, tol float64, names []string) float64 {
	t.Helper()
	runtimetest.Require(t)
	got, err := runGo(model, inputs)
	if err != nil {
		t.Fatalf("Go interpreter: %v", err)
	}
	res, err := runtimetest.RunModelBytes(context.Background(), model, inputs, runtimetest.Options{})
	if err != nil {
		t.Fatalf("real runtime: %v", err)
	}
	if len(got) != len(res.Outputs) {
		t.Fatalf("Go gave %d outputs, runtime %d", len(got), len(res.Outputs))
	}
	worst := 0.0
	for i, want := range res.Outputs {
		d, msg := maxRelDiff(got[i], want)
		name := fmt.Sprintf("output %d", i)
		if i < len(names) {
			name += " (" + names[i] + ")"
		}
		switch {
		case msg != "":
			t.Errorf("%s: %s", name, msg)
		case d > tol:
			t.Errorf("%s: max relative difference %.3g > %g", name, d, tol)
		}
		worst = max(worst, d)
	}
	return worst
}

// hybridCompare checks single-operator cases against the real runtime,
// several to a model, and logs the largest difference of each group.
func hybridCompare(t *testing.T, cases []cvtCase) {
	t.Helper()
	for g0 := 0; g0 < len(cases); g0 += cvtGroupSize {
		group := cases[g0:min(g0+cvtGroupSize, len(cases))]
		b := modelbuild.New()
		var ins, outs []int32
		var arrays []*npy.Array
		var names []string
		for i, c := range group {
			ci, co := c.build(b, fmt.Sprintf("c%d_", i))
			if len(ci) != len(c.inputs) {
				t.Fatalf("%s: %d graph inputs, %d arrays", c.name, len(ci), len(c.inputs))
			}
			ins = append(ins, ci...)
			outs = append(outs, co...)
			arrays = append(arrays, c.inputs...)
			for range co {
				names = append(names, c.name)
			}
		}
		b.Inputs(ins...)
		b.Outputs(outs...)
		model := b.Bytes()
		t.Run(group[0].name, func(t *testing.T) {
			d := hybridCompareModel(t, model, arrays, hybridTol, names)
			t.Logf("%d cases, max relative difference %.3g", len(group), d)
		})
	}
}

// hybQuant quantizes v symmetrically to int8: per channel along axis 0 of
// a [rows, ...] tensor (rows scales), or with one scale when rows is 0.
// Returns the bytes and the scales.
func hybQuant(v []float32, rows int, axisLast bool) ([]byte, []float32) {
	groups := 1
	if rows > 0 {
		groups = rows
	}
	ch := func(i int) int {
		if rows == 0 {
			return 0
		}
		if axisLast {
			return i % rows
		}
		return i / (len(v) / rows)
	}
	maxAbs := make([]float64, groups)
	for i, x := range v {
		maxAbs[ch(i)] = max(maxAbs[ch(i)], math.Abs(float64(x)))
	}
	scales := make([]float32, groups)
	for g, m := range maxAbs {
		scales[g] = float32(m / 127)
		if m == 0 {
			scales[g] = 1
		}
	}
	out := make([]byte, len(v))
	for i, x := range v {
		q := math.Round(float64(x) / float64(scales[ch(i)]))
		out[i] = byte(int8(max(-127, min(127, q))))
	}
	return out, scales
}

// hybConstI8 adds an INT8 constant quantized from v (see hybQuant) with
// zero points 0 on axis.
func hybConstI8(b *modelbuild.Builder, name string, shape []int, v []float32, perChannel bool, axis int) int32 {
	rows := 0
	if perChannel {
		rows = shape[axis]
	}
	data, scales := hybQuant(v, rows, axis == len(shape)-1 && axis != 0)
	t := b.Const(name, fb.TensorTypeINT8, cvt32(shape), data)
	b.Quantize(t, scales, make([]int64, len(scales)), int32(axis))
	return t
}

// hybValues gives count values in [-1, 1), with every tenth one scaled up
// so rows have outliers, and some exact zeros.
func hybValues(r *rand.Rand, count int) []float32 {
	v := cvtValues(r, count)
	for i := range v {
		switch i % 10 {
		case 3:
			v[i] *= 4
		case 7:
			v[i] = 0
		}
	}
	return v
}

// hybInput is a float input array whose rows (of the given length) have
// different ranges, some all-positive, one all zeros when zeroRow.
func hybInput(r *rand.Rand, shape []int, row int, zeroRow bool) *npy.Array {
	v := hybValues(r, cvtCount(shape))
	for i := range v {
		k := i / row
		switch k % 4 {
		case 1:
			v[i] = float32(math.Abs(float64(v[i]))) * 3
		case 2:
			v[i] *= 0.01
		}
		if zeroRow && k == 1 {
			v[i] = 0
		}
	}
	return npy.FromFloat32(shape, v)
}

// ---------------------------------------------------------------------------
// The quantization of input rows.

func TestHybridSymmetric(t *testing.T) {
	cases := []struct {
		in    []float32
		want  []int8
		scale float32
	}{
		{[]float32{0, 0, 0}, []int8{0, 0, 0}, 1},
		{[]float32{1, -0.5, 0.25}, []int8{127, -64, 32}, float32(1) / 127},
		{[]float32{-2, 1, 0}, []int8{-127, 64, 0}, float32(2) / 127},
		// 127/254 = 0.5 exactly: half away from zero.
		{[]float32{254, 1, -1, 3}, []int8{127, 1, -1, 2}, 2},
	}
	for _, c := range cases {
		got := make([]int8, len(c.in))
		s := hybridSymmetric(got, c.in)
		if s != c.scale || fmt.Sprint(got) != fmt.Sprint(c.want) {
			t.Errorf("%v: got %v scale %v, want %v scale %v", c.in, got, s, c.want, c.scale)
		}
	}
}

func TestHybridAsymmetric(t *testing.T) {
	cases := []struct {
		in    []float32
		want  []int8
		scale float32
		zp    int32
	}{
		{[]float32{0, 0}, []int8{0, 0}, 1, 0},
		// [0, 2.55]: scale 0.01, zero point -128.
		{[]float32{0, 2.55, 1}, []int8{-128, 127, -28}, 0.01, -128},
		// [-2.55, 0]: zero point 127.
		{[]float32{-2.55, 0, -1}, []int8{-128, 127, 27}, 0.01, 127},
		// [-1, 1.55]: scale 0.01, zero point -28.
		{[]float32{-1, 1.55, 0}, []int8{-128, 127, -28}, 0.01, -28},
	}
	for _, c := range cases {
		got := make([]int8, len(c.in))
		s, zp := hybridAsymmetric(got, c.in)
		if math.Abs(float64(s-c.scale)) > 1e-9 || zp != c.zp || fmt.Sprint(got) != fmt.Sprint(c.want) {
			t.Errorf("%v: got %v scale %v zp %d, want %v scale %v zp %d", c.in, got, s, zp, c.want, c.scale, c.zp)
		}
	}
}

// ---------------------------------------------------------------------------
// FULLY_CONNECTED

type hybFCCfg struct {
	in          []int
	units       int
	asym        bool
	perChannel  bool
	keep        bool
	noBias      bool
	act         fb.ActivationFunctionType
	zeroRow     bool
	weightScale bool // one scale, but given as a one-element per-channel list
}

func (c hybFCCfg) String() string {
	return fmt.Sprintf("fc%v_u%d_asym%v_pc%v_keep%v_nobias%v_%s_zero%v", c.in, c.units, c.asym, c.perChannel, c.keep, c.noBias,
		fb.EnumNamesActivationFunctionType[c.act], c.zeroRow)
}

func (c hybFCCfg) add(r *rand.Rand) cvtCase {
	depth := c.in[len(c.in)-1]
	x := hybInput(r, c.in, depth, c.zeroRow)
	wv := hybValues(r, c.units*depth)
	bv := cvtValues(r, c.units)
	return cvtCase{name: c.String(), inputs: []*npy.Array{x}, build: func(b *modelbuild.Builder, p string) ([]int32, []int32) {
		xi := b.Tensor(p+"x", cvtF32, cvt32(c.in)...)
		wi := hybConstI8(b, p+"w", []int{c.units, depth}, wv, c.perChannel, 0)
		ins := []int32{xi, wi}
		if c.noBias {
			ins = append(ins, -1)
		} else {
			ins = append(ins, b.ConstFloat32(p+"b", []int32{int32(c.units)}, bv))
		}
		var outShape []int32
		if c.keep {
			outShape = cvt32(c.in)
			outShape[len(outShape)-1] = int32(c.units)
		} else {
			outShape = []int32{int32(cvtCount(c.in) / depth), int32(c.units)}
		}
		yi := b.Tensor(p+"y", cvtF32, outShape...)
		b.Op(fb.BuiltinOperatorFULLY_CONNECTED, &fb.FullyConnectedOptionsT{FusedActivationFunction: c.act, KeepNumDims: c.keep, AsymmetricQuantizeInputs: c.asym}, ins, []int32{yi})
		return []int32{xi}, []int32{yi}
	}}
}

func TestHybridFullyConnected(t *testing.T) {
	r := cvtRand(1)
	var cases []cvtCase
	for _, asym := range []bool{false, true} {
		for _, c := range []hybFCCfg{
			{in: []int{1, 8}, units: 4},
			{in: []int{3, 16}, units: 5, zeroRow: true},
			{in: []int{2, 3, 40}, units: 7, keep: true},
			{in: []int{2, 3, 40}, units: 7},
			{in: []int{4, 33}, units: 9, noBias: true},
			{in: []int{4, 33}, units: 9, act: fb.ActivationFunctionTypeRELU},
			{in: []int{4, 33}, units: 9, act: fb.ActivationFunctionTypeRELU6},
			{in: []int{4, 33}, units: 9, act: fb.ActivationFunctionTypeRELU_N1_TO_1},
			{in: []int{5, 300}, units: 64},
			// Per-channel scales: the runtime's kernel reads none of them.
			{in: []int{3, 16}, units: 5, perChannel: true},
		} {
			c.asym = asym
			cases = append(cases, c.add(r))
		}
	}
	hybridCompare(t, cases)
}

// ---------------------------------------------------------------------------
// CONV_2D and DEPTHWISE_CONV_2D

type hybConvCfg struct {
	batch, h, w, c  int
	o, kh, kw       int // o: output channels (CONV_2D) or multiplier (DEPTHWISE)
	sh, sw, dh, dw  int
	pad             fb.Padding
	perChannel      bool
	act             fb.ActivationFunctionType
	depthwise       bool
	noBias, zeroImg bool
	equalScales     bool // per-channel scales that are all the same
}

func (c hybConvCfg) String() string {
	op := "conv"
	if c.depthwise {
		op = "dw"
	}
	return fmt.Sprintf("%s_b%d_%dx%dx%d_o%d_k%dx%d_s%d%d_d%d%d_%s_pc%v_%s", op, c.batch, c.h, c.w, c.c, c.o, c.kh, c.kw, c.sh, c.sw, c.dh, c.dw,
		fb.EnumNamesPadding[c.pad], c.perChannel, fb.EnumNamesActivationFunctionType[c.act])
}

func (c hybConvCfg) add(r *rand.Rand) cvtCase {
	inShape := []int{c.batch, c.h, c.w, c.c}
	x := hybInput(r, inShape, c.h*c.w*c.c, c.zeroImg)
	outC := c.o
	fShape := []int{c.o, c.kh, c.kw, c.c}
	axis := 0
	if c.depthwise {
		outC = c.c * c.o
		fShape = []int{1, c.kh, c.kw, outC}
		axis = 3
	}
	wv := hybValues(r, cvtCount(fShape))
	if c.equalScales {
		// Every channel reaches the same largest magnitude.
		for ch := 0; ch < outC; ch++ {
			if axis == 0 {
				wv[ch*(len(wv)/outC)] = 5
			} else {
				wv[ch] = 5
			}
		}
	}
	bv := cvtValues(r, outC)
	oh := cvtOut(c.pad, c.h, c.kh, c.sh, c.dh)
	ow := cvtOut(c.pad, c.w, c.kw, c.sw, c.dw)
	return cvtCase{name: c.String(), inputs: []*npy.Array{x}, build: func(b *modelbuild.Builder, p string) ([]int32, []int32) {
		xi := b.Tensor(p+"x", cvtF32, cvt32(inShape)...)
		wi := hybConstI8(b, p+"w", fShape, wv, c.perChannel, axis)
		ins := []int32{xi, wi}
		if c.noBias {
			ins = append(ins, -1)
		} else {
			ins = append(ins, b.ConstFloat32(p+"b", []int32{int32(outC)}, bv))
		}
		yi := b.Tensor(p+"y", cvtF32, int32(c.batch), int32(oh), int32(ow), int32(outC))
		if c.depthwise {
			b.Op(fb.BuiltinOperatorDEPTHWISE_CONV_2D, &fb.DepthwiseConv2DOptionsT{Padding: c.pad, StrideH: int32(c.sh), StrideW: int32(c.sw),
				DilationHFactor: int32(c.dh), DilationWFactor: int32(c.dw), DepthMultiplier: int32(c.o), FusedActivationFunction: c.act}, ins, []int32{yi})
		} else {
			b.Op(fb.BuiltinOperatorCONV_2D, &fb.Conv2DOptionsT{Padding: c.pad, StrideH: int32(c.sh), StrideW: int32(c.sw),
				DilationHFactor: int32(c.dh), DilationWFactor: int32(c.dw), FusedActivationFunction: c.act}, ins, []int32{yi})
		}
		return []int32{xi}, []int32{yi}
	}}
}

func hybConv(batch, h, w, c, o, k int) hybConvCfg {
	return hybConvCfg{batch: batch, h: h, w: w, c: c, o: o, kh: k, kw: k, sh: 1, sw: 1, dh: 1, dw: 1, pad: fb.PaddingSAME}
}

func TestHybridConv(t *testing.T) {
	r := cvtRand(2)
	var cases []cvtCase
	for _, pc := range []bool{true, false} {
		for _, c := range []hybConvCfg{
			hybConv(1, 5, 5, 3, 4, 3),
			hybConv(2, 6, 7, 2, 5, 3),
			hybConv(1, 8, 8, 4, 6, 1),
			func() hybConvCfg { c := hybConv(1, 9, 8, 3, 4, 3); c.sh, c.sw = 2, 2; return c }(),
			func() hybConvCfg { c := hybConv(1, 9, 8, 3, 4, 3); c.pad = fb.PaddingVALID; c.sw = 2; return c }(),
			func() hybConvCfg { c := hybConv(1, 9, 9, 3, 4, 3); c.dh, c.dw = 2, 2; return c }(),
			func() hybConvCfg { c := hybConv(2, 6, 6, 3, 4, 3); c.act = fb.ActivationFunctionTypeRELU6; return c }(),
			func() hybConvCfg {
				c := hybConv(1, 6, 6, 3, 4, 2)
				c.act = fb.ActivationFunctionTypeRELU
				c.sh = 2
				return c
			}(),
			func() hybConvCfg { c := hybConv(2, 5, 5, 3, 4, 3); c.zeroImg = true; return c }(),
			func() hybConvCfg { c := hybConv(1, 7, 5, 16, 8, 3); c.kw = 1; return c }(),
			func() hybConvCfg { c := hybConv(2, 5, 5, 3, 4, 3); c.equalScales = true; return c }(),
		} {
			c.perChannel = pc
			cases = append(cases, c.add(r))
		}
	}
	hybridCompare(t, cases)
}

func TestHybridDepthwise(t *testing.T) {
	r := cvtRand(3)
	var cases []cvtCase
	for _, c := range []hybConvCfg{
		hybConv(1, 5, 5, 3, 1, 3),
		hybConv(2, 6, 7, 4, 1, 3),
		hybConv(1, 6, 6, 3, 2, 3),
		func() hybConvCfg { c := hybConv(1, 9, 8, 8, 1, 3); c.sh, c.sw = 2, 2; return c }(),
		func() hybConvCfg { c := hybConv(1, 9, 8, 3, 1, 5); c.pad = fb.PaddingVALID; return c }(),
		func() hybConvCfg { c := hybConv(1, 9, 9, 3, 1, 3); c.dh, c.dw = 2, 2; return c }(),
		func() hybConvCfg { c := hybConv(2, 6, 6, 3, 1, 3); c.act = fb.ActivationFunctionTypeRELU6; return c }(),
		func() hybConvCfg { c := hybConv(2, 5, 5, 3, 1, 3); c.zeroImg = true; return c }(),
	} {
		c.depthwise, c.perChannel = true, true
		cases = append(cases, c.add(r))
	}
	hybridCompare(t, cases)
}

// ---------------------------------------------------------------------------
// BATCH_MATMUL

type hybBMMCfg struct {
	lhs, rhs   []int
	adjX, adjY bool
	asym       bool
}

func (c hybBMMCfg) String() string {
	return fmt.Sprintf("bmm%v%v_adj%v%v_asym%v", c.lhs, c.rhs, c.adjX, c.adjY, c.asym)
}

func (c hybBMMCfg) add(r *rand.Rand) cvtCase {
	row := c.lhs[len(c.lhs)-1]
	x := hybInput(r, c.lhs, row, false)
	wv := hybValues(r, cvtCount(c.rhs))
	// The output shape: broadcast batches, then m × n.
	lr, rr := len(c.lhs), len(c.rhs)
	m, n := c.lhs[lr-2], c.rhs[rr-1]
	if c.adjX {
		m = c.lhs[lr-1]
	}
	if c.adjY {
		n = c.rhs[rr-2]
	}
	rank := max(lr, rr)
	out := make([]int, rank)
	for i := 0; i < rank-2; i++ {
		ld, rd := 1, 1
		if j := i - (rank - lr); j >= 0 {
			ld = c.lhs[j]
		}
		if j := i - (rank - rr); j >= 0 {
			rd = c.rhs[j]
		}
		out[i] = max(ld, rd)
	}
	out[rank-2], out[rank-1] = m, n
	return cvtCase{name: c.String(), inputs: []*npy.Array{x}, build: func(b *modelbuild.Builder, p string) ([]int32, []int32) {
		xi := b.Tensor(p+"x", cvtF32, cvt32(c.lhs)...)
		wi := hybConstI8(b, p+"w", c.rhs, wv, false, 0)
		yi := b.Tensor(p+"y", cvtF32, cvt32(out)...)
		b.Op(fb.BuiltinOperatorBATCH_MATMUL, &fb.BatchMatMulOptionsT{AdjX: c.adjX, AdjY: c.adjY, AsymmetricQuantizeInputs: c.asym}, []int32{xi, wi}, []int32{yi})
		return []int32{xi}, []int32{yi}
	}}
}

func TestHybridBatchMatMul(t *testing.T) {
	r := cvtRand(4)
	var cases []cvtCase
	for _, asym := range []bool{false, true} {
		for _, c := range []hybBMMCfg{
			{lhs: []int{4, 16}, rhs: []int{16, 8}},
			{lhs: []int{2, 4, 16}, rhs: []int{2, 16, 8}},
			{lhs: []int{2, 4, 16}, rhs: []int{16, 8}},
			{lhs: []int{3, 1, 5, 12}, rhs: []int{2, 12, 6}},
			{lhs: []int{2, 16, 4}, rhs: []int{16, 8}, adjX: true},
			{lhs: []int{2, 4, 16}, rhs: []int{8, 16}, adjY: true},
			{lhs: []int{2, 16, 4}, rhs: []int{2, 8, 16}, adjX: true, adjY: true},
		} {
			c.asym = asym
			cases = append(cases, c.add(r))
		}
	}
	hybridCompare(t, cases)
}

// ---------------------------------------------------------------------------
// EMBEDDING_LOOKUP

func TestHybridEmbeddingLookup(t *testing.T) {
	r := cvtRand(5)
	var cases []cvtCase
	for _, typ := range []fb.TensorType{fb.TensorTypeINT8, fb.TensorTypeUINT8} {
		for _, shape := range [][]int{{6, 4}, {5, 3, 2}} {
			table := make([]byte, cvtCount(shape))
			for i := range table {
				table[i] = byte(r.IntN(256))
			}
			ids := []int32{3, 0, 5 - 1, 3, 1}
			idArr := npy.FromInt32([]int{len(ids)}, ids)
			out := append([]int{len(ids)}, shape[1:]...)
			cases = append(cases, cvtCase{name: fmt.Sprintf("embedding_%v_%v", typ, shape), inputs: []*npy.Array{idArr},
				build: func(b *modelbuild.Builder, p string) ([]int32, []int32) {
					ii := b.Tensor(p+"ids", fb.TensorTypeINT32, int32(len(ids)))
					ti := b.Const(p+"table", typ, cvt32(shape), table)
					b.Quantize(ti, []float32{0.037}, []int64{3}, 0)
					yi := b.Tensor(p+"y", cvtF32, cvt32(out)...)
					b.Op(fb.BuiltinOperatorEMBEDDING_LOOKUP, nil, []int32{ii, ti}, []int32{yi})
					return []int32{ii}, []int32{yi}
				}})
		}
	}
	hybridCompare(t, cases)
}
