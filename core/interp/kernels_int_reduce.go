package interp

import (
	"errors"
	"math"

	fb "litequant/core/schema/tflitefb"
)

// Integer MEAN and SUM on int8, uint8 and int16 tensors (REDUCE_MAX and
// REDUCE_MIN pick stored integers and are run by the default kernels of
// kernels_reduce.go, which require equal input and output parameters as the
// runtime does). The axes, keep_dims and the order of the sums are the
// float kernels' (redPlan); every input element is summed as an int32 (the
// order does not matter to integers), then each sum is rescaled by the path
// the runtime takes (reduce.cc, its MEAN registered without NEON as the
// reference kernel):
//
//   - MEAN of int8 or uint8 over axes exactly {1, 2} of a 4-D tensor (as
//     given, either order, keep_dims or not) while the XNNPACK delegate
//     runs (see kernels_int_xnn.go: a ratio of input to output scale
//     outside [2^-8, 2^8) turns it off for the model): its global average
//     pooling (sum minus count × zero point, times input scale / (output
//     scale × count) in float32, rounded half to even);
//   - otherwise MEAN of int8 or uint8 over those axes with keep_dims: the
//     raw sum times input scale / (count × output scale) in fixed point
//     plus a bias computed in float (reference_ops::Mean); int16 has no
//     such special case in the runtime (measured: it takes the two below);
//   - MEAN with equal input and output parameters: the raw sum divided by
//     the count, truncated;
//   - other MEAN: in float32, round(sum / count × ratio - zero point ×
//     ratio) + output zero point, clamped;
//   - SUM with equal parameters: the raw sum, wrapped to the type;
//   - SUM of int8 or uint8 with other parameters: in float32,
//     round(sum × ratio - zero point × ratio × count) + output zero point,
//     wrapped to the type (TensorFlow Lite does not clamp it).

type qRedPath int

const (
	qRedXNNGlobal qRedPath = iota
	qRedMean4D
	qRedMeanSame
	qRedMeanFloat
	qRedSumSame
	qRedSumFloat
)

type qRedState struct {
	red  redState
	sums []int32
	mean bool
	qi   tensorQ
	qo   tensorQ
}

func init() {
	register(fb.BuiltinOperatorMEAN, &kernel{match: qMatchInput0, prepare: prepareQReduce, eval: evalQReduce(true)})
	register(fb.BuiltinOperatorSUM, &kernel{match: qMatchInput0, prepare: prepareQReduce, eval: evalQReduce(false)})
}

func prepareQReduce(n *node) error {
	in, axis := n.input(0), n.input(1)
	if in == nil || axis == nil || len(n.outputs) != 1 {
		return errors.New("needs an input, an axis tensor and one output")
	}
	if err := qSameTypes(in.Type, n.outputs[0]); err != nil {
		return err
	}
	qi, err := tensorQOf(in, "input")
	if err != nil {
		return err
	}
	qo, err := tensorQOf(n.outputs[0], "output")
	if err != nil {
		return err
	}
	if in.Type == fb.TensorTypeINT16 && (qi.zp != 0 || qo.zp != 0) {
		return unsupportedf("int16 reduction with zero points %d and %d (the runtime requires 0)", qi.zp, qo.zp)
	}
	n.state = &qRedState{qi: qi, qo: qo}
	return nil
}

// qRedAxes returns the axis values as given (not normalized): the runtime's
// special cases test them so.
func qRedAxes(axis *Tensor) []int {
	v, err := axis.ints()
	if err != nil {
		return nil
	}
	return v
}

// qRedSpatial reports whether a 4-D input is reduced over axes exactly 1
// and 2 (two values, either order), which selects the runtime's special
// MEAN kernels.
func qRedSpatial(in, axis *Tensor) bool {
	a := qRedAxes(axis)
	return len(in.Shape) == 4 && len(a) == 2 && (a[0] == 1 && a[1] == 2 || a[0] == 2 && a[1] == 1)
}

func (s *qRedState) path(n *node, mean bool) (qRedPath, error) {
	in := n.inputs[0]
	same := s.qi == s.qo
	keep := false
	if o, ok := n.opts.(*fb.ReducerOptionsT); ok && o != nil {
		keep = o.KeepDims
	}
	eight := in.Type == fb.TensorTypeINT8 || in.Type == fb.TensorTypeUINT8
	if !mean {
		switch {
		case same:
			return qRedSumSame, nil
		case eight:
			return qRedSumFloat, nil
		}
		return 0, unsupportedf("int16 SUM with input and output parameters that differ (the runtime requires them equal)")
	}
	spatial := eight && qRedSpatial(in, n.inputs[1])
	if spatial && !xnnOff(n.it) { // xnnOff covers the ratios XNNPACK refuses
		return qRedXNNGlobal, nil
	}
	switch {
	case spatial && keep:
		return qRedMean4D, nil
	case same:
		return qRedMeanSame, nil
	}
	return qRedMeanFloat, nil
}

func evalQReduce(mean bool) func(n *node) error {
	return func(n *node) error {
		s := n.state.(*qRedState)
		p, out, count, err := redPlan(n, &s.red)
		if err != nil {
			return err
		}
		in := n.inputs[0]
		path, err := s.path(n, mean)
		if err != nil {
			return err
		}
		size := out.NumElements()
		if cap(s.sums) < size {
			s.sums = make([]int32, size)
		}
		sums := s.sums[:size]
		clear(sums)
		switch in.Type {
		case fb.TensorTypeINT8:
			redRun(p, redSum, sums, in.I8())
		case fb.TensorTypeUINT8:
			redRun(p, redSum, sums, in.U8())
		default:
			redRun(p, redSum, sums, in.I16())
		}
		if count == 0 {
			// The runtime fills an empty MEAN with NaN cast to the type
			// and an empty SUM with 0; neither is worth imitating.
			return unsupportedf("reduction of %v over an empty axis", in)
		}
		f := s.rescale(path, in.Type, int32(count))
		switch in.Type {
		case fb.TensorTypeINT8:
			qRedStore(out.I8(), sums, f)
		case fb.TensorTypeUINT8:
			qRedStore(out.U8(), sums, f)
		default:
			qRedStore(out.I16(), sums, f)
		}
		return nil
	}
}

func qRedStore[T int8 | uint8 | int16](d []T, sums []int32, f func(int32) int32) {
	for i, v := range sums {
		d[i] = T(f(v))
	}
}

// rescale returns the function from a sum of count stored inputs to the
// stored output on path.
func (s *qRedState) rescale(path qRedPath, typ fb.TensorType, count int32) func(int32) int32 {
	lo, hi := qTypeRange(typ)
	qi, qo := s.qi, s.qo
	clamp := func(v int32) int32 { return min(max(v, lo), hi) }
	switch path {
	case qRedXNNGlobal:
		rq := newXNNFP32Requant(qi.scale/float32(qo.scale*float32(count)), typ, qo.zp, lo, hi)
		bias := -count * qi.zp
		return func(sum int32) int32 { return rq.apply(sum + bias) }
	case qRedMean4D:
		// The raw sum times input scale / (count × output scale) in fixed
		// point, plus output zero point - input zero point × input scale /
		// output scale computed in float and truncated. (TensorFlow Lite's
		// later int8 kernel offsets the inputs, multiplies by the scale
		// ratio and divides by the count rounding half away from zero; the
		// runtime does not: measured, that differs by one unit on 4 of 64
		// means of 2×3 windows at ratio 1/300.)
		bias := qo.zp - int32(float32(float32(qi.zp)*qi.scale)/qo.scale)
		m, sh := qMultiplier(float64(qi.scale / float32(float32(count)*qo.scale)))
		return func(sum int32) int32 { return clamp(qMulByMultiplier(sum, m, sh) + bias) }
	case qRedMeanSame:
		return func(sum int32) int32 { return sum / count }
	case qRedMeanFloat:
		scale := qi.scale / qo.scale
		bias := float32(-qi.zp) * scale
		return func(sum int32) int32 {
			mean := float32(sum) / float32(count)
			r := float32(math.Round(float64(float32(mean*scale) + bias)))
			r = min(max(r+float32(qo.zp), float32(lo)), float32(hi))
			return int32(r)
		}
	case qRedSumSame:
		return func(sum int32) int32 { return sum } // wrapped by the store
	}
	scale := qi.scale / qo.scale
	bias := float32(float32(-qi.zp)*scale) * float32(count)
	return func(sum int32) int32 {
		return int32(math.Round(float64(float32(float32(sum)*scale)+bias))) + qo.zp
	}
}
