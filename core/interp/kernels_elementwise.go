package interp

import (
	"errors"
	"fmt"
	"math"

	fb "litequant/core/schema/tflitefb"
	"litequant/core/tflite"
)

// Binary elementwise arithmetic with NumPy broadcasting: ADD SUB MUL DIV
// SQUARED_DIFFERENCE MAXIMUM MINIMUM POW FLOOR_DIV FLOOR_MOD PRELU. The
// broadcasting engine here is shared with the comparison, logical and select
// kernels (kernels_compare.go).

// ewMaxDims bounds the rank of broadcast operands (TensorFlow Lite itself
// stops at 6 for most operators).
const ewMaxDims = 16

// ewPlan is a broadcast of up to three operands against an output shape,
// with the output's size-1 dimensions dropped and runs of dimensions that
// are contiguous in every operand merged. dims[0] is the innermost
// dimension; st[j][k] is operand j's element stride along dims[k] (0 where
// it is broadcast). The innermost stride is always 0 or 1.
type ewPlan struct {
	rank int
	size int // output elements
	dims [ewMaxDims]int
	st   [3][ewMaxDims]int
}

// ewState is the per-node state of the broadcasting kernels: buffers reused
// by every Invoke so that eval does not allocate.
type ewState struct {
	plan  ewPlan
	shape [ewMaxDims]int
}

func ewStateOf(n *node) *ewState {
	if s, ok := n.state.(*ewState); ok {
		return s
	}
	s := &ewState{}
	n.state = s
	return s
}

// ewBroadcast writes the NumPy broadcast of shapes into dst and returns it.
func ewBroadcast(dst *[ewMaxDims]int, shapes ...[]int) ([]int, error) {
	r := 0
	for _, s := range shapes {
		r = max(r, len(s))
	}
	if r > ewMaxDims {
		return nil, unsupportedf("broadcasting rank %d (at most %d)", r, ewMaxDims)
	}
	out := dst[:r]
	for i := range out {
		d := 1
		for _, s := range shapes {
			j := i - (r - len(s))
			if j < 0 {
				continue
			}
			switch e := s[j]; {
			case e < 0:
				return nil, fmt.Errorf("shape %v has an unknown dimension", append([]int(nil), s...))
			case e == d || e == 1:
			case d == 1:
				d = e
			default:
				return nil, ewShapeError(shapes)
			}
		}
		out[i] = d
	}
	return out, nil
}

func ewShapeError(shapes [][]int) error {
	msg := "shapes"
	for i, s := range shapes {
		if i > 0 {
			msg += " and"
		}
		msg += fmt.Sprintf(" %v", append([]int(nil), s...))
	}
	return errors.New(msg + " do not broadcast")
}

// init plans the broadcast of ins (each broadcastable to out) to out.
func (p *ewPlan) init(out []int, ins ...[]int) {
	p.rank, p.size = 0, 1
	run := [3]int{1, 1, 1}
	for i := len(out) - 1; i >= 0; i-- {
		d := out[i]
		p.size *= d
		var s [3]int
		for j, in := range ins {
			k := i - (len(out) - len(in))
			if k < 0 {
				continue
			}
			if in[k] != 1 {
				s[j] = run[j]
			}
			run[j] *= in[k]
		}
		if d == 1 {
			continue
		}
		if r := p.rank - 1; r >= 0 {
			merge := true
			for j := range ins {
				if s[j] != p.st[j][r]*p.dims[r] {
					merge = false
					break
				}
			}
			if merge {
				p.dims[r] *= d
				continue
			}
		}
		p.dims[p.rank] = d
		for j := range ins {
			p.st[j][p.rank] = s[j]
		}
		p.rank++
	}
	if p.rank == 0 {
		p.rank, p.dims[0] = 1, 1
		for j := range ins {
			p.st[j][0] = 1
		}
	}
}

// ewVec computes a binary function over a run of elements: both operands
// vectors (vv), the second a scalar (vs), or the first (sv).
type ewVec[A, O any] struct {
	vv func(d []O, a, b []A)
	vs func(d []O, a []A, b A)
	sv func(d []O, a A, b []A)
}

// ewVecOf builds the vector forms from a scalar function (for the rarer
// operators, where a call per element is acceptable).
func ewVecOf[A, O any](f func(a, b A) O) ewVec[A, O] {
	return ewVec[A, O]{
		vv: func(d []O, a, b []A) {
			a, b = a[:len(d)], b[:len(d)]
			for i := range d {
				d[i] = f(a[i], b[i])
			}
		},
		vs: func(d []O, a []A, s A) {
			a = a[:len(d)]
			for i := range d {
				d[i] = f(a[i], s)
			}
		},
		sv: func(d []O, s A, b []A) {
			b = b[:len(d)]
			for i := range d {
				d[i] = f(s, b[i])
			}
		},
	}
}

// ewRun evaluates f over the plan, calling post (if any) on each run of
// output just written.
func ewRun[A, O any](p *ewPlan, f *ewVec[A, O], post func([]O), d []O, a, b []A) {
	if p.size == 0 {
		return
	}
	L := p.dims[0]
	sa, sb := p.st[0][0], p.st[1][0]
	var idx [ewMaxDims]int
	oa, ob := 0, 0
	for o := 0; o < p.size; o += L {
		dd := d[o : o+L]
		switch {
		case sa != 0 && sb != 0:
			f.vv(dd, a[oa:oa+L], b[ob:ob+L])
		case sa != 0:
			f.vs(dd, a[oa:oa+L], b[ob])
		case sb != 0:
			f.sv(dd, a[oa], b[ob:ob+L])
		default:
			f.vv(dd[:1], a[oa:oa+1], b[ob:ob+1])
			for i := 1; i < L; i++ {
				dd[i] = dd[0]
			}
		}
		if post != nil {
			post(dd)
		}
		for k := 1; k < p.rank; k++ {
			idx[k]++
			oa += p.st[0][k]
			ob += p.st[1][k]
			if idx[k] < p.dims[k] {
				break
			}
			oa -= p.st[0][k] * p.dims[k]
			ob -= p.st[1][k] * p.dims[k]
			idx[k] = 0
		}
	}
}

// ewNum is the element types of the arithmetic kernels.
type ewNum interface {
	~int8 | ~uint8 | ~int16 | ~int32 | ~int64 | ~float32
}

// ewSigned is the element types that carry a fused activation.
type ewSigned interface {
	~int32 | ~int64 | ~float32
}

// ewBinFn runs one operator on one element type.
type ewBinFn func(p *ewPlan, d, a, b *Tensor, act fb.ActivationFunctionType)

// ewBinary is a broadcasting binary operator.
type ewBinary struct {
	fns     map[fb.TensorType]ewBinFn
	outBool bool // output is BOOL (comparisons)
	// check validates the operands before the run (divisors).
	check func(a, b *Tensor) error
}

func (op *ewBinary) kernel() *kernel { return &kernel{eval: op.eval} }

func (op *ewBinary) eval(n *node) error {
	a, b := n.input(0), n.input(1)
	if a == nil || b == nil || len(n.outputs) < 1 {
		return errors.New("needs two inputs and one output")
	}
	if a.Type != b.Type {
		return fmt.Errorf("input types %s and %s differ", tflite.TypeName(a.Type), tflite.TypeName(b.Type))
	}
	fn := op.fns[a.Type]
	if fn == nil {
		return unsupportedf("%s inputs", tflite.TypeName(a.Type))
	}
	want := a.Type
	if op.outBool {
		want = fb.TensorTypeBOOL
	}
	if o := n.outputs[0]; o.Type != want {
		return fmt.Errorf("output type %s, want %s", tflite.TypeName(o.Type), tflite.TypeName(want))
	}
	st := ewStateOf(n)
	shape, err := ewBroadcast(&st.shape, a.Shape, b.Shape)
	if err != nil {
		return err
	}
	if op.check != nil {
		if err := op.check(a, b); err != nil {
			return err
		}
	}
	st.plan.init(shape, a.Shape, b.Shape)
	out := n.output(0, shape)
	fn(&st.plan, out, a, b, ewFusedActivation(n.opts))
	return nil
}

// ewFusedActivation reads the fused activation of ADD, SUB, MUL and DIV.
func ewFusedActivation(opts any) fb.ActivationFunctionType {
	switch o := opts.(type) {
	case *fb.AddOptionsT:
		if o != nil {
			return o.FusedActivationFunction
		}
	case *fb.SubOptionsT:
		if o != nil {
			return o.FusedActivationFunction
		}
	case *fb.MulOptionsT:
		if o != nil {
			return o.FusedActivationFunction
		}
	case *fb.DivOptionsT:
		if o != nil {
			return o.FusedActivationFunction
		}
	}
	return fb.ActivationFunctionTypeNONE
}

// ewMaxValue is the largest value of T (+Inf for float32).
func ewMaxValue[T ewSigned]() T {
	var z T
	switch any(z).(type) {
	case float32:
		return any(float32(math.Inf(1))).(T)
	case int32:
		return any(int32(math.MaxInt32)).(T)
	}
	return any(int64(math.MaxInt64)).(T)
}

// ewClampRange returns the bounds of a fused activation. As in TensorFlow
// Lite's arithmetic kernels, only RELU, RELU6 and RELU_N1_TO_1 clamp; other
// codes (TANH, SIGN_BIT) are not applied.
func ewClampRange[T ewSigned](act fb.ActivationFunctionType) (lo, hi T, ok bool) {
	switch act {
	case fb.ActivationFunctionTypeRELU:
		return 0, ewMaxValue[T](), true
	case fb.ActivationFunctionTypeRELU6:
		return 0, 6, true
	case fb.ActivationFunctionTypeRELU_N1_TO_1:
		return -1, 1, true
	}
	return 0, 0, false
}

// ewClampSlice clamps v to [lo, hi] in place (NaN passes through).
func ewClampSlice[T ewSigned](v []T, lo, hi T) {
	for i, x := range v {
		if x < lo {
			v[i] = lo
		} else if x > hi {
			v[i] = hi
		}
	}
}

// ewArith wraps a vector function of a type with a fused activation.
func ewArith[T ewSigned](v ewVec[T, T]) ewBinFn {
	return func(p *ewPlan, d, a, b *Tensor, act fb.ActivationFunctionType) {
		var post func([]T)
		if lo, hi, ok := ewClampRange[T](act); ok {
			post = func(x []T) { ewClampSlice(x, lo, hi) }
		}
		ewRun(p, &v, post, view[T](d.Data), view[T](a.Data), view[T](b.Data))
	}
}

// ewPlain wraps a vector function without activation.
func ewPlain[A, O any](v ewVec[A, O]) ewBinFn {
	return func(p *ewPlan, d, a, b *Tensor, _ fb.ActivationFunctionType) {
		ewRun(p, &v, nil, view[O](d.Data), view[A](a.Data), view[A](b.Data))
	}
}

// Vector loops of the common operators, written out so that they compile to
// tight loops for each element type.

func ewAdd[T ewNum]() ewVec[T, T] {
	return ewVec[T, T]{
		vv: func(d, a, b []T) {
			a, b = a[:len(d)], b[:len(d)]
			for i := range d {
				d[i] = a[i] + b[i]
			}
		},
		vs: func(d, a []T, s T) {
			a = a[:len(d)]
			for i := range d {
				d[i] = a[i] + s
			}
		},
		sv: func(d []T, s T, b []T) {
			b = b[:len(d)]
			for i := range d {
				d[i] = s + b[i]
			}
		},
	}
}

func ewSub[T ewNum]() ewVec[T, T] {
	return ewVec[T, T]{
		vv: func(d, a, b []T) {
			a, b = a[:len(d)], b[:len(d)]
			for i := range d {
				d[i] = a[i] - b[i]
			}
		},
		vs: func(d, a []T, s T) {
			a = a[:len(d)]
			for i := range d {
				d[i] = a[i] - s
			}
		},
		sv: func(d []T, s T, b []T) {
			b = b[:len(d)]
			for i := range d {
				d[i] = s - b[i]
			}
		},
	}
}

func ewMul[T ewNum]() ewVec[T, T] {
	return ewVec[T, T]{
		vv: func(d, a, b []T) {
			a, b = a[:len(d)], b[:len(d)]
			for i := range d {
				d[i] = a[i] * b[i]
			}
		},
		vs: func(d, a []T, s T) {
			a = a[:len(d)]
			for i := range d {
				d[i] = a[i] * s
			}
		},
		sv: func(d []T, s T, b []T) {
			b = b[:len(d)]
			for i := range d {
				d[i] = s * b[i]
			}
		},
	}
}

// ewDiv divides; integer division truncates toward zero as in C++ (the
// divisors are checked for zero before).
func ewDiv[T ewNum]() ewVec[T, T] {
	return ewVec[T, T]{
		vv: func(d, a, b []T) {
			a, b = a[:len(d)], b[:len(d)]
			for i := range d {
				d[i] = a[i] / b[i]
			}
		},
		vs: func(d, a []T, s T) {
			a = a[:len(d)]
			for i := range d {
				d[i] = a[i] / s
			}
		},
		sv: func(d []T, s T, b []T) {
			b = b[:len(d)]
			for i := range d {
				d[i] = s / b[i]
			}
		},
	}
}

// ewMax and ewMin follow TensorFlow Lite's `a > b ? a : b` and
// `a < b ? a : b` (a NaN in a yields b).
func ewMax[T ewNum]() ewVec[T, T] {
	return ewVec[T, T]{
		vv: func(d, a, b []T) {
			a, b = a[:len(d)], b[:len(d)]
			for i := range d {
				if x, y := a[i], b[i]; x > y {
					d[i] = x
				} else {
					d[i] = y
				}
			}
		},
		vs: func(d, a []T, s T) {
			a = a[:len(d)]
			for i := range d {
				if x := a[i]; x > s {
					d[i] = x
				} else {
					d[i] = s
				}
			}
		},
		sv: func(d []T, s T, b []T) {
			b = b[:len(d)]
			for i := range d {
				if y := b[i]; s > y {
					d[i] = s
				} else {
					d[i] = y
				}
			}
		},
	}
}

func ewMin[T ewNum]() ewVec[T, T] {
	return ewVec[T, T]{
		vv: func(d, a, b []T) {
			a, b = a[:len(d)], b[:len(d)]
			for i := range d {
				if x, y := a[i], b[i]; x < y {
					d[i] = x
				} else {
					d[i] = y
				}
			}
		},
		vs: func(d, a []T, s T) {
			a = a[:len(d)]
			for i := range d {
				if x := a[i]; x < s {
					d[i] = x
				} else {
					d[i] = s
				}
			}
		},
		sv: func(d []T, s T, b []T) {
			b = b[:len(d)]
			for i := range d {
				if y := b[i]; s < y {
					d[i] = s
				} else {
					d[i] = y
				}
			}
		},
	}
}

func ewSquaredDiff[T ewNum](a, b T) T {
	d := a - b
	return d * d
}

func ewPowF32(a, b float32) float32 { return float32(math.Pow(float64(a), float64(b))) }

// ewPowInt raises to a non-negative integer power (checked before), as
// TensorFlow Lite's std::pow on int32 values does for in-range results.
func ewPowInt[T ~int32 | ~int64](a, b T) T {
	r := T(1)
	for b > 0 {
		if b&1 != 0 {
			r *= a
		}
		a *= a
		b >>= 1
	}
	return r
}

// ewFloorDivF32 is floor(a / b) computed in double precision, as
// TensorFlow Lite does.
func ewFloorDivF32(a, b float32) float32 {
	return float32(math.Floor(float64(a) / float64(b)))
}

func ewFloorDivI32(a, b int32) int32 {
	return int32(math.Floor(float64(a) / float64(b)))
}

func ewFloorDivI64(a, b int64) int64 {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}

// ewFloorModF32: the truncated remainder moved to the divisor's sign.
func ewFloorModF32(a, b float32) float32 {
	m := float32(math.Mod(float64(a), float64(b)))
	if m != 0 && (b < 0) != (m < 0) {
		m += b
	}
	return m
}

func ewFloorModInt[T ~int32 | ~int64](a, b T) T {
	m := a % b
	if m != 0 && (b < 0) != (m < 0) {
		m += b
	}
	return m
}

// ewPReluVec is PRELU's `x >= 0 ? x : x * alpha`, alpha broadcast.
func ewPReluVec() ewVec[float32, float32] {
	return ewVec[float32, float32]{
		vv: func(d, x, al []float32) {
			x, al = x[:len(d)], al[:len(d)]
			for i := range d {
				if v := x[i]; v >= 0 {
					d[i] = v
				} else {
					d[i] = v * al[i]
				}
			}
		},
		vs: func(d, x []float32, al float32) {
			x = x[:len(d)]
			for i := range d {
				if v := x[i]; v >= 0 {
					d[i] = v
				} else {
					d[i] = v * al
				}
			}
		},
		sv: func(d []float32, v float32, al []float32) {
			al = al[:len(d)]
			for i := range d {
				if v >= 0 {
					d[i] = v
				} else {
					d[i] = v * al[i]
				}
			}
		},
	}
}

// ewNonZero reports an error when a divisor tensor of an integer type holds
// a zero (float divisors are checked only when floats is set).
func ewNonZero(floats bool) func(a, b *Tensor) error {
	return func(_, b *Tensor) error {
		zero := false
		switch b.Type {
		case fb.TensorTypeINT32:
			for _, v := range b.I32() {
				zero = zero || v == 0
			}
		case fb.TensorTypeINT64:
			for _, v := range b.I64() {
				zero = zero || v == 0
			}
		case fb.TensorTypeFLOAT32:
			if floats {
				for _, v := range b.F32() {
					zero = zero || v == 0
				}
			}
		}
		if zero {
			return errors.New("division by zero")
		}
		return nil
	}
}

// ewNonNegative rejects negative int32/int64 exponents (POW).
func ewNonNegative(_, b *Tensor) error {
	neg := false
	switch b.Type {
	case fb.TensorTypeINT32:
		for _, v := range b.I32() {
			neg = neg || v < 0
		}
	case fb.TensorTypeINT64:
		for _, v := range b.I64() {
			neg = neg || v < 0
		}
	}
	if neg {
		return errors.New("negative integer exponent")
	}
	return nil
}

const (
	ewF32 = fb.TensorTypeFLOAT32
	ewI32 = fb.TensorTypeINT32
	ewI64 = fb.TensorTypeINT64
	ewI8  = fb.TensorTypeINT8
	ewU8  = fb.TensorTypeUINT8
	ewI16 = fb.TensorTypeINT16
)

func init() {
	arith := func(f32 ewVec[float32, float32], i32 ewVec[int32, int32], i64 ewVec[int64, int64]) map[fb.TensorType]ewBinFn {
		return map[fb.TensorType]ewBinFn{ewF32: ewArith(f32), ewI32: ewArith(i32), ewI64: ewArith(i64)}
	}
	register(fb.BuiltinOperatorADD, (&ewBinary{fns: arith(ewAdd[float32](), ewAdd[int32](), ewAdd[int64]())}).kernel())
	register(fb.BuiltinOperatorSUB, (&ewBinary{fns: arith(ewSub[float32](), ewSub[int32](), ewSub[int64]())}).kernel())
	register(fb.BuiltinOperatorMUL, (&ewBinary{fns: arith(ewMul[float32](), ewMul[int32](), ewMul[int64]())}).kernel())
	register(fb.BuiltinOperatorDIV, (&ewBinary{fns: arith(ewDiv[float32](), ewDiv[int32](), ewDiv[int64]()),
		check: ewNonZero(false)}).kernel())

	register(fb.BuiltinOperatorMAXIMUM, (&ewBinary{fns: map[fb.TensorType]ewBinFn{
		ewF32: ewPlain(ewMax[float32]()), ewI32: ewPlain(ewMax[int32]()), ewI64: ewPlain(ewMax[int64]()),
		ewI8: ewPlain(ewMax[int8]()), ewU8: ewPlain(ewMax[uint8]()), ewI16: ewPlain(ewMax[int16]()),
	}}).kernel())
	register(fb.BuiltinOperatorMINIMUM, (&ewBinary{fns: map[fb.TensorType]ewBinFn{
		ewF32: ewPlain(ewMin[float32]()), ewI32: ewPlain(ewMin[int32]()), ewI64: ewPlain(ewMin[int64]()),
		ewI8: ewPlain(ewMin[int8]()), ewU8: ewPlain(ewMin[uint8]()), ewI16: ewPlain(ewMin[int16]()),
	}}).kernel())
	register(fb.BuiltinOperatorSQUARED_DIFFERENCE, (&ewBinary{fns: map[fb.TensorType]ewBinFn{
		ewF32: ewPlain(ewVecOf(ewSquaredDiff[float32])),
		ewI32: ewPlain(ewVecOf(ewSquaredDiff[int32])),
		ewI64: ewPlain(ewVecOf(ewSquaredDiff[int64])),
	}}).kernel())
	register(fb.BuiltinOperatorPOW, (&ewBinary{fns: map[fb.TensorType]ewBinFn{
		ewF32: ewPlain(ewVecOf(ewPowF32)),
		ewI32: ewPlain(ewVecOf(ewPowInt[int32])),
		ewI64: ewPlain(ewVecOf(ewPowInt[int64])),
	}, check: ewNonNegative}).kernel())
	register(fb.BuiltinOperatorFLOOR_DIV, (&ewBinary{fns: map[fb.TensorType]ewBinFn{
		ewF32: ewPlain(ewVecOf(ewFloorDivF32)),
		ewI32: ewPlain(ewVecOf(ewFloorDivI32)),
		ewI64: ewPlain(ewVecOf(ewFloorDivI64)),
	}, check: ewNonZero(true)}).kernel())
	register(fb.BuiltinOperatorFLOOR_MOD, (&ewBinary{fns: map[fb.TensorType]ewBinFn{
		ewF32: ewPlain(ewVecOf(ewFloorModF32)),
		ewI32: ewPlain(ewVecOf(ewFloorModInt[int32])),
		ewI64: ewPlain(ewVecOf(ewFloorModInt[int64])),
	}, check: ewNonZero(false)}).kernel())
	register(fb.BuiltinOperatorPRELU, (&ewBinary{fns: map[fb.TensorType]ewBinFn{
		ewF32: ewPlain(ewPReluVec()),
	}}).kernel())
}
