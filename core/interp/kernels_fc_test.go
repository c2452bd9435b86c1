package interp

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"

	"litequant/core/modelbuild"
	"litequant/core/npy"
	fb "litequant/core/schema/tflitefb"
	"litequant/core/tflite"
)

// ---------------------------------------------------------------------------
// FULLY_CONNECTED

type fcCfg struct {
	in          []int // input shape
	units       int
	depth       int
	keep        bool
	act         fb.ActivationFunctionType
	noBias      bool // bias index -1
	twoInputs   bool // no bias operand at all
	weightInput bool // weights are a graph input
}

func (c fcCfg) String() string {
	s := fmt.Sprintf("%v_u%d_d%d", c.in, c.units, c.depth)
	s = strings.NewReplacer(" ", "x", "[", "", "]", "").Replace(s)
	if c.keep {
		s += "_keep"
	}
	if c.act != 0 {
		s += "_" + fb.EnumNamesActivationFunctionType[c.act]
	}
	if c.noBias || c.twoInputs {
		s += "_nobias"
	}
	if c.weightInput {
		s += "_wIn"
	}
	return s
}

func (c fcCfg) outShape() []int {
	if c.keep {
		s := append([]int{}, c.in...)
		s[len(s)-1] = c.units
		return s
	}
	return []int{cvtCount(c.in) / c.depth, c.units}
}

func (c fcCfg) add(r *rand.Rand, name string) cvtCase {
	x := cvtArray(r, c.in...)
	wShape := []int{c.units, c.depth}
	wv := cvtValues(r, c.units*c.depth)
	bv := cvtValues(r, c.units)
	inputs := []*npy.Array{x}
	if c.weightInput {
		inputs = append(inputs, npy.FromFloat32(wShape, wv))
	}
	return cvtCase{name: name, inputs: inputs, build: func(b *modelbuild.Builder, p string) ([]int32, []int32) {
		xi := b.Tensor(p+"x", cvtF32, cvt32(c.in)...)
		ins := []int32{xi}
		var wi int32
		if c.weightInput {
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
		default:
			opIns = append(opIns, b.ConstFloat32(p+"b", []int32{int32(c.units)}, bv))
		}
		y := b.Tensor(p+"y", cvtF32, cvt32(c.outShape())...)
		b.Op(fb.BuiltinOperatorFULLY_CONNECTED, &fb.FullyConnectedOptionsT{FusedActivationFunction: c.act, KeepNumDims: c.keep}, opIns, []int32{y})
		return ins, []int32{y}
	}}
}

func TestFullyConnectedRuntime(t *testing.T) {
	r := cvtRand(20)
	var cfgs []fcCfg
	// Batches and sizes around the 4×8 tiles.
	for _, s := range [][3]int{{1, 1, 1}, {1, 7, 3}, {3, 8, 16}, {4, 9, 17}, {5, 33, 40}, {13, 100, 31}, {1, 1001, 256}, {64, 64, 200}} {
		cfgs = append(cfgs, fcCfg{in: []int{s[0], s[2]}, units: s[1], depth: s[2]})
	}
	// Higher ranks flattened, keep_num_dims, inputs whose last dimension is
	// not the depth.
	cfgs = append(cfgs,
		fcCfg{in: []int{2, 3, 8}, units: 5, depth: 8},
		fcCfg{in: []int{2, 3, 8}, units: 5, depth: 8, keep: true},
		fcCfg{in: []int{1, 2, 2, 6}, units: 7, depth: 6, keep: true},
		fcCfg{in: []int{1, 4, 6}, units: 3, depth: 12},
		fcCfg{in: []int{24}, units: 4, depth: 8},
		fcCfg{in: []int{1, 2, 3, 4}, units: 6, depth: 24},
	)
	for _, act := range []fb.ActivationFunctionType{fb.ActivationFunctionTypeRELU, fb.ActivationFunctionTypeRELU6, fb.ActivationFunctionTypeRELU_N1_TO_1} {
		cfgs = append(cfgs, fcCfg{in: []int{3, 10}, units: 9, depth: 10, act: act})
	}
	cfgs = append(cfgs,
		fcCfg{in: []int{3, 10}, units: 9, depth: 10, noBias: true},
		fcCfg{in: []int{3, 10}, units: 9, depth: 10, twoInputs: true},
		fcCfg{in: []int{3, 10}, units: 9, depth: 10, weightInput: true},
		fcCfg{in: []int{2, 5}, units: 4, depth: 5, weightInput: true, noBias: true},
		fcCfg{in: []int{128, 96}, units: 80, depth: 96, weightInput: true},
	)
	var cases []cvtCase
	for _, c := range cfgs {
		cases = append(cases, c.add(r, "FULLY_CONNECTED_"+c.String()))
	}
	cvtCompare(t, 1e-5, cases)
}

func TestFullyConnectedHand(t *testing.T) {
	c := fcCfg{in: []int{2, 3}, units: 2, depth: 3}
	b := modelbuild.New()
	x := b.Tensor("x", cvtF32, 2, 3)
	w := b.ConstFloat32("w", []int32{2, 3}, []float32{1, 0, -1, 2, 1, 0.5})
	bias := b.ConstFloat32("b", []int32{2}, []float32{0.5, -1})
	y := b.Tensor("y", cvtF32, 2, 2)
	b.Op(fb.BuiltinOperatorFULLY_CONNECTED, &fb.FullyConnectedOptionsT{FusedActivationFunction: fb.ActivationFunctionTypeRELU}, []int32{x, w, bias}, []int32{y})
	b.Inputs(x)
	b.Outputs(y)
	got, err := cvtRunGo(b.Bytes(), npy.FromFloat32(c.in, []float32{1, 2, 3, -1, -2, -3}))
	if err != nil {
		t.Fatal(err)
	}
	g, _ := got[0].Float32s()
	// Row 0: (1-3)+0.5 = -1.5 -> 0; (2+2+1.5)-1 = 4.5. Row 1: 2.5; -5.5 -> 0.
	cvtClose(t, "fc", g, []float32{0, 4.5, 2.5, 0}, 1e-6)
}

func TestFullyConnectedErrors(t *testing.T) {
	r := cvtRand(21)
	build := func(c fcCfg, opts *fb.FullyConnectedOptionsT) []byte {
		cs := c.add(r, "")
		b := modelbuild.New()
		ins, outs := cs.build(b, "")
		b.Inputs(ins...)
		b.Outputs(outs...)
		if opts != nil {
			b.Model().Subgraphs[0].Operators[0].BuiltinOptions.Value = opts
		}
		return b.Bytes()
	}
	c := fcCfg{in: []int{2, 6}, units: 3, depth: 6}
	cvtWantErr(t, "does not split in rows of 6", build(c, nil), cvtArray(r, 2, 5))
	cvtWantErr(t, "keep_num_dims", build(fcCfg{in: []int{2, 6}, units: 3, depth: 6, keep: true}, nil), cvtArray(r, 3, 4))
	// TensorFlow Lite rejects other fused activations.
	m, _ := tflite.Load(build(c, &fb.FullyConnectedOptionsT{FusedActivationFunction: fb.ActivationFunctionTypeTANH}))
	if _, err := New(m, Options{}); err == nil || !strings.Contains(err.Error(), "fused activation TANH is not allowed") {
		t.Fatalf("TANH: %v", err)
	}
	m, _ = tflite.Load(build(c, &fb.FullyConnectedOptionsT{WeightsFormat: fb.FullyConnectedOptionsWeightsFormatSHUFFLED4x16INT8}))
	if _, err := New(m, Options{}); err == nil || !strings.Contains(err.Error(), "weights format") {
		t.Fatalf("shuffled weights: %v", err)
	}
	// Weights of rank 3.
	b := modelbuild.New()
	xi := b.Tensor("x", cvtF32, 2, 6)
	wi := b.ConstFloat32("w", []int32{3, 2, 3}, make([]float32, 18))
	y := b.Tensor("y", cvtF32, 2, 3)
	b.Op(fb.BuiltinOperatorFULLY_CONNECTED, &fb.FullyConnectedOptionsT{}, []int32{xi, wi}, []int32{y})
	b.Inputs(xi)
	b.Outputs(y)
	m, _ = tflite.Load(b.Bytes())
	if _, err := New(m, Options{}); err == nil || !strings.Contains(err.Error(), "rank 2") {
		t.Fatalf("rank-3 weights: %v", err)
	}
	// A bias of the wrong size.
	b = modelbuild.New()
	xi = b.Tensor("x", cvtF32, 2, 6)
	wi = b.ConstFloat32("w", []int32{3, 6}, make([]float32, 18))
	bi := b.ConstFloat32("b", []int32{4}, make([]float32, 4))
	y = b.Tensor("y", cvtF32, 2, 3)
	b.Op(fb.BuiltinOperatorFULLY_CONNECTED, &fb.FullyConnectedOptionsT{}, []int32{xi, wi, bi}, []int32{y})
	b.Inputs(xi)
	b.Outputs(y)
	cvtWantErr(t, "bias has 4 elements", b.Bytes(), cvtArray(r, 2, 6))
}

// ---------------------------------------------------------------------------
// BATCH_MATMUL

type bmmCfg struct {
	lhs, rhs   []int
	adjX, adjY bool
	constRHS   bool
	constLHS   bool
}

func (c bmmCfg) String() string {
	s := fmt.Sprintf("%v_%v", c.lhs, c.rhs)
	s = strings.NewReplacer(" ", "x", "[", "", "]", "").Replace(s)
	if c.adjX {
		s += "_adjX"
	}
	if c.adjY {
		s += "_adjY"
	}
	if c.constRHS {
		s += "_constR"
	}
	if c.constLHS {
		s += "_constL"
	}
	return s
}

func (c bmmCfg) outShape() []int {
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
	return out
}

func (c bmmCfg) add(r *rand.Rand, name string) cvtCase {
	l, rv := cvtArray(r, c.lhs...), cvtArray(r, c.rhs...)
	var inputs []*npy.Array
	if !c.constLHS {
		inputs = append(inputs, l)
	}
	if !c.constRHS {
		inputs = append(inputs, rv)
	}
	return cvtCase{name: name, inputs: inputs, build: func(b *modelbuild.Builder, p string) ([]int32, []int32) {
		var ins []int32
		operand := func(name string, a *npy.Array, isConst bool) int32 {
			if isConst {
				v, _ := a.Float32s()
				return b.ConstFloat32(p+name, cvt32(a.Shape), v)
			}
			i := b.Tensor(p+name, cvtF32, cvt32(a.Shape)...)
			ins = append(ins, i)
			return i
		}
		li := operand("l", l, c.constLHS)
		ri := operand("r", rv, c.constRHS)
		y := b.Tensor(p+"y", cvtF32, cvt32(c.outShape())...)
		b.Op(fb.BuiltinOperatorBATCH_MATMUL, &fb.BatchMatMulOptionsT{AdjX: c.adjX, AdjY: c.adjY}, []int32{li, ri}, []int32{y})
		return ins, []int32{y}
	}}
}

func TestBatchMatMulRuntime(t *testing.T) {
	r := cvtRand(22)
	var cfgs []bmmCfg
	for _, adj := range [][2]bool{{false, false}, {true, false}, {false, true}, {true, true}} {
		mk := func(lhs, rhs []int) bmmCfg {
			l, rr := append([]int{}, lhs...), append([]int{}, rhs...)
			if adj[0] {
				l[len(l)-2], l[len(l)-1] = l[len(l)-1], l[len(l)-2]
			}
			if adj[1] {
				rr[len(rr)-2], rr[len(rr)-1] = rr[len(rr)-1], rr[len(rr)-2]
			}
			return bmmCfg{lhs: l, rhs: rr, adjX: adj[0], adjY: adj[1]}
		}
		cfgs = append(cfgs,
			mk([]int{3, 5}, []int{5, 7}),
			mk([]int{2, 4, 9}, []int{2, 9, 10}),
			mk([]int{2, 1, 5, 6}, []int{3, 6, 4}),  // broadcast batch dims
			mk([]int{1, 3, 6}, []int{4, 1, 6, 17}), // rank mismatch
			mk([]int{2, 2, 2, 3, 5}, []int{5, 3}),  // rank-5 lhs, rank-2 rhs
		)
		c := mk([]int{2, 4, 9}, []int{2, 9, 10})
		c.constRHS = true
		cfgs = append(cfgs, c)
		c = mk([]int{3, 8, 9}, []int{9, 10})
		c.constRHS = true
		cfgs = append(cfgs, c)
		c = mk([]int{2, 5, 3}, []int{2, 3, 4})
		c.constLHS = true
		cfgs = append(cfgs, c)
	}
	cfgs = append(cfgs, bmmCfg{lhs: []int{4, 64, 96}, rhs: []int{4, 96, 80}}, bmmCfg{lhs: []int{1, 200, 64}, rhs: []int{64, 120}, constRHS: true})
	var cases []cvtCase
	for _, c := range cfgs {
		cases = append(cases, c.add(r, "BATCH_MATMUL_"+c.String()))
	}
	cvtCompare(t, 1e-5, cases)
}

func TestBatchMatMulFixture(t *testing.T) {
	dir := cvtShared(t)
	data := cvtReadFile(t, dir+"/models/bmm.tflite")
	r := cvtRand(23)
	compareWithRuntime(t, data, []*npy.Array{cvtArray(r, 2, 4, 16), cvtArray(r, 2, 16, 8)}, 1e-5)
}

func TestBatchMatMulErrors(t *testing.T) {
	r := cvtRand(24)
	build := func(c bmmCfg) []byte {
		cs := c.add(r, "")
		b := modelbuild.New()
		ins, outs := cs.build(b, "")
		b.Inputs(ins...)
		b.Outputs(outs...)
		return b.Bytes()
	}
	m := build(bmmCfg{lhs: []int{2, 3, 4}, rhs: []int{2, 4, 5}})
	cvtWantErr(t, "do not multiply", m, cvtArray(r, 2, 3, 5), cvtArray(r, 2, 4, 5))
	cvtWantErr(t, "do not broadcast", m, cvtArray(r, 2, 3, 4), cvtArray(r, 3, 4, 5))
	cvtWantErr(t, "rank 2 to", m, cvtArray(r, 4), cvtArray(r, 2, 4, 5))
}

// TestFixtureModels compares the Go interpreter with the runtime on the
// float models from ../shared that use these kernels, on deterministic
// random inputs.
func TestFixtureModels(t *testing.T) {
	dir := cvtShared(t)
	for _, name := range []string{
		"conv_fc_mnist", "face_detection_short_range", "hello_world_float", "mnist_quantized",
		"single_fc", "single_fc_bias", "single_fc_bias_logistic", "single_fc_bias_relu", "single_fc_bias_relu6", "single_fc_no_bias",
		"single_depthwise_conv2d_bias", "weight_sharing_fcs", "bmm",
	} {
		t.Run(name, func(t *testing.T) {
			data := cvtReadFile(t, dir+"/models/"+name+".tflite")
			m, err := tflite.Load(data)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := New(m, Options{}); err != nil {
				t.Fatal(err)
			}
			r := cvtRand(25)
			var inputs []*npy.Array
			for _, i := range m.Subgraphs[0].Inputs {
				var shape []int
				for _, d := range m.Subgraphs[0].Tensors[i].Shape {
					shape = append(shape, int(d))
				}
				inputs = append(inputs, cvtArray(r, shape...))
			}
			compareWithRuntime(t, data, inputs, 1e-5)
		})
	}
}

// cvtHalf returns the IEEE half-precision bits of v, which must be exactly
// representable (normal, or zero).
func cvtHalf(v float32) uint16 {
	b := math.Float32bits(v)
	sign := uint16(b>>16) & 0x8000
	if v == 0 {
		return sign
	}
	exp := int(b>>23&0xff) - 127 + 15
	return sign | uint16(exp)<<10 | uint16(b>>13&0x3ff)
}

// TestFoldedWeights runs kernels whose weights come from DEQUANTIZE of
// FLOAT16 constants: they become constants only when the interpreter folds
// them, after preparation, and are packed on the first call.
func TestFoldedWeights(t *testing.T) {
	r := cvtRand(26)
	half := func(b *modelbuild.Builder, name string, shape []int) int32 {
		n := cvtCount(shape)
		data := make([]byte, 2*n)
		for i := 0; i < n; i++ {
			v := float32(r.IntN(129)-64) / 64
			h := cvtHalf(v)
			data[2*i], data[2*i+1] = byte(h), byte(h>>8)
		}
		c := b.Const(name+"_f16", fb.TensorTypeFLOAT16, cvt32(shape), data)
		out := b.Tensor(name, cvtF32, cvt32(shape)...)
		b.Op(fb.BuiltinOperatorDEQUANTIZE, nil, []int32{c}, []int32{out})
		return out
	}
	b := modelbuild.New()
	x := b.Tensor("x", cvtF32, 1, 6, 6, 4)
	cw := half(b, "cw", []int{5, 3, 3, 4})
	cb := b.ConstFloat32("cb", []int32{5}, cvtValues(r, 5))
	y1 := b.Tensor("y1", cvtF32, 1, 6, 6, 5)
	b.Op(fb.BuiltinOperatorCONV_2D, &fb.Conv2DOptionsT{StrideW: 1, StrideH: 1, DilationWFactor: 1, DilationHFactor: 1}, []int32{x, cw, cb}, []int32{y1})
	dw := half(b, "dw", []int{1, 3, 3, 5})
	db := b.ConstFloat32("db", []int32{5}, cvtValues(r, 5))
	y2 := b.Tensor("y2", cvtF32, 1, 6, 6, 5)
	b.Op(fb.BuiltinOperatorDEPTHWISE_CONV_2D, &fb.DepthwiseConv2DOptionsT{StrideW: 1, StrideH: 1, DepthMultiplier: 1, DilationWFactor: 1, DilationHFactor: 1}, []int32{y1, dw, db}, []int32{y2})
	fw := half(b, "fw", []int{7, 180})
	fbias := b.ConstFloat32("fb", []int32{7}, cvtValues(r, 7))
	y3 := b.Tensor("y3", cvtF32, 1, 7)
	b.Op(fb.BuiltinOperatorFULLY_CONNECTED, &fb.FullyConnectedOptionsT{}, []int32{y2, fw, fbias}, []int32{y3})
	b.Inputs(x)
	b.Outputs(y2, y3)
	compareWithRuntime(t, b.Bytes(), []*npy.Array{cvtArray(r, 1, 6, 6, 4)}, 1e-5)
}

// TestGEMMSplitInvariance checks that splitting the rows of a product (as
// the worker goroutines do, at multiples of gemmMR) gives bit-identical
// results, and that the edge tiles are right.
func TestGEMMSplitInvariance(t *testing.T) {
	r := cvtRand(27)
	for _, s := range [][3]int{{1, 1, 1}, {7, 9, 5}, {100, 17, 33}, {301, 64, 130}, {2000, 24, 27}} {
		m, n, k := s[0], s[1], s[2]
		a := cvtValues(r, m*k)
		w := cvtValues(r, n*k) // [n][k]
		bias := cvtValues(r, n)
		p := newPackedB(w, k, n, 1, k)
		whole := make([]float32, m*n)
		gemmRows(a, k, p, bias, whole, n, 0, m, 0, 6)
		for i := 0; i < m; i++ {
			for j := 0; j < n; j++ {
				want := float64(bias[j])
				for kk := 0; kk < k; kk++ {
					want += float64(a[i*k+kk]) * float64(w[j*k+kk])
				}
				want = math.Min(math.Max(want, 0), 6)
				if math.Abs(float64(whole[i*n+j])-want) > 1e-4 {
					t.Fatalf("%v: C[%d][%d] = %v, want %v", s, i, j, whole[i*n+j], want)
				}
			}
		}
		split := make([]float32, m*n)
		for i0 := 0; i0 < m; {
			i1 := min(i0+3*(1+r.IntN(20)), m)
			gemmRows(a, k, p, bias, split, n, i0, i1, 0, 6)
			i0 = i1
		}
		pooled := make([]float32, m*n)
		g := &gemmOp{}
		g.set(m, a, k, p, bias, pooled, n, 0, 6)
		g.run()
		for i := range whole {
			if whole[i] != pooled[i] {
				t.Fatalf("%v: element %d differs on the worker goroutines: %v vs %v", s, i, pooled[i], whole[i])
			}
		}
		for i := range whole {
			if whole[i] != split[i] {
				t.Fatalf("%v: element %d differs after splitting: %v vs %v", s, i, split[i], whole[i])
			}
		}
	}
}

// TestParallelStress runs many products on the worker pool from several
// goroutines at once (each with its own state, as interpreters do) and
// checks every result.
func TestParallelStress(t *testing.T) {
	if poolThreads() < 2 {
		t.Skip("one goroutine: nothing to stress")
	}
	r := cvtRand(28)
	m, n, k := 301, 24, 64
	a := cvtValues(r, m*k)
	p := newPackedB(cvtValues(r, n*k), k, n, 1, k)
	want := make([]float32, m*n)
	gemmRows(a, k, p, nil, want, n, 0, m, noClampLo, noClampHi)
	var wg sync.WaitGroup
	errs := make(chan string, 4)
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			op := &gemmOp{}
			c := make([]float32, m*n)
			for i := 0; i < 200; i++ {
				clear(c)
				op.set(m, a, k, p, nil, c, n, noClampLo, noClampHi)
				op.run()
				for e := range c {
					if c[e] != want[e] {
						errs <- fmt.Sprintf("iteration %d: element %d is %v, want %v", i, e, c[e], want[e])
						return
					}
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
}
