package interp

import (
	"fmt"

	fb "litequant/core/schema/tflitefb"
	"litequant/core/tflite"
)

// Hybrid (dynamic-range) RNN and UNIDIRECTIONAL_SEQUENCE_RNN: float32
// input, hidden state and output, INT8 input and recurrent weights (one
// scale each), a float32 bias — TensorFlow Lite's RnnBatchStep for hybrid
// weights. Inputs: input ([batch, in]; [batch, time, in] or, time-major,
// [time, batch, in] for the sequence), input weights [units, in],
// recurrent weights [units, units], bias [units] (required, as by the
// runtime), hidden state [batch,
// units] (a variable tensor, carried over calls). Per step and batch row:
// out = bias; the input row and the hidden state row are each quantized as
// the hybrid FULLY_CONNECTED quantizes its input (hybrid.go) and add
// float(Σ w·q − zp·Σ w) × (row scale × weight scale); then the fused
// activation (NONE leaves the sum), and out becomes the hidden state.
//
// No float RNN kernel exists in this package: float models with RNNs are
// refused by name.

func init() {
	register(fb.BuiltinOperatorRNN, &kernel{match: hrnnMatch, prepare: prepareHybridRNN, eval: evalHybridRNN})
	register(fb.BuiltinOperatorUNIDIRECTIONAL_SEQUENCE_RNN, &kernel{match: hrnnMatch, prepare: prepareHybridRNN, eval: evalHybridRNN})
}

func hrnnMatch(n *node) bool { return isF32(n.input(0)) && isI8(n.input(1)) }

type hrnnState struct {
	seq, timeMajor, asym bool
	units, nIn           int
	w, r                 *hlstmMat
	bias                 []float32
	act                  func(float32) float32
	q                    []int8 // one quantized row
}

func prepareHybridRNN(n *node) error {
	if len(n.inputs) < 5 || len(n.outputs) != 1 {
		return fmt.Errorf("has %d inputs and %d outputs, want 5 and 1", len(n.inputs), len(n.outputs))
	}
	s := &hrnnState{seq: n.code == fb.BuiltinOperatorUNIDIRECTIONAL_SEQUENCE_RNN}
	act := fb.ActivationFunctionTypeNONE
	switch o := n.opts.(type) {
	case *fb.RNNOptionsT:
		if o != nil {
			act, s.asym = o.FusedActivationFunction, o.AsymmetricQuantizeInputs
		}
	case *fb.SequenceRNNOptionsT:
		if o != nil {
			act, s.asym, s.timeMajor = o.FusedActivationFunction, o.AsymmetricQuantizeInputs, o.TimeMajor
		}
	}
	var err error
	if s.act, err = lstmActivation(act); err != nil {
		return err
	}
	w, r, h := n.input(1), n.input(2), n.input(4)
	if r == nil || h == nil || len(w.Shape) != 2 {
		return fmt.Errorf("needs input weights of rank 2, recurrent weights and a hidden state")
	}
	s.units, s.nIn = w.Shape[0], w.Shape[1]
	if s.w, err = newHLSTMMat(w, s.units, s.nIn, "input weights"); err != nil {
		return err
	}
	if s.r, err = newHLSTMMat(r, s.units, s.units, "recurrent weights"); err != nil {
		return err
	}
	b := n.input(3)
	if b == nil {
		return fmt.Errorf("the bias (input 3) is missing (the runtime requires it)")
	}
	if !isF32(b) || !b.IsConst() || b.NumElements() != s.units {
		return unsupportedf("bias must be a constant FLOAT32 vector of %d (has %s %v)", s.units, tflite.TypeName(b.Type), b.Shape)
	}
	s.bias = b.F32()
	if !isF32(h) || !isF32(n.outputs[0]) {
		return unsupportedf("hidden state and output must be FLOAT32")
	}
	s.q = make([]int8, max(s.nIn, s.units))
	n.state = s
	return nil
}

func evalHybridRNN(n *node) error {
	s := n.state.(*hrnnState)
	x, h := n.inputs[0], n.inputs[4]
	batch, steps := 0, 1
	switch {
	case !s.seq && len(x.Shape) == 2 && x.Shape[1] == s.nIn:
		batch = x.Shape[0]
	case s.seq && len(x.Shape) == 3 && x.Shape[2] == s.nIn:
		batch, steps = x.Shape[0], x.Shape[1]
		if s.timeMajor {
			batch, steps = steps, batch
		}
	default:
		return fmt.Errorf("input shape %v, want rank %d with %d features", x.Shape, 2+btoi(s.seq), s.nIn)
	}
	u := s.units
	if h.NumElements() != batch*u {
		return fmt.Errorf("hidden state %v does not hold %d rows of %d", h.Shape, batch, u)
	}
	shape := []int{batch, u}
	if s.seq {
		shape = append([]int{x.Shape[0], x.Shape[1]}, u)
	}
	out := n.output(0, shape)
	xv, hv, ov := x.F32(), h.F32(), out.F32()
	q := s.q
	for t := range steps {
		for b := range batch {
			row := b*steps + t
			if s.timeMajor {
				row = t*batch + b
			}
			o := ov[row*u : (row+1)*u]
			hb := hv[b*u : (b+1)*u]
			copy(o, s.bias)
			sc, zp := hybridQuantizeRow(q[:s.nIn], xv[row*s.nIn:(row+1)*s.nIn], s.asym)
			s.w.accumulate(o, q[:s.nIn], sc, zp)
			sc, zp = hybridQuantizeRow(q[:u], hb, s.asym)
			s.r.accumulate(o, q[:u], sc, zp)
			for i, v := range o {
				o[i] = s.act(v)
			}
			copy(hb, o)
		}
	}
	return nil
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}
