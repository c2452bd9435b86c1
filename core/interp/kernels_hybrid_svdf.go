package interp

import (
	"fmt"

	fb "litequant/core/schema/tflitefb"
	"litequant/core/tflite"
)

// Hybrid (dynamic-range) SVDF: float32 input [batch, in], INT8 feature
// weights [filters, in] and time weights [filters, memory] (one scale
// each), an optional float32 bias [units] (units = filters / rank), a
// float32 activation state [batch, memory·filters] (a variable tensor) —
// TensorFlow Lite's EvalHybridSVDF. Per call: the whole state shifts left
// by one element; the input rows, quantized as the hybrid FULLY_CONNECTED
// quantizes its input (hybrid.go), times the feature weights give each
// filter's newest state entry, float(Σ w·q − zp·Σ w) × (row scale ×
// weight scale); each filter's memory dotted (in float32, in order) with
// its time weights dequantized once (weight × scale); output = bias plus
// the sum of each unit's rank filters, then the fused activation.
//
// No float SVDF kernel exists in this package.

func init() {
	register(fb.BuiltinOperatorSVDF, &kernel{match: hsvdfMatch, prepare: prepareHybridSVDF, eval: evalHybridSVDF})
}

func hsvdfMatch(n *node) bool { return isF32(n.input(0)) && isI8(n.input(1)) }

type hsvdfState struct {
	rank, filters, memory, units, nIn int
	asym                              bool
	feat                              *hlstmMat
	timeW                             []float32
	bias                              []float32
	act                               func(float32) float32
	q                                 []int8    // one quantized row
	scratch                           []float32 // one row's filter values
}

func prepareHybridSVDF(n *node) error {
	if len(n.inputs) < 5 || len(n.outputs) != 1 {
		return fmt.Errorf("has %d inputs and %d outputs, want 5 and 1", len(n.inputs), len(n.outputs))
	}
	o, _ := n.opts.(*fb.SVDFOptionsT)
	if o == nil || o.Rank <= 0 {
		return fmt.Errorf("needs SVDF options with a positive rank")
	}
	act, err := lstmActivation(o.FusedActivationFunction)
	if err != nil {
		return err
	}
	wf, wt, st := n.input(1), n.input(2), n.input(4)
	if wt == nil || st == nil || len(wf.Shape) != 2 || len(wt.Shape) != 2 {
		return fmt.Errorf("needs feature and time weights of rank 2 and an activation state")
	}
	s := &hsvdfState{rank: int(o.Rank), asym: o.AsymmetricQuantizeInputs, act: act,
		filters: wf.Shape[0], nIn: wf.Shape[1], memory: wt.Shape[1]}
	if wt.Shape[0] != s.filters || s.filters%s.rank != 0 {
		return fmt.Errorf("time weights %v and feature weights %v with rank %d do not match", wt.Shape, wf.Shape, s.rank)
	}
	s.units = s.filters / s.rank
	if s.feat, err = newHLSTMMat(wf, s.filters, s.nIn, "feature weights"); err != nil {
		return err
	}
	tm, err := newHLSTMMat(wt, s.filters, s.memory, "time weights")
	if err != nil {
		return err
	}
	s.timeW = make([]float32, len(tm.w))
	for i, v := range tm.w {
		s.timeW[i] = float32(v) * tm.scale
	}
	if b := n.input(3); b != nil {
		if !isF32(b) || !b.IsConst() || b.NumElements() != s.units {
			return unsupportedf("bias must be a constant FLOAT32 vector of %d (has %s %v)", s.units, tflite.TypeName(b.Type), b.Shape)
		}
		s.bias = b.F32()
	}
	if !isF32(st) || !isF32(n.outputs[0]) {
		return unsupportedf("activation state and output must be FLOAT32")
	}
	s.q, s.scratch = make([]int8, s.nIn), make([]float32, s.filters)
	n.state = s
	return nil
}

func evalHybridSVDF(n *node) error {
	s := n.state.(*hsvdfState)
	x, st := n.inputs[0], n.inputs[4]
	if len(x.Shape) != 2 || x.Shape[1] != s.nIn {
		return fmt.Errorf("input shape %v, want [batch %d]", x.Shape, s.nIn)
	}
	batch := x.Shape[0]
	f, m := s.filters, s.memory
	if st.NumElements() != batch*f*m {
		return fmt.Errorf("activation state %v does not hold %d rows of %d", st.Shape, batch, f*m)
	}
	out := n.output(0, []int{batch, s.units})
	xv, sv, ov := x.F32(), st.F32(), out.F32()
	if len(sv) > 0 {
		copy(sv, sv[1:])
	}
	q, scratch := s.q, s.scratch
	for b := range batch {
		clear(scratch)
		sc, zp := hybridQuantizeRow(q, xv[b*s.nIn:(b+1)*s.nIn], s.asym)
		s.feat.accumulate(scratch, q, sc, zp)
		sb := sv[b*f*m : (b+1)*f*m]
		for i, v := range scratch {
			sb[i*m+m-1] = v
		}
		for i := range scratch {
			var dot float32
			for k, w := range s.timeW[i*m : (i+1)*m] {
				dot += w * sb[i*m+k]
			}
			scratch[i] = dot
		}
		o := ov[b*s.units : (b+1)*s.units]
		if s.bias != nil {
			copy(o, s.bias)
		} else {
			clear(o)
		}
		for u := range o {
			for r := range s.rank {
				o[u] += scratch[u*s.rank+r]
			}
		}
		for i, v := range o {
			o[i] = s.act(v)
		}
	}
	return nil
}
