package interp

import (
	"fmt"

	fb "litequant/core/schema/tflitefb"
)

// Integer FULLY_CONNECTED (int8, uint8, int16x8; see kernels_int_common.go
// for the operand families and the output stage): each input row, widened
// to int32 with its offset, times every unit's widened weights. Constant
// weights are widened once in prepare, others on every call.

func init() {
	register(fb.BuiltinOperatorFULLY_CONNECTED, &kernel{match: icMatch, prepare: prepareIntFC, eval: evalIntFC})
}

type icFCState struct {
	opts  *fb.FullyConnectedOptionsT
	w     []int32 // constant weights with their offset
	bias  []int64
	stage *icStage
	inOff int32

	// The current evaluation.
	x, wCur []int32
	res     [][]int32 // per part: one row of results
	out     *Tensor
	depth   int
	units   int
	par     parJob
}

func (s *icFCState) job() *parJob { return &s.par }

func prepareIntFC(n *node) error {
	o, err := fcOptions(n)
	if err != nil {
		return err
	}
	in, w, bias, out := n.inputs[0], n.inputs[1], n.input(2), n.outputs[0]
	if err := icOperands(in, w, bias, out); err != nil {
		return err
	}
	if err := cvCheckRank(w, "weights", 2); err != nil {
		return err
	}
	if bias != nil && !bias.IsConst() {
		return unsupportedf("integer FULLY_CONNECTED with a non-constant bias")
	}
	units := w.Shape[0]
	s := &icFCState{opts: o, inOff: -icZeroPoint(in)}
	if s.bias, err = icBias(bias, units); err != nil {
		return err
	}
	if s.stage, err = newICStage(in, w, out, units, o.FusedActivationFunction, icDelegated(n, in, w, bias, o.FusedActivationFunction), true); err != nil {
		return err
	}
	if in.Type == fb.TensorTypeINT16 && (bias == nil || bias.Type == fb.TensorTypeINT32) &&
		icZeroPoint(in) == 0 && icZeroPoint(out) == 0 && allZero(w.ZeroPoint) {
		// TensorFlow Lite takes its optimized kernel here (only an int64
		// bias or a zero point keeps the reference one): int32
		// accumulators and the 32-bit multiplier.
		s.stage.wide = false
		s.stage.single = true // ruy
	}
	switch in.Type {
	case fb.TensorTypeINT8:
		s.stage.single = true // ruy (XNNPACK when delegated)
	case fb.TensorTypeUINT8:
		s.stage.single = bias == nil && w.IsConst()
	}
	if w.IsConst() {
		if s.w, err = icWeights(w, 0); err != nil {
			return err
		}
	}
	n.state = s
	return nil
}

func evalIntFC(n *node) error {
	s := n.state.(*icFCState)
	in, w := n.inputs[0], n.inputs[1]
	if err := cvCheckRank(w, "weights", 2); err != nil {
		return err
	}
	units, depth := w.Shape[0], w.Shape[1]
	elems := in.NumElements()
	if depth <= 0 || elems%depth != 0 {
		return fmt.Errorf("input shape %v does not split in rows of %d (weights %v)", in.Shape, depth, w.Shape)
	}
	batch := elems / depth
	shape := []int{batch, units}
	if s.opts.KeepNumDims {
		r := len(in.Shape)
		if r == 0 || in.Shape[r-1] != depth {
			return fmt.Errorf("keep_num_dims needs the input's last dimension (shape %v) to be the weights' depth %d", in.Shape, depth)
		}
		shape = append(append([]int{}, in.Shape[:r-1]...), units)
	}
	s.out = n.output(0, shape)
	if batch == 0 || units == 0 {
		return nil
	}
	s.wCur = s.w
	if s.wCur == nil {
		var err error
		if s.wCur, err = icWeights(w, 0); err != nil {
			return err
		}
	}
	s.x = view[int32](n.scratch(4 * elems))[:elems]
	icLoad(s.x, in, s.inOff)
	s.depth, s.units = depth, units
	threads := poolThreads()
	if len(s.res) != threads || len(s.res[0]) != units {
		s.res = make([][]int32, threads)
		for p := range s.res {
			s.res[p] = make([]int32, units)
		}
	}
	if parallelWorth(batch * units * depth) {
		parallelRows(s, batch, 1)
	} else {
		s.rows(0, 0, batch)
	}
	s.x, s.out = nil, nil
	if s.w == nil {
		s.wCur = nil
	}
	return nil
}

// rows computes output rows [r0, r1).
func (s *icFCState) rows(part, r0, r1 int) {
	res := s.res[part]
	for r := r0; r < r1; r++ {
		x := s.x[r*s.depth : (r+1)*s.depth]
		for u := range res {
			res[u] = s.stage.dot(x, s.wCur[u*s.depth:(u+1)*s.depth], s.bias, u)
		}
		icStore(s.out, r*s.units, res)
	}
}

func allZero(v []int64) bool {
	for _, x := range v {
		if x != 0 {
			return false
		}
	}
	return true
}
