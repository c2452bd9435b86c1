package interp

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"litequant/core/fixtures"
	"litequant/core/modelbuild"
	"litequant/core/npy"
	fb "litequant/core/schema/tflitefb"
	"litequant/core/tflite"
)

// Test helpers shared by the kernels_{elementwise,unary,compare,reduce,
// softmax,quant}_test.go files (prefix kt).

// ktT describes an operator tensor: a graph input when data is nil,
// otherwise a constant.
type ktT struct {
	typ   fb.TensorType
	shape []int
	data  []byte
	scale []float32
	zp    []int64
	axis  int32
}

func ktIn(typ fb.TensorType, shape ...int) ktT { return ktT{typ: typ, shape: shape} }

func ktConst(a *npy.Array) ktT {
	return ktT{typ: ktTypeOf(a.DType), shape: a.Shape, data: a.Data}
}

func ktQuant(t ktT, scale []float32, zp []int64, axis int32) ktT {
	t.scale, t.zp, t.axis = scale, zp, axis
	return t
}

func ktTypeOf(d npy.DType) fb.TensorType {
	switch d {
	case npy.Bool:
		return fb.TensorTypeBOOL
	case npy.Int8:
		return fb.TensorTypeINT8
	case npy.Uint8:
		return fb.TensorTypeUINT8
	case npy.Int16:
		return fb.TensorTypeINT16
	case npy.Int32:
		return fb.TensorTypeINT32
	case npy.Int64:
		return fb.TensorTypeINT64
	case npy.Float16:
		return fb.TensorTypeFLOAT16
	case npy.Float64:
		return fb.TensorTypeFLOAT64
	}
	return fb.TensorTypeFLOAT32
}

func ktShape32(s []int) []int32 {
	out := make([]int32, len(s))
	for i, d := range s {
		out[i] = int32(d)
	}
	return out
}

// ktOp is one operator with its tensors.
type ktOp struct {
	code    fb.BuiltinOperator
	version int32
	opts    any
	ins     []ktT
	outs    []ktT
}

// add appends the operator to b (tensor names prefixed) and returns its
// graph inputs (the non-constant ins, in order) and outputs.
func (op *ktOp) add(b *modelbuild.Builder, prefix string) (graphIn, outIdx []int32) {
	var inIdx []int32
	for i, t := range op.ins {
		name := prefix + "in" + string(rune('0'+i))
		var idx int32
		if t.data != nil {
			idx = b.Const(name, t.typ, ktShape32(t.shape), t.data)
		} else {
			idx = b.Tensor(name, t.typ, ktShape32(t.shape)...)
			graphIn = append(graphIn, idx)
		}
		if t.scale != nil {
			b.Quantize(idx, t.scale, t.zp, t.axis)
		}
		inIdx = append(inIdx, idx)
	}
	for i, t := range op.outs {
		idx := b.Tensor(prefix+"out"+string(rune('0'+i)), t.typ, ktShape32(t.shape)...)
		if t.scale != nil {
			b.Quantize(idx, t.scale, t.zp, t.axis)
		}
		outIdx = append(outIdx, idx)
	}
	version := op.version
	if version == 0 {
		version = 1
	}
	b.OpVersion(op.code, version, op.opts, inIdx, outIdx)
	return graphIn, outIdx
}

func ktSpec(code fb.BuiltinOperator, opts any, ins []ktT, outs ...ktT) *ktOp {
	return &ktOp{code: code, opts: opts, ins: ins, outs: outs}
}

// ktModelB builds a model with one operator; the graph inputs are the
// non-constant ins, in order.
func ktModelB(code fb.BuiltinOperator, version int32, opts any, ins []ktT, outs []ktT) *modelbuild.Builder {
	b := modelbuild.New()
	op := &ktOp{code: code, version: version, opts: opts, ins: ins, outs: outs}
	graphIn, outIdx := op.add(b, "")
	b.Inputs(graphIn...)
	b.Outputs(outIdx...)
	return b
}

func ktModel(code fb.BuiltinOperator, opts any, ins []ktT, outs ...ktT) []byte {
	return ktModelB(code, 1, opts, ins, outs).Bytes()
}

// ktCase is a model (or one operator) and inputs to compare with the real
// runtime.
type ktCase struct {
	name   string
	model  []byte
	op     *ktOp // instead of model: merged with other cases into one model
	inputs []*npy.Array
	tol    float64 // 0: 1e-5
}

// ktGroup is how many single-operator cases share one model (each run of
// the real runtime starts a process).
const ktGroup = 48

// ktCompare compares the cases with the real runtime. Cases given as an
// operator are merged, up to ktGroup at a time and with equal tolerance,
// into one model with every case's inputs and outputs.
func ktCompare(t *testing.T, cases []ktCase) {
	t.Helper()
	tolOf := func(c ktCase) float64 {
		if c.tol == 0 {
			return 1e-5
		}
		return c.tol
	}
	for _, c := range cases {
		if c.op == nil {
			t.Run(c.name, func(t *testing.T) { compareWithRuntime(t, c.model, c.inputs, tolOf(c)) })
		}
	}
	var group []ktCase
	flush := func() {
		if len(group) == 0 {
			return
		}
		b := modelbuild.New()
		var ins, outs []int32
		var arrays []*npy.Array
		var names []string
		for k, c := range group {
			gi, oi := c.op.add(b, fmt.Sprintf("c%d_", k))
			ins = append(ins, gi...)
			outs = append(outs, oi...)
			arrays = append(arrays, c.inputs...)
			for range oi {
				names = append(names, c.name)
			}
		}
		b.Inputs(ins...)
		b.Outputs(outs...)
		model, tol := b.Bytes(), tolOf(group[0])
		name := group[0].name
		if len(group) > 1 {
			name += "..." + group[len(group)-1].name
		}
		t.Run(name, func(t *testing.T) {
			for i, n := range names {
				t.Logf("output %d: %s", i, n)
			}
			compareWithRuntime(t, model, arrays, tol)
		})
		group = group[:0]
	}
	for _, c := range cases {
		if c.op == nil {
			continue
		}
		if len(group) == ktGroup || len(group) > 0 && tolOf(group[0]) != tolOf(c) {
			flush()
		}
		group = append(group, c)
	}
	flush()
}

// ktRun runs a model in the Go interpreter and returns its outputs (copied).
func ktRun(t *testing.T, model []byte, inputs ...*npy.Array) []*Tensor {
	t.Helper()
	outs, err := ktTry(model, inputs...)
	if err != nil {
		t.Fatal(err)
	}
	return outs
}

// ktTry is ktRun returning the error of loading, building or running.
func ktTry(model []byte, inputs ...*npy.Array) (outs []*Tensor, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = errors.New("panic: " + ktString(r))
		}
	}()
	m, err := tflite.Load(model)
	if err != nil {
		return nil, err
	}
	it, err := New(m, Options{})
	if err != nil {
		return nil, err
	}
	for i, a := range inputs {
		if err := it.SetInput(i, a.Shape, a.Data); err != nil {
			return nil, err
		}
	}
	if err := it.Invoke(); err != nil {
		return nil, err
	}
	for i := 0; i < it.NumOutputs(); i++ {
		o := it.Output(i)
		outs = append(outs, &Tensor{Type: o.Type, Shape: append([]int{}, o.Shape...), Data: append(alignedBytes(0), o.Data...)})
	}
	return outs, nil
}

func ktString(r any) string {
	if e, ok := r.(error); ok {
		return e.Error()
	}
	if s, ok := r.(string); ok {
		return s
	}
	return "?"
}

// ktWantErr checks that building or running fails (with an error, not a
// panic) and that the message contains want.
func ktWantErr(t *testing.T, want string, model []byte, inputs ...*npy.Array) {
	t.Helper()
	_, err := ktTry(model, inputs...)
	if err == nil {
		t.Fatalf("no error, want one containing %q", want)
	}
	if strings.HasPrefix(err.Error(), "panic") || !strings.Contains(err.Error(), want) {
		t.Fatalf("error %q, want one containing %q", err, want)
	}
}

func ktRand(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, 0x5eed)) }

func ktCount(shape []int) int {
	n := 1
	for _, d := range shape {
		n *= d
	}
	return n
}

func ktF32(r *rand.Rand, lo, hi float32, shape ...int) *npy.Array {
	v := make([]float32, ktCount(shape))
	for i := range v {
		v[i] = lo + (hi-lo)*r.Float32()
	}
	return npy.FromFloat32(shape, v)
}

// ktF32Grid draws small multiples of 0.5 (ties, equal values and exact
// zeros are common).
func ktF32Grid(r *rand.Rand, lo, hi int, shape ...int) *npy.Array {
	v := make([]float32, ktCount(shape))
	for i := range v {
		v[i] = float32(lo+r.IntN(hi-lo+1)) / 2
	}
	return npy.FromFloat32(shape, v)
}

func ktI32(r *rand.Rand, lo, hi int32, shape ...int) *npy.Array {
	v := make([]int32, ktCount(shape))
	for i := range v {
		v[i] = lo + r.Int32N(hi-lo+1)
	}
	return npy.FromInt32(shape, v)
}

// ktI32NonZero draws from [lo, hi] without 0.
func ktI32NonZero(r *rand.Rand, lo, hi int32, shape ...int) *npy.Array {
	v := make([]int32, ktCount(shape))
	for i := range v {
		for v[i] == 0 {
			v[i] = lo + r.Int32N(hi-lo+1)
		}
	}
	return npy.FromInt32(shape, v)
}

func ktBool(r *rand.Rand, shape ...int) *npy.Array {
	v := make([]bool, ktCount(shape))
	for i := range v {
		v[i] = r.IntN(2) == 1
	}
	return npy.FromBool(shape, v)
}

// ktBroadcast is the NumPy broadcast of shapes (valid inputs only).
func ktBroadcast(shapes ...[]int) []int {
	var s [ewMaxDims]int
	out, err := ewBroadcast(&s, shapes...)
	if err != nil {
		panic(err)
	}
	return append([]int{}, out...)
}

func ktF32s(t *Tensor) []float32 { return append([]float32{}, t.F32()...) }

func ktCheckF32(t *testing.T, got *Tensor, shape []int, want []float32) {
	t.Helper()
	if got.Type != fb.TensorTypeFLOAT32 || !slices.Equal(got.Shape, shape) {
		t.Fatalf("got %s%v, want FLOAT32%v", tflite.TypeName(got.Type), got.Shape, shape)
	}
	g := got.F32()
	for i := range want {
		w := want[i]
		if math.Float32bits(g[i]) != math.Float32bits(w) && !(g[i] == w) && !(g[i] != g[i] && w != w) {
			t.Fatalf("element %d: got %v, want %v (all: %v)", i, g[i], w, g)
		}
	}
}

func ktCheckI32(t *testing.T, got *Tensor, shape []int, want []int32) {
	t.Helper()
	if got.Type != fb.TensorTypeINT32 || !slices.Equal(got.Shape, shape) {
		t.Fatalf("got %s%v, want INT32%v", tflite.TypeName(got.Type), got.Shape, shape)
	}
	g := got.I32()
	for i := range want {
		if g[i] != want[i] {
			t.Fatalf("got %v, want %v", g, want)
		}
	}
}

// Binary arithmetic.

var ktArithOps = []struct {
	code fb.BuiltinOperator
	opts func(act fb.ActivationFunctionType) any
}{
	{fb.BuiltinOperatorADD, func(a fb.ActivationFunctionType) any { return &fb.AddOptionsT{FusedActivationFunction: a} }},
	{fb.BuiltinOperatorSUB, func(a fb.ActivationFunctionType) any { return &fb.SubOptionsT{FusedActivationFunction: a} }},
	{fb.BuiltinOperatorMUL, func(a fb.ActivationFunctionType) any { return &fb.MulOptionsT{FusedActivationFunction: a} }},
	{fb.BuiltinOperatorDIV, func(a fb.ActivationFunctionType) any { return &fb.DivOptionsT{FusedActivationFunction: a} }},
}

var ktShapePairs = [][2][]int{
	{{2, 3, 4}, {2, 3, 4}},       // same shape
	{{1, 5, 5, 3}, {}},           // scalar
	{{}, {2, 3}},                 // scalar first
	{{1, 4, 4, 8}, {8}},          // last-axis (bias-like)
	{{1, 4, 4, 8}, {1, 1, 1, 8}}, // last-axis, same rank
	{{2, 1, 3}, {4, 1}},          // both broadcast
	{{1, 4, 4, 3}, {1, 4, 4, 1}}, // broadcast along channels
	{{3, 1}, {1, 3}},             // outer product
	{{2, 3, 1, 4}, {3, 5, 1}},    // mixed
}

func TestArithmeticFloat(t *testing.T) {
	r := ktRand(1)
	var cases []ktCase
	for _, op := range ktArithOps {
		name := fb.EnumNamesBuiltinOperator[op.code]
		for _, sp := range ktShapePairs {
			out := ktBroadcast(sp[0], sp[1])
			a := ktF32(r, -4, 4, sp[0]...)
			b := ktF32(r, -4, 4, sp[1]...)
			if op.code == fb.BuiltinOperatorDIV {
				b = ktF32(r, 0.5, 3, sp[1]...)
			}
			m := ktSpec(op.code, op.opts(fb.ActivationFunctionTypeNONE),
				[]ktT{ktIn(fb.TensorTypeFLOAT32, sp[0]...), ktIn(fb.TensorTypeFLOAT32, sp[1]...)},
				ktIn(fb.TensorTypeFLOAT32, out...))
			cases = append(cases, ktCase{name: name + "_" + ktShapeName(sp[0]) + "_" + ktShapeName(sp[1]), op: m, inputs: []*npy.Array{a, b}})
		}
		for _, act := range []fb.ActivationFunctionType{fb.ActivationFunctionTypeRELU, fb.ActivationFunctionTypeRELU6, fb.ActivationFunctionTypeRELU_N1_TO_1} {
			a := ktF32(r, -8, 8, 2, 3, 8)
			b := ktF32(r, 0.25, 2, 8)
			m := ktSpec(op.code, op.opts(act),
				[]ktT{ktIn(fb.TensorTypeFLOAT32, 2, 3, 8), ktIn(fb.TensorTypeFLOAT32, 8)},
				ktIn(fb.TensorTypeFLOAT32, 2, 3, 8))
			cases = append(cases, ktCase{name: name + "_" + fb.EnumNamesActivationFunctionType[act], op: m, inputs: []*npy.Array{a, b}})
		}
		// A constant operand.
		c := ktF32(r, 0.5, 2, 1, 1, 6)
		m := ktSpec(op.code, op.opts(fb.ActivationFunctionTypeNONE),
			[]ktT{ktIn(fb.TensorTypeFLOAT32, 2, 5, 6), ktConst(c)}, ktIn(fb.TensorTypeFLOAT32, 2, 5, 6))
		cases = append(cases, ktCase{name: name + "_const", op: m, inputs: []*npy.Array{ktF32(r, -3, 3, 2, 5, 6)}})
	}
	ktCompare(t, cases)
}

func ktShapeName(s []int) string {
	if len(s) == 0 {
		return "scalar"
	}
	var b strings.Builder
	for i, d := range s {
		if i > 0 {
			b.WriteByte('x')
		}
		b.WriteString(string(rune('0' + d%10)))
		if d >= 10 {
			b.WriteString("+")
		}
	}
	return b.String()
}

func TestArithmeticInt32(t *testing.T) {
	r := ktRand(2)
	var cases []ktCase
	for _, op := range ktArithOps {
		name := fb.EnumNamesBuiltinOperator[op.code]
		for _, sp := range ktShapePairs[:6] {
			out := ktBroadcast(sp[0], sp[1])
			a := ktI32(r, -50, 50, sp[0]...)
			b := ktI32(r, -50, 50, sp[1]...)
			if op.code == fb.BuiltinOperatorDIV {
				b = ktI32NonZero(r, -7, 7, sp[1]...)
			}
			m := ktSpec(op.code, op.opts(fb.ActivationFunctionTypeNONE),
				[]ktT{ktIn(fb.TensorTypeINT32, sp[0]...), ktIn(fb.TensorTypeINT32, sp[1]...)},
				ktIn(fb.TensorTypeINT32, out...))
			cases = append(cases, ktCase{name: name + "_" + ktShapeName(sp[0]) + "_" + ktShapeName(sp[1]), op: m, inputs: []*npy.Array{a, b}})
		}
		if op.code != fb.BuiltinOperatorDIV {
			for _, act := range []fb.ActivationFunctionType{fb.ActivationFunctionTypeRELU, fb.ActivationFunctionTypeRELU6} {
				m := ktSpec(op.code, op.opts(act),
					[]ktT{ktIn(fb.TensorTypeINT32, 3, 8), ktIn(fb.TensorTypeINT32, 3, 8)},
					ktIn(fb.TensorTypeINT32, 3, 8))
				cases = append(cases, ktCase{name: name + "_" + fb.EnumNamesActivationFunctionType[act], op: m,
					inputs: []*npy.Array{ktI32(r, -9, 9, 3, 8), ktI32(r, -9, 9, 3, 8)}})
			}
		}
	}
	ktCompare(t, cases)
}

// ktBinCases builds float32 and int32 cases of a binary operator without
// options over a few shape pairs.
func ktBinCases(code fb.BuiltinOperator, typ fb.TensorType, gen func(shape []int, second bool) *npy.Array) []ktCase {
	var cases []ktCase
	outTyp := typ
	switch code {
	case fb.BuiltinOperatorEQUAL, fb.BuiltinOperatorNOT_EQUAL, fb.BuiltinOperatorLESS, fb.BuiltinOperatorLESS_EQUAL,
		fb.BuiltinOperatorGREATER, fb.BuiltinOperatorGREATER_EQUAL, fb.BuiltinOperatorLOGICAL_AND, fb.BuiltinOperatorLOGICAL_OR:
		outTyp = fb.TensorTypeBOOL
	}
	for _, sp := range ktShapePairs {
		out := ktBroadcast(sp[0], sp[1])
		m := ktSpec(code, nil, []ktT{ktIn(typ, sp[0]...), ktIn(typ, sp[1]...)}, ktIn(outTyp, out...))
		cases = append(cases, ktCase{
			name: fb.EnumNamesBuiltinOperator[code] + "_" + tflite.TypeName(typ) + "_" + ktShapeName(sp[0]) + "_" + ktShapeName(sp[1]),
			op:   m, inputs: []*npy.Array{gen(sp[0], false), gen(sp[1], true)},
		})
	}
	return cases
}

func TestBinaryOthers(t *testing.T) {
	r := ktRand(3)
	f := func(lo, hi float32) func([]int, bool) *npy.Array {
		return func(s []int, _ bool) *npy.Array { return ktF32(r, lo, hi, s...) }
	}
	i := func(lo, hi int32) func([]int, bool) *npy.Array {
		return func(s []int, _ bool) *npy.Array { return ktI32(r, lo, hi, s...) }
	}
	var cases []ktCase
	cases = append(cases, ktBinCases(fb.BuiltinOperatorSQUARED_DIFFERENCE, fb.TensorTypeFLOAT32, f(-5, 5))...)
	cases = append(cases, ktBinCases(fb.BuiltinOperatorSQUARED_DIFFERENCE, fb.TensorTypeINT32, i(-100, 100))...)
	cases = append(cases, ktBinCases(fb.BuiltinOperatorMAXIMUM, fb.TensorTypeFLOAT32, func(s []int, _ bool) *npy.Array { return ktF32Grid(r, -6, 6, s...) })...)
	cases = append(cases, ktBinCases(fb.BuiltinOperatorMAXIMUM, fb.TensorTypeINT32, i(-5, 5))...)
	cases = append(cases, ktBinCases(fb.BuiltinOperatorMINIMUM, fb.TensorTypeFLOAT32, func(s []int, _ bool) *npy.Array { return ktF32Grid(r, -6, 6, s...) })...)
	cases = append(cases, ktBinCases(fb.BuiltinOperatorMINIMUM, fb.TensorTypeINT32, i(-5, 5))...)
	cases = append(cases, ktBinCases(fb.BuiltinOperatorPOW, fb.TensorTypeFLOAT32, func(s []int, second bool) *npy.Array {
		if second {
			return ktF32(r, -2, 3, s...)
		}
		return ktF32(r, 0.1, 3, s...)
	})...)
	cases = append(cases, ktBinCases(fb.BuiltinOperatorPOW, fb.TensorTypeINT32, func(s []int, second bool) *npy.Array {
		if second {
			return ktI32(r, 0, 5, s...)
		}
		return ktI32(r, -6, 6, s...)
	})...)
	for _, code := range []fb.BuiltinOperator{fb.BuiltinOperatorFLOOR_DIV, fb.BuiltinOperatorFLOOR_MOD} {
		cases = append(cases, ktBinCases(code, fb.TensorTypeFLOAT32, func(s []int, second bool) *npy.Array {
			a := ktF32Grid(r, -20, 20, s...)
			if second { // no zero divisors
				v, _ := a.Float32s()
				for k := range v {
					if v[k] == 0 {
						v[k] = -1.5
					}
				}
				return npy.FromFloat32(s, v)
			}
			return a
		})...)
		cases = append(cases, ktBinCases(code, fb.TensorTypeINT32, func(s []int, second bool) *npy.Array {
			if second {
				return ktI32NonZero(r, -6, 6, s...)
			}
			return ktI32(r, -30, 30, s...)
		})...)
	}
	ktCompare(t, cases)
}

func TestPRelu(t *testing.T) {
	r := ktRand(4)
	var cases []ktCase
	for _, sp := range [][2][]int{
		{{1, 4, 4, 6}, {6}},
		{{1, 4, 4, 6}, {1, 1, 6}},
		{{2, 3, 5}, {2, 3, 5}},
		{{1, 3, 3, 2}, {3, 1, 2}},
	} {
		alpha := ktF32(r, 0.05, 0.5, sp[1]...)
		m := ktSpec(fb.BuiltinOperatorPRELU, nil, []ktT{ktIn(fb.TensorTypeFLOAT32, sp[0]...), ktConst(alpha)},
			ktIn(fb.TensorTypeFLOAT32, sp[0]...))
		cases = append(cases, ktCase{name: "alpha_" + ktShapeName(sp[1]), op: m, inputs: []*npy.Array{ktF32(r, -5, 5, sp[0]...)}})
	}
	ktCompare(t, cases)
}

// Hand-computed cases that need no runtime.

func TestArithmeticHand(t *testing.T) {
	f := func(shape []int, v ...float32) *npy.Array { return npy.FromFloat32(shape, v) }
	i32 := func(shape []int, v ...int32) *npy.Array { return npy.FromInt32(shape, v) }
	bin := func(code fb.BuiltinOperator, opts any, typ fb.TensorType, a, b *npy.Array) *Tensor {
		out := ktBroadcast(a.Shape, b.Shape)
		m := ktModel(code, opts, []ktT{ktIn(typ, a.Shape...), ktIn(typ, b.Shape...)}, ktIn(typ, out...))
		return ktRun(t, m, a, b)[0]
	}
	F, I := fb.TensorTypeFLOAT32, fb.TensorTypeINT32
	// Broadcast [2,1] + [3] and a fused RELU6.
	got := bin(fb.BuiltinOperatorADD, &fb.AddOptionsT{FusedActivationFunction: fb.ActivationFunctionTypeRELU6}, F,
		f([]int{2, 1}, 1, 5), f([]int{3}, -3, 0, 2))
	ktCheckF32(t, got, []int{2, 3}, []float32{0, 1, 3, 2, 5, 6})
	// TANH as a fused activation is not applied (TensorFlow Lite clamps only).
	got = bin(fb.BuiltinOperatorSUB, &fb.SubOptionsT{FusedActivationFunction: fb.ActivationFunctionTypeTANH}, F,
		f([]int{2}, 5, 1), f(nil, 2))
	ktCheckF32(t, got, []int{2}, []float32{3, -1})
	// DIV int32 truncates toward zero.
	gi := bin(fb.BuiltinOperatorDIV, nil, I, i32([]int{4}, 7, -7, 7, -7), i32([]int{4}, 2, 2, -2, -2))
	ktCheckI32(t, gi, []int{4}, []int32{3, -3, -3, 3})
	// FLOOR_DIV and FLOOR_MOD round toward -inf / take the divisor's sign.
	gi = bin(fb.BuiltinOperatorFLOOR_DIV, nil, I, i32([]int{4}, 7, -7, 7, -7), i32([]int{4}, 2, 2, -2, -2))
	ktCheckI32(t, gi, []int{4}, []int32{3, -4, -4, 3})
	gi = bin(fb.BuiltinOperatorFLOOR_MOD, nil, I, i32([]int{4}, 7, -7, 7, -7), i32([]int{4}, 3, 3, -3, -3))
	ktCheckI32(t, gi, []int{4}, []int32{1, 2, -2, -1})
	got = bin(fb.BuiltinOperatorFLOOR_MOD, nil, F, f([]int{4}, 7.5, -7.5, 7.5, -7.5), f([]int{4}, 2, 2, -2, -2))
	ktCheckF32(t, got, []int{4}, []float32{1.5, 0.5, -0.5, -1.5})
	got = bin(fb.BuiltinOperatorFLOOR_DIV, nil, F, f([]int{4}, 7.5, -7.5, 7.5, -7.5), f([]int{4}, 2, 2, -2, -2))
	ktCheckF32(t, got, []int{4}, []float32{3, -4, -4, 3})
	// POW int32, MAXIMUM with broadcast, SQUARED_DIFFERENCE.
	gi = bin(fb.BuiltinOperatorPOW, nil, I, i32([]int{4}, 2, -3, 5, 0), i32([]int{4}, 10, 3, 0, 0))
	ktCheckI32(t, gi, []int{4}, []int32{1024, -27, 1, 1})
	got = bin(fb.BuiltinOperatorMAXIMUM, nil, F, f([]int{2, 2}, 1, -1, 3, 0), f([]int{2, 1}, 0, 2))
	ktCheckF32(t, got, []int{2, 2}, []float32{1, 0, 3, 2})
	got = bin(fb.BuiltinOperatorSQUARED_DIFFERENCE, nil, F, f([]int{3}, 1, 2, 3), f(nil, 5))
	ktCheckF32(t, got, []int{3}, []float32{16, 9, 4})
	// Empty tensors broadcast to empty outputs.
	got = bin(fb.BuiltinOperatorMUL, nil, F, f([]int{0, 3}), f([]int{3}, 1, 2, 3))
	ktCheckF32(t, got, []int{0, 3}, nil)
	// int64, which the real runtime cannot exchange.
	a64 := npy.FromInt64([]int{3}, []int64{1 << 40, -5, 9})
	b64 := npy.FromInt64([]int{1}, []int64{-4})
	g64 := bin(fb.BuiltinOperatorFLOOR_DIV, nil, fb.TensorTypeINT64, a64, b64)
	if v := g64.I64(); v[0] != -(1<<38) || v[1] != 1 || v[2] != -3 {
		t.Fatalf("FLOOR_DIV int64: %v", v)
	}
	g64 = bin(fb.BuiltinOperatorMUL, &fb.MulOptionsT{FusedActivationFunction: fb.ActivationFunctionTypeRELU}, fb.TensorTypeINT64, a64, b64)
	if v := g64.I64(); v[0] != 0 || v[1] != 20 || v[2] != 0 {
		t.Fatalf("MUL int64 RELU: %v", v)
	}
	// PRELU.
	m := ktModel(fb.BuiltinOperatorPRELU, nil, []ktT{ktIn(F, 2, 2), ktConst(f([]int{2}, 0.5, 2))}, ktIn(F, 2, 2))
	ktCheckF32(t, ktRun(t, m, f([]int{2, 2}, -2, -2, 3, 0))[0], []int{2, 2}, []float32{-1, -4, 3, 0})
}

func TestArithmeticErrors(t *testing.T) {
	F, I := fb.TensorTypeFLOAT32, fb.TensorTypeINT32
	// Shapes that do not broadcast.
	m := ktModel(fb.BuiltinOperatorADD, nil, []ktT{ktIn(F, 2, 3), ktIn(F, 4)}, ktIn(F, 2, 3))
	ktWantErr(t, "do not broadcast", m, npy.FromFloat32([]int{2, 3}, make([]float32, 6)), npy.FromFloat32([]int{4}, make([]float32, 4)))
	// Mixed input types.
	m = ktModel(fb.BuiltinOperatorMUL, nil, []ktT{ktIn(F, 2), ktIn(I, 2)}, ktIn(F, 2))
	ktWantErr(t, "differ", m, npy.FromFloat32([]int{2}, []float32{1, 2}), npy.FromInt32([]int{2}, []int32{1, 2}))
	// Wrong output type.
	m = ktModel(fb.BuiltinOperatorADD, nil, []ktT{ktIn(F, 2), ktIn(F, 2)}, ktIn(I, 2))
	ktWantErr(t, "output type", m, npy.FromFloat32([]int{2}, []float32{1, 2}), npy.FromFloat32([]int{2}, []float32{1, 2}))
	// Integer division by zero.
	for _, code := range []fb.BuiltinOperator{fb.BuiltinOperatorDIV, fb.BuiltinOperatorFLOOR_DIV, fb.BuiltinOperatorFLOOR_MOD} {
		m = ktModel(code, nil, []ktT{ktIn(I, 2), ktIn(I, 2)}, ktIn(I, 2))
		ktWantErr(t, "division by zero", m, npy.FromInt32([]int{2}, []int32{1, 2}), npy.FromInt32([]int{2}, []int32{1, 0}))
	}
	// Negative int32 exponent.
	m = ktModel(fb.BuiltinOperatorPOW, nil, []ktT{ktIn(I, 2), ktIn(I, 2)}, ktIn(I, 2))
	ktWantErr(t, "negative", m, npy.FromInt32([]int{2}, []int32{1, 2}), npy.FromInt32([]int{2}, []int32{1, -1}))
	// Unsupported type, missing input.
	m = ktModel(fb.BuiltinOperatorDIV, nil, []ktT{ktIn(fb.TensorTypeBOOL, 2), ktIn(fb.TensorTypeBOOL, 2)}, ktIn(fb.TensorTypeBOOL, 2))
	ktWantErr(t, "unsupported", m, npy.FromBool([]int{2}, []bool{true, false}), npy.FromBool([]int{2}, []bool{true, true}))
	b := modelbuild.New()
	x := b.Tensor("x", F, 2)
	o := b.Tensor("o", F, 2)
	b.Op(fb.BuiltinOperatorADD, nil, []int32{x, -1}, []int32{o})
	b.Inputs(x)
	b.Outputs(o)
	ktWantErr(t, "two inputs", b.Bytes(), npy.FromFloat32([]int{2}, []float32{1, 2}))
}

// TestKernelsNoAlloc checks that steady-state evaluation of these kernels
// does not allocate.
func TestKernelsNoAlloc(t *testing.T) {
	F, B, I8 := fb.TensorTypeFLOAT32, fb.TensorTypeBOOL, fb.TensorTypeINT8
	r := ktRand(5)
	q := ktQuant(ktIn(I8, 4, 16), []float32{0.1}, []int64{3}, 0)
	for _, c := range []struct {
		name   string
		model  []byte
		inputs []*npy.Array
	}{
		{"ADD", ktModel(fb.BuiltinOperatorADD, &fb.AddOptionsT{FusedActivationFunction: fb.ActivationFunctionTypeRELU},
			[]ktT{ktIn(F, 1, 8, 8, 16), ktIn(F, 8, 1, 16)}, ktIn(F, 1, 8, 8, 16)),
			[]*npy.Array{ktF32(r, -1, 1, 1, 8, 8, 16), ktF32(r, -1, 1, 8, 1, 16)}},
		{"LESS", ktModel(fb.BuiltinOperatorLESS, nil, []ktT{ktIn(F, 4, 16), ktIn(F, 16)}, ktIn(B, 4, 16)),
			[]*npy.Array{ktF32(r, -1, 1, 4, 16), ktF32(r, -1, 1, 16)}},
		{"SELECT_V2", ktModel(fb.BuiltinOperatorSELECT_V2, nil, []ktT{ktIn(B, 4, 1), ktIn(F, 4, 16), ktIn(F, 16)}, ktIn(F, 4, 16)),
			[]*npy.Array{ktBool(r, 4, 1), ktF32(r, -1, 1, 4, 16), ktF32(r, -1, 1, 16)}},
		{"MEAN", ktReduceModel(fb.BuiltinOperatorMEAN, F, []int{1, 8, 8, 16}, []int32{1, 2}, true),
			[]*npy.Array{ktF32(r, -1, 1, 1, 8, 8, 16)}},
		{"SOFTMAX", ktUnaryModel(fb.BuiltinOperatorSOFTMAX, &fb.SoftmaxOptionsT{Beta: 1}, F, 4, 16),
			[]*npy.Array{ktF32(r, -1, 1, 4, 16)}},
		{"TANH", ktUnaryModel(fb.BuiltinOperatorTANH, nil, F, 4, 16), []*npy.Array{ktF32(r, -1, 1, 4, 16)}},
		{"QUANTIZE", ktModel(fb.BuiltinOperatorQUANTIZE, nil, []ktT{ktIn(F, 4, 16)}, q), []*npy.Array{ktF32(r, -1, 1, 4, 16)}},
		{"DEQUANTIZE", ktModel(fb.BuiltinOperatorDEQUANTIZE, nil, []ktT{q}, ktIn(F, 4, 16)), []*npy.Array{ktI8(r, -128, 127, 4, 16)}},
		{"CAST", ktModel(fb.BuiltinOperatorCAST, nil, []ktT{ktIn(F, 4, 16)}, ktIn(fb.TensorTypeINT32, 4, 16)), []*npy.Array{ktF32(r, -9, 9, 4, 16)}},
	} {
		m, err := tflite.Load(c.model)
		if err != nil {
			t.Fatal(err)
		}
		it, err := New(m, Options{})
		if err != nil {
			t.Fatal(err)
		}
		for i, a := range c.inputs {
			if err := it.SetInput(i, a.Shape, a.Data); err != nil {
				t.Fatal(err)
			}
		}
		if err := it.Invoke(); err != nil {
			t.Fatal(err)
		}
		n := testing.AllocsPerRun(20, func() {
			if err := it.Invoke(); err != nil {
				t.Fatal(err)
			}
		})
		if n != 0 {
			t.Errorf("%s: Invoke allocates %v times per run", c.name, n)
		}
	}
}

func BenchmarkAddSameShape(b *testing.B) {
	ktBenchBinary(b, []int{1, 56, 56, 64}, []int{1, 56, 56, 64})
}
func BenchmarkAddLastAxis(b *testing.B) { ktBenchBinary(b, []int{1, 56, 56, 64}, []int{64}) }
func BenchmarkAddScalar(b *testing.B)   { ktBenchBinary(b, []int{1, 56, 56, 64}, nil) }

func ktBenchInterp(b *testing.B, model []byte) *Interpreter {
	m, err := tflite.Load(model)
	if err != nil {
		b.Fatal(err)
	}
	it, err := New(m, Options{})
	if err != nil {
		b.Fatal(err)
	}
	return it
}

func ktBenchBinary(b *testing.B, sa, sb []int) {
	F := fb.TensorTypeFLOAT32
	it := ktBenchInterp(b, ktModel(fb.BuiltinOperatorADD, nil, []ktT{ktIn(F, sa...), ktIn(F, sb...)}, ktIn(F, ktBroadcast(sa, sb)...)))
	r := ktRand(6)
	x, y := ktF32(r, -1, 1, sa...), ktF32(r, -1, 1, sb...)
	it.SetInput(0, x.Shape, x.Data)
	it.SetInput(1, y.Shape, y.Data)
	b.SetBytes(int64(4 * ktCount(sa)))
	for b.Loop() {
		if err := it.Invoke(); err != nil {
			b.Fatal(err)
		}
	}
}

// TestElementwiseFixtures compares the real single-operator models of
// ../shared that exercise these kernels.
func TestElementwiseFixtures(t *testing.T) {
	for _, name := range []string{
		"single_add", "single_add1_constant_input", "single_mul", "single_mul2_constant_input", "single_sub",
		"single_sub1_constant_input", "single_div", "single_equal", "single_not_equal", "single_maximum",
		"single_mean", "single_reduce_min", "single_relu", "single_rsqrt", "single_sqrt", "single_tanh",
		"single_select", "single_select_v2", "duplicated_tensor_names",
	} {
		t.Run(name, func(t *testing.T) {
			path := fixtures.Model(t, name+".tflite")
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			m, err := tflite.Load(data)
			if err != nil {
				t.Fatal(err)
			}
			samples, err := fixtures.Samples(m, filepath.Base(path), 2)
			if err != nil {
				t.Fatal(err)
			}
			for _, s := range samples {
				compareWithRuntime(t, data, s, 1e-5)
			}
		})
	}
}
