package interp

import (
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"slices"
	"strings"
	"testing"

	"litequant/core/fixtures"
	"litequant/core/modelbuild"
	"litequant/core/npy"
	fb "litequant/core/schema/tflitefb"
	"litequant/core/tflite"
)

// Test helpers shared by the conv, fc, pool and lstm tests (prefix cvt).

// cvtCase is one operator configuration: build adds its tensors and
// operator to b and returns the graph inputs it created (fed with inputs, in
// order) and its outputs.
type cvtCase struct {
	name   string
	inputs []*npy.Array
	build  func(b *modelbuild.Builder, p string) (ins, outs []int32)
}

// cvtGroupSize is how many cases share one model (one runtime run).
const cvtGroupSize = 12

// cvtCompare checks the cases against the real runtime, several per model.
func cvtCompare(t *testing.T, tol float64, cases []cvtCase) {
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
		name := group[0].name
		if len(group) > 1 {
			name += "..." + group[len(group)-1].name
		}
		t.Run(name, func(t *testing.T) {
			t.Cleanup(func() {
				if t.Failed() {
					for i, n := range names {
						t.Logf("output %d: %s", i, n)
					}
				}
			})
			compareWithRuntime(t, model, arrays, tol)
		})
	}
}

// cvtShared returns the shared fixtures directory (../shared next to the
// repository) or skips the test.
func cvtShared(t testing.TB) string {
	t.Helper()
	return fixtures.RequireShared(t)
}

func cvtReadFile(t testing.TB, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func cvtRand(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, 0xc0ffee)) }

func cvtCount(shape []int) int {
	n := 1
	for _, d := range shape {
		n *= d
	}
	return n
}

// cvtValues returns count uniform values in [-1, 1).
func cvtValues(r *rand.Rand, count int) []float32 {
	v := make([]float32, count)
	for i := range v {
		v[i] = r.Float32()*2 - 1
	}
	return v
}

func cvtArray(r *rand.Rand, shape ...int) *npy.Array {
	return npy.FromFloat32(shape, cvtValues(r, cvtCount(shape)))
}

func cvt32(s []int) []int32 {
	out := make([]int32, len(s))
	for i, d := range s {
		out[i] = int32(d)
	}
	return out
}

const cvtF32 = fb.TensorTypeFLOAT32

// cvtOut computes an output size the way TensorFlow Lite does (written
// independently of the kernel's code).
func cvtOut(pad fb.Padding, in, k, s, d int) int {
	if pad == fb.PaddingSAME {
		return (in + s - 1) / s
	}
	return (in - (k-1)*d - 1 + s) / s
}

// cvtRunGo runs a model in the Go interpreter and returns copies of its
// outputs.
func cvtRunGo(model []byte, inputs ...*npy.Array) ([]*npy.Array, error) {
	return runGo(model, inputs)
}

func cvtWantErr(t *testing.T, want string, model []byte, inputs ...*npy.Array) {
	t.Helper()
	_, err := cvtRunGo(model, inputs...)
	if err == nil {
		t.Fatalf("no error, want one containing %q", want)
	}
	if !strings.Contains(err.Error(), want) {
		t.Fatalf("error %q, want one containing %q", err, want)
	}
}

func cvtClose(t *testing.T, what string, got []float32, want []float32, tol float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d values, want %d", what, len(got), len(want))
	}
	for i := range want {
		if math.Abs(float64(got[i]-want[i])) > tol {
			t.Fatalf("%s: element %d is %v, want %v (all %v)", what, i, got[i], want[i], got)
		}
	}
}

// ---------------------------------------------------------------------------
// CONV_2D

type convCfg struct {
	batch, h, w, c int // input
	o, kh, kw      int // filter
	groups         int
	sh, sw, dh, dw int
	pad            fb.Padding
	act            fb.ActivationFunctionType
	noBias         bool // bias input omitted (index -1)
	twoInputs      bool // no bias operand at all
	filterInput    bool // the filter is a graph input
	zeroBias       bool // a constant all-zero bias
}

func (c convCfg) String() string {
	p := "SAME"
	if c.pad == fb.PaddingVALID {
		p = "VALID"
	}
	s := fmt.Sprintf("%dx%dx%dx%d_k%dx%dx%d_s%d%d_d%d%d_%s", c.batch, c.h, c.w, c.c, c.o, c.kh, c.kw, c.sh, c.sw, c.dh, c.dw, p)
	if c.groups > 1 {
		s += fmt.Sprintf("_g%d", c.groups)
	}
	if c.act != 0 {
		s += "_" + fb.EnumNamesActivationFunctionType[c.act]
	}
	if c.filterInput {
		s += "_wIn"
	}
	return s
}

func (c convCfg) outShape() []int {
	return []int{c.batch, cvtOut(c.pad, c.h, c.kh, c.sh, c.dh), cvtOut(c.pad, c.w, c.kw, c.sw, c.dw), c.o}
}

// model adds the configuration to b; r draws the input and constants.
func (c convCfg) add(r *rand.Rand, name string) cvtCase {
	g := max(c.groups, 1)
	wShape := []int{c.o, c.kh, c.kw, c.c / g}
	x := cvtArray(r, c.batch, c.h, c.w, c.c)
	wv := cvtValues(r, cvtCount(wShape))
	bv := cvtValues(r, c.o)
	inputs := []*npy.Array{x}
	var wArr *npy.Array
	if c.filterInput {
		wArr = npy.FromFloat32(wShape, wv)
		inputs = append(inputs, wArr)
	}
	return cvtCase{name: name, inputs: inputs, build: func(b *modelbuild.Builder, p string) ([]int32, []int32) {
		xi := b.Tensor(p+"x", cvtF32, cvt32(x.Shape)...)
		ins := []int32{xi}
		var wi int32
		if c.filterInput {
			wi = b.Tensor(p+"w", cvtF32, cvt32(wShape)...)
			ins = append(ins, wi)
		} else {
			wi = b.ConstFloat32(p+"w", cvt32(wShape), wv)
		}
		opIns := []int32{xi, wi}
		switch {
		case c.twoInputs:
		case c.noBias:
			opIns = append(opIns, -1)
		case c.zeroBias:
			opIns = append(opIns, b.ConstFloat32(p+"b", []int32{int32(c.o)}, make([]float32, c.o)))
		default:
			opIns = append(opIns, b.ConstFloat32(p+"b", []int32{int32(c.o)}, bv))
		}
		y := b.Tensor(p+"y", cvtF32, cvt32(c.outShape())...)
		b.Op(fb.BuiltinOperatorCONV_2D, &fb.Conv2DOptionsT{Padding: c.pad, StrideW: int32(c.sw), StrideH: int32(c.sh),
			DilationWFactor: int32(c.dw), DilationHFactor: int32(c.dh), FusedActivationFunction: c.act}, opIns, []int32{y})
		return ins, []int32{y}
	}}
}

func convBase(batch, h, w, c, o, kh, kw int) convCfg {
	return convCfg{batch: batch, h: h, w: w, c: c, o: o, kh: kh, kw: kw, sh: 1, sw: 1, dh: 1, dw: 1}
}

func TestConv2DRuntime(t *testing.T) {
	r := cvtRand(1)
	var cfgs []convCfg
	// 1×1 convolutions (the direct GEMM path), odd sizes for the edge tiles.
	for _, s := range [][3]int{{1, 1, 1}, {3, 5, 7}, {5, 7, 9}, {8, 8, 16}, {13, 3, 17}, {16, 32, 24}} {
		cfgs = append(cfgs, convBase(1, 3, 5, s[0], s[1], 1, 1), convBase(2, 4, 3, s[1], s[2], 1, 1))
	}
	// General shapes through im2col.
	for _, pad := range []fb.Padding{fb.PaddingSAME, fb.PaddingVALID} {
		for _, k := range [][2]int{{3, 3}, {2, 2}, {5, 3}, {1, 4}} {
			for _, st := range [][2]int{{1, 1}, {2, 2}, {3, 1}} {
				c := convBase(1, 9, 8, 3, 5, k[0], k[1])
				c.sh, c.sw, c.pad = st[0], st[1], pad
				// The runtime's XNNPACK delegate (which takes convolutions
				// with constant filters) returns just the bias for SAME
				// padding with a stride larger than the filter; with the
				// filter as an input TensorFlow Lite's own kernel runs.
				c.filterInput = pad == fb.PaddingSAME && (c.sh > c.kh || c.sw > c.kw)
				cfgs = append(cfgs, c)
			}
		}
		for _, d := range [][2]int{{2, 2}, {1, 3}} {
			c := convBase(2, 10, 11, 4, 9, 3, 3)
			c.dh, c.dw, c.pad = d[0], d[1], pad
			cfgs = append(cfgs, c)
			c.sh, c.sw = 2, 2
			cfgs = append(cfgs, c)
		}
		// 1×1 with stride 2 (im2col picks pixels).
		c := convBase(1, 7, 7, 6, 11, 1, 1)
		c.sh, c.sw, c.pad = 2, 2, pad
		cfgs = append(cfgs, c)
	}
	// Odd channel counts and depths around the tile sizes.
	for _, ch := range [][2]int{{1, 1}, {2, 7}, {7, 8}, {9, 15}, {16, 33}} {
		c := convBase(1, 6, 6, ch[0], ch[1], 3, 3)
		cfgs = append(cfgs, c)
	}
	// Activations (TANH and SIGN_BIT are ignored by the runtime's conv).
	for _, act := range []fb.ActivationFunctionType{fb.ActivationFunctionTypeRELU, fb.ActivationFunctionTypeRELU6,
		fb.ActivationFunctionTypeRELU_N1_TO_1, fb.ActivationFunctionTypeTANH, fb.ActivationFunctionTypeSIGN_BIT} {
		c := convBase(1, 5, 5, 4, 6, 3, 3)
		c.act = act
		cfgs = append(cfgs, c)
	}
	// Grouped convolutions.
	for _, gc := range [][4]int{{2, 4, 6, 3}, {3, 9, 6, 1}, {4, 8, 8, 3}} {
		c := convBase(1, 6, 7, gc[1], gc[2], gc[3], gc[3])
		c.groups = gc[0]
		cfgs = append(cfgs, c)
	}
	// A filter that is a graph input, and a zero bias.
	c := convBase(1, 6, 5, 3, 4, 3, 3)
	c.filterInput = true
	cfgs = append(cfgs, c)
	c = convBase(1, 6, 5, 3, 4, 1, 1)
	c.filterInput = true
	cfgs = append(cfgs, c)
	c = convBase(1, 6, 5, 3, 4, 3, 3)
	c.zeroBias = true
	cfgs = append(cfgs, c)
	// Large enough for the blocked and multi-threaded paths.
	cfgs = append(cfgs, convBase(1, 40, 40, 16, 24, 3, 3), convBase(1, 48, 48, 32, 40, 1, 1), convBase(2, 20, 30, 27, 13, 3, 3))
	c = convBase(1, 64, 64, 3, 16, 3, 3)
	c.sh, c.sw, c.act = 2, 2, fb.ActivationFunctionTypeRELU6
	cfgs = append(cfgs, c)

	var cases []cvtCase
	for _, c := range cfgs {
		cases = append(cases, c.add(r, "CONV_2D_"+c.String()))
	}
	cvtCompare(t, 1e-5, cases)
}

// convRef is a direct (slow) convolution for hand checks.
func convRef(c convCfg, x, w, bias []float32) []float32 {
	os := c.outShape()
	g := max(c.groups, 1)
	cg, og := c.c/g, c.o/g
	padT := max((os[1]-1)*c.sh+(c.kh-1)*c.dh+1-c.h, 0) / 2
	padL := max((os[2]-1)*c.sw+(c.kw-1)*c.dw+1-c.w, 0) / 2
	out := make([]float32, cvtCount(os))
	for b := 0; b < c.batch; b++ {
		for oy := 0; oy < os[1]; oy++ {
			for ox := 0; ox < os[2]; ox++ {
				for o := 0; o < c.o; o++ {
					var s float64
					if bias != nil {
						s = float64(bias[o])
					}
					gi := o / og
					for ky := 0; ky < c.kh; ky++ {
						for kx := 0; kx < c.kw; kx++ {
							iy, ix := oy*c.sh-padT+ky*c.dh, ox*c.sw-padL+kx*c.dw
							if iy < 0 || iy >= c.h || ix < 0 || ix >= c.w {
								continue
							}
							for ci := 0; ci < cg; ci++ {
								s += float64(x[((b*c.h+iy)*c.w+ix)*c.c+gi*cg+ci]) * float64(w[((o*c.kh+ky)*c.kw+kx)*cg+ci])
							}
						}
					}
					out[((b*os[1]+oy)*os[2]+ox)*c.o+o] = float32(s)
				}
			}
		}
	}
	return out
}

// TestConv2DReference checks configurations the runtime cannot load (no
// bias) and many random shapes against a direct loop.
func TestConv2DReference(t *testing.T) {
	r := cvtRand(2)
	for i := 0; i < 60; i++ {
		c := convBase(1+r.IntN(2), 1+r.IntN(9), 1+r.IntN(9), 1+r.IntN(12), 1+r.IntN(20), 1+r.IntN(4), 1+r.IntN(4))
		c.sh, c.sw, c.dh, c.dw = 1+r.IntN(3), 1+r.IntN(3), 1+r.IntN(2), 1+r.IntN(2)
		if r.IntN(2) == 0 {
			c.pad = fb.PaddingVALID
		}
		if c.pad == fb.PaddingVALID && (c.h < (c.kh-1)*c.dh+1 || c.w < (c.kw-1)*c.dw+1) {
			c.pad = fb.PaddingSAME
		}
		c.noBias = r.IntN(3) == 0
		c.twoInputs = c.noBias && r.IntN(2) == 0
		if r.IntN(4) == 0 {
			c.groups = 2
			c.c, c.o = 2*c.c, 2*c.o
		}
		cs := c.add(cvtRand(uint64(100+i)), c.String())
		b := modelbuild.New()
		ins, outs := cs.build(b, "")
		b.Inputs(ins...)
		b.Outputs(outs...)
		model := b.Bytes()
		got, err := cvtRunGo(model, cs.inputs...)
		if err != nil {
			t.Fatalf("%s: %v", c, err)
		}
		m, _ := tflite.Load(model)
		w := cvtConstF32(m, 1)
		var bias []float32
		if !c.noBias {
			bias = cvtConstF32(m, 2)
		}
		x, _ := cs.inputs[0].Float32s()
		want := convRef(c, x, w, bias)
		g, _ := got[0].Float32s()
		if !slices.Equal(got[0].Shape, c.outShape()) {
			t.Fatalf("%s: shape %v, want %v", c, got[0].Shape, c.outShape())
		}
		cvtClose(t, c.String(), g, want, 1e-4)
	}
}

// cvtConstF32 returns the data of tensor ti of subgraph 0 as float32s.
func cvtConstF32(m *tflite.Model, ti int) []float32 {
	a := &npy.Array{DType: npy.Float32, Shape: []int{-1}, Data: m.TensorData(m.Subgraphs[0].Tensors[ti])}
	a.Shape = []int{len(a.Data) / 4}
	v, _ := a.Float32s()
	return v
}

func TestConv2DHand(t *testing.T) {
	// 1×3×3×1 input, 2×2 filter of ones, VALID, stride 1: window sums.
	b := modelbuild.New()
	x := b.Tensor("x", cvtF32, 1, 3, 3, 1)
	w := b.ConstFloat32("w", []int32{1, 2, 2, 1}, []float32{1, 1, 1, 1})
	bias := b.ConstFloat32("b", []int32{1}, []float32{0.5})
	y := b.Tensor("y", cvtF32, 1, 2, 2, 1)
	b.Op(fb.BuiltinOperatorCONV_2D, &fb.Conv2DOptionsT{Padding: fb.PaddingVALID, StrideW: 1, StrideH: 1, DilationWFactor: 1, DilationHFactor: 1}, []int32{x, w, bias}, []int32{y})
	b.Inputs(x)
	b.Outputs(y)
	got, err := cvtRunGo(b.Bytes(), npy.FromFloat32([]int{1, 3, 3, 1}, []float32{1, 2, 3, 4, 5, 6, 7, 8, 9}))
	if err != nil {
		t.Fatal(err)
	}
	g, _ := got[0].Float32s()
	cvtClose(t, "window sums", g, []float32{12.5, 16.5, 24.5, 28.5}, 0)

	// SAME padding, stride 2 on 4 wide: out 2, total padding 1 goes after.
	out, before, err := convOutSize(fb.PaddingSAME, 4, 2, 2, 1)
	if out != 2 || before != 0 || err != nil {
		t.Fatalf("SAME 4/2/2: %d %d %v", out, before, err)
	}
	out, before, _ = convOutSize(fb.PaddingSAME, 5, 3, 1, 2)
	if out != 5 || before != 2 {
		t.Fatalf("SAME dilated: %d %d", out, before)
	}
	out, before, _ = convOutSize(fb.PaddingVALID, 7, 3, 2, 1)
	if out != 3 || before != 0 {
		t.Fatalf("VALID: %d %d", out, before)
	}
}

func TestConv2DErrors(t *testing.T) {
	r := cvtRand(3)
	mk := func(c convCfg, mutate func(o *fb.Conv2DOptionsT)) []byte {
		cs := c.add(r, "")
		b := modelbuild.New()
		ins, outs := cs.build(b, "")
		b.Inputs(ins...)
		b.Outputs(outs...)
		if mutate != nil {
			mutate(b.Model().Subgraphs[0].Operators[0].BuiltinOptions.Value.(*fb.Conv2DOptionsT))
		}
		return b.Bytes()
	}
	c := convBase(1, 4, 4, 3, 2, 3, 3)
	x := cvtArray(r, 1, 4, 4, 3)
	cvtWantErr(t, "stride 0", mk(c, func(o *fb.Conv2DOptionsT) { o.StrideW = 0 }), x)
	cvtWantErr(t, "dilation 0", mk(c, func(o *fb.Conv2DOptionsT) { o.DilationHFactor = 0 }), x)
	cvtWantErr(t, "padding", mk(c, func(o *fb.Conv2DOptionsT) { o.Padding = 7 }), x)
	c.pad = fb.PaddingVALID
	c.h = 1
	cvtWantErr(t, "smaller than the filter", mk(c, nil), cvtArray(r, 1, 1, 4, 3))
	// Input channels that are not a multiple of the filter's.
	c = convBase(1, 4, 4, 3, 2, 3, 3)
	m := mk(c, nil)
	cvtWantErr(t, "not a multiple", m, cvtArray(r, 1, 4, 4, 4))
	cvtWantErr(t, "rank 4", m, cvtArray(r, 4, 4, 3))
	// A bias of the wrong size.
	b := modelbuild.New()
	xi := b.Tensor("x", cvtF32, 1, 4, 4, 3)
	wi := b.ConstFloat32("w", []int32{2, 1, 1, 3}, make([]float32, 6))
	bi := b.ConstFloat32("b", []int32{3}, make([]float32, 3))
	y := b.Tensor("y", cvtF32, 1, 4, 4, 2)
	b.Op(fb.BuiltinOperatorCONV_2D, &fb.Conv2DOptionsT{StrideW: 1, StrideH: 1, DilationWFactor: 1, DilationHFactor: 1}, []int32{xi, wi, bi}, []int32{y})
	b.Inputs(xi)
	b.Outputs(y)
	cvtWantErr(t, "bias has 3 elements", b.Bytes(), x)
	// Integer tensors without quantization parameters are run by no kernel.
	b = modelbuild.New()
	xi = b.Tensor("x", fb.TensorTypeINT8, 1, 4, 4, 3)
	wi = b.Const("w", fb.TensorTypeINT8, []int32{2, 1, 1, 3}, make([]byte, 6))
	y = b.Tensor("y", fb.TensorTypeINT8, 1, 4, 4, 2)
	b.Op(fb.BuiltinOperatorCONV_2D, &fb.Conv2DOptionsT{StrideW: 1, StrideH: 1, DilationWFactor: 1, DilationHFactor: 1}, []int32{xi, wi}, []int32{y})
	b.Inputs(xi)
	b.Outputs(y)
	m2, _ := tflite.Load(b.Bytes())
	if _, err := New(m2, Options{}); err == nil || !strings.Contains(err.Error(), "unsupported") {
		t.Fatalf("INT8 conv: %v, want unsupported", err)
	}
	// A filter of rank 3.
	b = modelbuild.New()
	xi = b.Tensor("x", cvtF32, 1, 4, 4, 3)
	wi = b.ConstFloat32("w", []int32{2, 1, 3}, make([]float32, 6))
	y = b.Tensor("y", cvtF32, 1, 4, 4, 2)
	b.Op(fb.BuiltinOperatorCONV_2D, &fb.Conv2DOptionsT{StrideW: 1, StrideH: 1, DilationWFactor: 1, DilationHFactor: 1}, []int32{xi, wi}, []int32{y})
	b.Inputs(xi)
	b.Outputs(y)
	m2, _ = tflite.Load(b.Bytes())
	if _, err := New(m2, Options{}); err == nil || !strings.Contains(err.Error(), "rank 4") {
		t.Fatalf("rank-3 filter: %v", err)
	}
}

// ---------------------------------------------------------------------------
// DEPTHWISE_CONV_2D

type dwCfg struct {
	batch, h, w, c int
	mult, kh, kw   int
	sh, sw, dh, dw int
	pad            fb.Padding
	act            fb.ActivationFunctionType
	noBias         bool // two inputs
	filterInput    bool
	optMult        int // depth_multiplier in the options (0: mult)
}

func (c dwCfg) String() string {
	p := "SAME"
	if c.pad == fb.PaddingVALID {
		p = "VALID"
	}
	s := fmt.Sprintf("%dx%dx%dx%d_m%d_k%dx%d_s%d%d_d%d%d_%s", c.batch, c.h, c.w, c.c, c.mult, c.kh, c.kw, c.sh, c.sw, c.dh, c.dw, p)
	if c.act != 0 {
		s += "_" + fb.EnumNamesActivationFunctionType[c.act]
	}
	if c.noBias {
		s += "_nobias"
	}
	if c.filterInput {
		s += "_wIn"
	}
	return s
}

func (c dwCfg) outShape() []int {
	return []int{c.batch, cvtOut(c.pad, c.h, c.kh, c.sh, c.dh), cvtOut(c.pad, c.w, c.kw, c.sw, c.dw), c.c * c.mult}
}

func (c dwCfg) add(r *rand.Rand, name string) cvtCase {
	oc := c.c * c.mult
	wShape := []int{1, c.kh, c.kw, oc}
	x := cvtArray(r, c.batch, c.h, c.w, c.c)
	wv := cvtValues(r, cvtCount(wShape))
	bv := cvtValues(r, oc)
	inputs := []*npy.Array{x}
	if c.filterInput {
		inputs = append(inputs, npy.FromFloat32(wShape, wv))
	}
	optMult := c.optMult
	if optMult == 0 {
		optMult = c.mult
	}
	return cvtCase{name: name, inputs: inputs, build: func(b *modelbuild.Builder, p string) ([]int32, []int32) {
		xi := b.Tensor(p+"x", cvtF32, cvt32(x.Shape)...)
		ins := []int32{xi}
		var wi int32
		if c.filterInput {
			wi = b.Tensor(p+"w", cvtF32, cvt32(wShape)...)
			ins = append(ins, wi)
		} else {
			wi = b.ConstFloat32(p+"w", cvt32(wShape), wv)
		}
		opIns := []int32{xi, wi}
		if !c.noBias {
			opIns = append(opIns, b.ConstFloat32(p+"b", []int32{int32(oc)}, bv))
		}
		y := b.Tensor(p+"y", cvtF32, cvt32(c.outShape())...)
		b.Op(fb.BuiltinOperatorDEPTHWISE_CONV_2D, &fb.DepthwiseConv2DOptionsT{Padding: c.pad, StrideW: int32(c.sw), StrideH: int32(c.sh),
			DepthMultiplier: int32(optMult), DilationWFactor: int32(c.dw), DilationHFactor: int32(c.dh), FusedActivationFunction: c.act}, opIns, []int32{y})
		return ins, []int32{y}
	}}
}

func dwBase(batch, h, w, c, mult, kh, kw int) dwCfg {
	return dwCfg{batch: batch, h: h, w: w, c: c, mult: mult, kh: kh, kw: kw, sh: 1, sw: 1, dh: 1, dw: 1}
}

func TestDepthwiseConv2DRuntime(t *testing.T) {
	r := cvtRand(4)
	var cfgs []dwCfg
	// The 3×3 multiplier-1 fast path: sizes, strides, paddings, channels.
	for _, pad := range []fb.Padding{fb.PaddingSAME, fb.PaddingVALID} {
		for _, hw := range [][2]int{{3, 3}, {5, 4}, {8, 9}, {16, 16}} {
			for _, s := range []int{1, 2} {
				for _, ch := range []int{1, 5, 8, 13} {
					c := dwBase(1, hw[0], hw[1], ch, 1, 3, 3)
					c.sh, c.sw, c.pad = s, s, pad
					cfgs = append(cfgs, c)
				}
			}
		}
		// Dilations (the fast path takes a height dilation, not a width one).
		for _, d := range [][2]int{{2, 1}, {1, 2}, {2, 2}} {
			c := dwBase(2, 9, 10, 6, 1, 3, 3)
			c.dh, c.dw, c.pad = d[0], d[1], pad
			cfgs = append(cfgs, c)
		}
		// Multipliers, other filters, strides.
		for _, k := range [][3]int{{2, 3, 3}, {3, 2, 2}, {1, 5, 5}, {2, 1, 1}, {1, 1, 4}, {4, 3, 1}} {
			for _, s := range [][2]int{{1, 1}, {2, 1}} {
				c := dwBase(1, 7, 6, 3, k[0], k[1], k[2])
				c.sh, c.sw, c.pad = s[0], s[1], pad
				c.filterInput = pad == fb.PaddingSAME && (c.sh > c.kh || c.sw > c.kw) // see TestConv2DRuntime
				cfgs = append(cfgs, c)
			}
		}
	}
	// Tiny images: every pixel is a border pixel.
	cfgs = append(cfgs, dwBase(1, 1, 1, 4, 1, 3, 3), dwBase(1, 2, 2, 3, 1, 3, 3), dwBase(1, 1, 5, 2, 1, 3, 3))
	// Activations, no bias, a filter input, depth_multiplier 0 in the options.
	for _, act := range []fb.ActivationFunctionType{fb.ActivationFunctionTypeRELU, fb.ActivationFunctionTypeRELU6,
		fb.ActivationFunctionTypeRELU_N1_TO_1, fb.ActivationFunctionTypeTANH} {
		c := dwBase(1, 6, 6, 5, 1, 3, 3)
		c.act = act
		cfgs = append(cfgs, c)
	}
	c := dwBase(1, 6, 7, 4, 1, 3, 3)
	c.noBias = true
	cfgs = append(cfgs, c)
	c = dwBase(1, 6, 7, 4, 2, 3, 3)
	c.noBias = true
	cfgs = append(cfgs, c)
	c = dwBase(1, 6, 7, 4, 1, 3, 3)
	c.filterInput = true
	cfgs = append(cfgs, c)
	c = dwBase(1, 6, 7, 3, 2, 3, 3)
	c.optMult = -1 // replaced below by 0
	cfgs = append(cfgs, c)
	// Large enough for several goroutines.
	cfgs = append(cfgs, dwBase(1, 56, 56, 32, 1, 3, 3), dwBase(2, 30, 30, 16, 2, 5, 5))
	c = dwBase(1, 112, 112, 16, 1, 3, 3)
	c.sh, c.sw, c.act = 2, 2, fb.ActivationFunctionTypeRELU6
	cfgs = append(cfgs, c)

	var cases []cvtCase
	for _, c := range cfgs {
		if c.optMult == -1 {
			c.optMult = 0
			cs := c.add(r, "DEPTHWISE_CONV_2D_"+c.String()+"_opt0")
			build := cs.build
			cs.build = func(b *modelbuild.Builder, p string) ([]int32, []int32) {
				ins, outs := build(b, p)
				sg := b.Model().Subgraphs[0]
				sg.Operators[len(sg.Operators)-1].BuiltinOptions.Value.(*fb.DepthwiseConv2DOptionsT).DepthMultiplier = 0
				return ins, outs
			}
			cases = append(cases, cs)
			continue
		}
		cases = append(cases, c.add(r, "DEPTHWISE_CONV_2D_"+c.String()))
	}
	cvtCompare(t, 1e-5, cases)
}

// dwRef is a direct depthwise convolution.
func dwRef(c dwCfg, x, w, bias []float32) []float32 {
	os := c.outShape()
	oc := c.c * c.mult
	padT := max((os[1]-1)*c.sh+(c.kh-1)*c.dh+1-c.h, 0) / 2
	padL := max((os[2]-1)*c.sw+(c.kw-1)*c.dw+1-c.w, 0) / 2
	out := make([]float32, cvtCount(os))
	for b := 0; b < c.batch; b++ {
		for oy := 0; oy < os[1]; oy++ {
			for ox := 0; ox < os[2]; ox++ {
				for o := 0; o < oc; o++ {
					var s float64
					if bias != nil {
						s = float64(bias[o])
					}
					for ky := 0; ky < c.kh; ky++ {
						for kx := 0; kx < c.kw; kx++ {
							iy, ix := oy*c.sh-padT+ky*c.dh, ox*c.sw-padL+kx*c.dw
							if iy < 0 || iy >= c.h || ix < 0 || ix >= c.w {
								continue
							}
							s += float64(x[((b*c.h+iy)*c.w+ix)*c.c+o/c.mult]) * float64(w[(ky*c.kw+kx)*oc+o])
						}
					}
					out[((b*os[1]+oy)*os[2]+ox)*oc+o] = float32(s)
				}
			}
		}
	}
	return out
}

func TestDepthwiseConv2DReference(t *testing.T) {
	r := cvtRand(5)
	for i := 0; i < 80; i++ {
		c := dwBase(1+r.IntN(2), 1+r.IntN(12), 1+r.IntN(12), 1+r.IntN(10), 1+r.IntN(3), 1+r.IntN(4), 1+r.IntN(4))
		if i%2 == 0 {
			c.kh, c.kw, c.mult = 3, 3, 1 // the fast path
		}
		c.sh, c.sw, c.dh, c.dw = 1+r.IntN(3), 1+r.IntN(3), 1+r.IntN(2), 1+r.IntN(2)
		if r.IntN(2) == 0 {
			c.pad = fb.PaddingVALID
		}
		if c.pad == fb.PaddingVALID && (c.h < (c.kh-1)*c.dh+1 || c.w < (c.kw-1)*c.dw+1) {
			c.pad = fb.PaddingSAME
		}
		c.noBias = r.IntN(3) == 0
		c.filterInput = r.IntN(4) == 0
		cs := c.add(cvtRand(uint64(200+i)), c.String())
		b := modelbuild.New()
		ins, outs := cs.build(b, "")
		b.Inputs(ins...)
		b.Outputs(outs...)
		model := b.Bytes()
		got, err := cvtRunGo(model, cs.inputs...)
		if err != nil {
			t.Fatalf("%s: %v", c, err)
		}
		m, _ := tflite.Load(model)
		var w []float32
		if c.filterInput {
			w, _ = cs.inputs[1].Float32s()
		} else {
			w = cvtConstF32(m, 1)
		}
		var bias []float32
		if !c.noBias {
			bias = cvtConstF32(m, 2)
		}
		x, _ := cs.inputs[0].Float32s()
		if !slices.Equal(got[0].Shape, c.outShape()) {
			t.Fatalf("%s: shape %v, want %v", c, got[0].Shape, c.outShape())
		}
		g, _ := got[0].Float32s()
		cvtClose(t, c.String(), g, dwRef(c, x, w, bias), 1e-5)
	}
}

func TestDepthwiseConv2DErrors(t *testing.T) {
	r := cvtRand(6)
	build := func(c dwCfg, mutate func(o *fb.DepthwiseConv2DOptionsT)) []byte {
		cs := c.add(r, "")
		b := modelbuild.New()
		ins, outs := cs.build(b, "")
		b.Inputs(ins...)
		b.Outputs(outs...)
		if mutate != nil {
			mutate(b.Model().Subgraphs[0].Operators[0].BuiltinOptions.Value.(*fb.DepthwiseConv2DOptionsT))
		}
		return b.Bytes()
	}
	c := dwBase(1, 5, 5, 3, 2, 3, 3)
	x := cvtArray(r, 1, 5, 5, 3)
	cvtWantErr(t, "depth_multiplier 3 disagrees", build(c, func(o *fb.DepthwiseConv2DOptionsT) { o.DepthMultiplier = 3 }), x)
	cvtWantErr(t, "not a multiple", build(c, nil), cvtArray(r, 1, 5, 5, 4))
	cvtWantErr(t, "stride 0", build(c, func(o *fb.DepthwiseConv2DOptionsT) { o.StrideH = 0 }), x)
	cvtWantErr(t, "rank 4", build(c, nil), cvtArray(r, 5, 5, 3))
	// A filter whose first dimension is not 1.
	b := modelbuild.New()
	xi := b.Tensor("x", cvtF32, 1, 5, 5, 3)
	wi := b.ConstFloat32("w", []int32{2, 3, 3, 3}, make([]float32, 54))
	y := b.Tensor("y", cvtF32, 1, 5, 5, 3)
	b.Op(fb.BuiltinOperatorDEPTHWISE_CONV_2D, &fb.DepthwiseConv2DOptionsT{StrideW: 1, StrideH: 1, DilationWFactor: 1, DilationHFactor: 1}, []int32{xi, wi}, []int32{y})
	b.Inputs(xi)
	b.Outputs(y)
	m, _ := tflite.Load(b.Bytes())
	if _, err := New(m, Options{}); err == nil || !strings.Contains(err.Error(), "want [1, height, width, channels]") {
		t.Fatalf("filter [2,3,3,3]: %v", err)
	}
}

// ---------------------------------------------------------------------------
// TRANSPOSE_CONV

type tconvCfg struct {
	batch, h, w, c int // input
	o, kh, kw      int
	sh, sw         int
	outH, outW     int
	pad            fb.Padding
	act            fb.ActivationFunctionType
	bias           bool // a fourth input
	filterInput    bool
	version        int32
}

func (c tconvCfg) String() string {
	p := "SAME"
	if c.pad == fb.PaddingVALID {
		p = "VALID"
	}
	s := fmt.Sprintf("%dx%dx%dx%d_k%dx%dx%d_s%d%d_out%dx%d_%s", c.batch, c.h, c.w, c.c, c.o, c.kh, c.kw, c.sh, c.sw, c.outH, c.outW, p)
	if c.act != 0 {
		s += "_" + fb.EnumNamesActivationFunctionType[c.act]
	}
	if c.bias {
		s += "_bias"
	}
	if c.filterInput {
		s += "_wIn"
	}
	return s
}

func (c tconvCfg) add(r *rand.Rand, name string) cvtCase {
	wShape := []int{c.o, c.kh, c.kw, c.c}
	x := cvtArray(r, c.batch, c.h, c.w, c.c)
	wv := cvtValues(r, cvtCount(wShape))
	bv := cvtValues(r, c.o)
	inputs := []*npy.Array{x}
	if c.filterInput {
		inputs = append(inputs, npy.FromFloat32(wShape, wv))
	}
	outShape := []int{c.batch, c.outH, c.outW, c.o}
	return cvtCase{name: name, inputs: inputs, build: func(b *modelbuild.Builder, p string) ([]int32, []int32) {
		xi := b.Tensor(p+"x", cvtF32, cvt32(x.Shape)...)
		ins := []int32{xi}
		var wi int32
		if c.filterInput {
			wi = b.Tensor(p+"w", cvtF32, cvt32(wShape)...)
			ins = append(ins, wi)
		} else {
			wi = b.ConstFloat32(p+"w", cvt32(wShape), wv)
		}
		si := b.ConstInt32(p+"shape", []int32{4}, cvt32(outShape))
		opIns := []int32{si, wi, xi}
		if c.bias {
			opIns = append(opIns, b.ConstFloat32(p+"b", []int32{int32(c.o)}, bv))
		}
		y := b.Tensor(p+"y", cvtF32, cvt32(outShape)...)
		v := c.version
		if v == 0 {
			v = 1
		}
		b.OpVersion(fb.BuiltinOperatorTRANSPOSE_CONV, v, &fb.TransposeConvOptionsT{Padding: c.pad, StrideW: int32(c.sw), StrideH: int32(c.sh), FusedActivationFunction: c.act}, opIns, []int32{y})
		return ins, []int32{y}
	}}
}

func tconvBase(h, w, c, o, k, s int, pad fb.Padding) tconvCfg {
	cfg := tconvCfg{batch: 1, h: h, w: w, c: c, o: o, kh: k, kw: k, sh: s, sw: s, pad: pad}
	if pad == fb.PaddingSAME {
		cfg.outH, cfg.outW = h*s, w*s
	} else {
		cfg.outH, cfg.outW = (h-1)*s+k, (w-1)*s+k
	}
	return cfg
}

func TestTransposeConvRuntime(t *testing.T) {
	r := cvtRand(7)
	var cfgs []tconvCfg
	for _, pad := range []fb.Padding{fb.PaddingSAME, fb.PaddingVALID} {
		for _, ks := range [][2]int{{3, 1}, {3, 2}, {2, 2}, {4, 2}, {1, 1}, {5, 3}} {
			cfgs = append(cfgs, tconvBase(4, 5, 3, 5, ks[0], ks[1], pad))
		}
		c := tconvBase(3, 3, 9, 17, 3, 2, pad)
		c.batch = 2
		cfgs = append(cfgs, c)
		c = tconvBase(5, 4, 2, 3, 3, 2, pad)
		c.kw, c.sw = 2, 1
		if pad == fb.PaddingSAME {
			c.outW = 4
		} else {
			c.outW = 5
		}
		cfgs = append(cfgs, c)
	}
	// An output size the stride does not determine: SAME with an odd size.
	c := tconvBase(4, 4, 3, 2, 3, 2, fb.PaddingSAME)
	c.outH, c.outW = 7, 8
	cfgs = append(cfgs, c)
	c = tconvBase(4, 4, 3, 2, 3, 2, fb.PaddingVALID)
	c.outH, c.outW = 10, 9
	cfgs = append(cfgs, c)
	// A filter input, a larger case.
	c = tconvBase(4, 5, 3, 4, 3, 2, fb.PaddingSAME)
	c.filterInput = true
	cfgs = append(cfgs, c, tconvBase(16, 16, 32, 16, 4, 2, fb.PaddingSAME))
	// The bias input (version 3).
	for _, pad := range []fb.Padding{fb.PaddingSAME, fb.PaddingVALID} {
		c = tconvBase(3, 4, 5, 9, 3, 2, pad)
		c.bias, c.version = true, 3
		cfgs = append(cfgs, c)
	}

	var cases []cvtCase
	for _, c := range cfgs {
		cases = append(cases, c.add(r, "TRANSPOSE_CONV_"+c.String()))
	}
	cvtCompare(t, 1e-5, cases)
}

// tconvRef is a direct transposed convolution (scatter of each input pixel).
func tconvRef(c tconvCfg, x, w, bias []float32) []float32 {
	padT := max((cvtOut(c.pad, c.outH, c.kh, c.sh, 1)-1)*c.sh+c.kh-c.outH, 0) / 2
	padL := max((cvtOut(c.pad, c.outW, c.kw, c.sw, 1)-1)*c.sw+c.kw-c.outW, 0) / 2
	out := make([]float64, c.batch*c.outH*c.outW*c.o)
	for b := 0; b < c.batch; b++ {
		for iy := 0; iy < c.h; iy++ {
			for ix := 0; ix < c.w; ix++ {
				for ky := 0; ky < c.kh; ky++ {
					for kx := 0; kx < c.kw; kx++ {
						oy, ox := iy*c.sh+ky-padT, ix*c.sw+kx-padL
						if oy < 0 || oy >= c.outH || ox < 0 || ox >= c.outW {
							continue
						}
						for o := 0; o < c.o; o++ {
							for i := 0; i < c.c; i++ {
								out[((b*c.outH+oy)*c.outW+ox)*c.o+o] += float64(x[((b*c.h+iy)*c.w+ix)*c.c+i]) * float64(w[((o*c.kh+ky)*c.kw+kx)*c.c+i])
							}
						}
					}
				}
			}
		}
	}
	res := make([]float32, len(out))
	for i, v := range out {
		if bias != nil {
			v += float64(bias[i%c.o])
		}
		res[i] = float32(v)
	}
	return res
}

// TestTransposeConvReference checks against a direct loop, with the fused
// activation of TRANSPOSE_CONV version 4, which this runtime cannot load
// (its kernel predates the field and ignores it in older versions).
func TestTransposeConvReference(t *testing.T) {
	r := cvtRand(8)
	for i, c := range []tconvCfg{
		tconvBase(3, 4, 2, 3, 3, 2, fb.PaddingSAME),
		tconvBase(3, 4, 5, 9, 2, 2, fb.PaddingVALID),
		tconvBase(5, 5, 3, 4, 3, 1, fb.PaddingSAME),
	} {
		for _, bias := range []bool{false, true} {
			for _, act := range []fb.ActivationFunctionType{fb.ActivationFunctionTypeNONE, fb.ActivationFunctionTypeRELU} {
				c.bias, c.act, c.version = bias, act, 4
				c.filterInput = i == 1
				cs := c.add(r, c.String())
				b := modelbuild.New()
				ins, outs := cs.build(b, "")
				b.Inputs(ins...)
				b.Outputs(outs...)
				model := b.Bytes()
				got, err := cvtRunGo(model, cs.inputs...)
				if err != nil {
					t.Fatalf("%s: %v", c, err)
				}
				m, _ := tflite.Load(model)
				var w, bv []float32
				if c.filterInput {
					w, _ = cs.inputs[1].Float32s()
				} else {
					w = cvtConstF32(m, 1)
				}
				if bias {
					bv = cvtConstF32(m, len(m.Subgraphs[0].Tensors)-2)
				}
				x, _ := cs.inputs[0].Float32s()
				want := tconvRef(c, x, w, bv)
				if act == fb.ActivationFunctionTypeRELU {
					for j := range want {
						want[j] = max(want[j], 0)
					}
				}
				g, _ := got[0].Float32s()
				cvtClose(t, c.String(), g, want, 1e-5)
			}
		}
	}
}

func TestTransposeConvErrors(t *testing.T) {
	r := cvtRand(9)
	c := tconvBase(3, 3, 2, 3, 3, 2, fb.PaddingSAME)
	build := func(c tconvCfg) []byte {
		cs := c.add(r, "")
		b := modelbuild.New()
		ins, outs := cs.build(b, "")
		b.Inputs(ins...)
		b.Outputs(outs...)
		return b.Bytes()
	}
	x := cvtArray(r, 1, 3, 3, 2)
	bad := c
	bad.o = 4
	m := build(bad)
	// Declared output channels (shape input) disagreeing with the filter.
	mm, _ := tflite.Load(m)
	mm.Buffers[len(mm.Buffers)-1].Data = npy.FromInt32([]int{4}, []int32{1, 6, 6, 3}).Data
	for _, b := range mm.Buffers {
		if len(b.Data) == 16 {
			b.Data = npy.FromInt32([]int{4}, []int32{1, 6, 6, 3}).Data
		}
	}
	data, _ := mm.Save()
	cvtWantErr(t, "does not match", data, x)
	cvtWantErr(t, "does not take 5 input channels", build(c), cvtArray(r, 1, 3, 3, 5))
	c.sh = 0
	cvtWantErr(t, "stride 0", build(c), x)
}

// TestModelsMatchRuntime runs whole float models from ../shared on
// deterministic random input in the Go interpreter and in the real runtime.
func TestModelsMatchRuntime(t *testing.T) {
	dir := cvtShared(t)
	for _, name := range []string{"mobilenet_v1_0.25_224_float", "iris_landmark"} {
		t.Run(name, func(t *testing.T) {
			data := cvtReadFile(t, dir+"/models/"+name+".tflite")
			m, err := tflite.Load(data)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := New(m, Options{}); err != nil {
				t.Fatalf("interpreter: %v", err)
			}
			r := cvtRand(50)
			var inputs []*npy.Array
			for _, i := range m.Subgraphs[0].Inputs {
				shape := make([]int, 0, 4)
				for _, d := range m.Subgraphs[0].Tensors[i].Shape {
					shape = append(shape, int(d))
				}
				inputs = append(inputs, cvtArray(r, shape...))
			}
			compareWithRuntime(t, data, inputs, 1e-4)
		})
	}
}
