package interp

import (
	"fmt"
	"math"
	"slices"

	fb "litequant/core/schema/tflitefb"
	"litequant/core/tflite"
)

// UNIDIRECTIONAL_SEQUENCE_LSTM with int8 activations and weights, int16
// cell state and int32 biases: TensorFlow Lite's "8x8_16" integer LSTM
// (lstm_eval.cc EvalInteger8x8_16, scales from Prepare's
// PopulateQuantizedLstmParams8x8_16). Per step and batch row:
//
//   - each gate: (x - x_zp)·W + bias, requantized (MultiplyByQuantizedMultiplier,
//     double rounding) to the gate's int16 scale 2^-12 and saturated, plus
//     (h - h_zp)·R requantized the same way, added and saturated again;
//   - input, forget and output gates: gemmlowp's fixed-point logistic of
//     the Q3.12 value (a Q0.15 result); cell gate: its tanh (TANH is the
//     only cell activation the integer kernel takes);
//   - c = f·c >> 15 + i·g >> (30 + log2 c_scale) (rounding shifts), the sum
//     saturated to int16, clipped to ±cell_clip/c_scale;
//   - h = o · tanh(c) (tanh of c read with 15 + log2 c_scale integer bits),
//     requantized by 2^-30/hidden_scale to int8 with the hidden
//     intermediate's zero point subtracted (sic, as the runtime does) and
//     saturated; without projection h is the step's output and the next
//     step's state;
//   - with projection, the output state is (h + hidden zp)·P + bias,
//     requantized by P's scale × hidden scale / output-state scale plus
//     the output state's zero point, saturated to int8 and clipped to
//     ±proj_clip/output-state scale.
//
// The effective scales are float32 products and quotients, as the runtime
// computes them. Supported: with or without CIFG and projection; not yet:
// peephole, layer normalization, and an output state with a non-zero zero
// point over more than one batch row (refused by name: measured, the
// runtime then differs from this arithmetic on the rows after the first,
// by up to 56 steps, in either layout, while a single row matches).

func init() {
	register(fb.BuiltinOperatorUNIDIRECTIONAL_SEQUENCE_LSTM, &kernel{match: ilstmMatch, prepare: prepareILSTM, eval: evalILSTM})
}

func ilstmMatch(n *node) bool {
	in, w := n.input(lstmInput), n.input(lstmInW+lstmGateOutput)
	return in != nil && in.Type == fb.TensorTypeINT8 && w != nil && w.Type == fb.TensorTypeINT8
}

// ilstmGate is one gate's integer parameters.
type ilstmGate struct {
	wIn, wRec       []int8
	biasIn, biasRec []int32 // bias and zero-point corrections of the two products
	mIn, mRec       int32
	sIn, sRec       int
}

type ilstmState struct {
	opts             *fb.UnidirectionalSequenceLSTMOptionsT
	nIn, nCell, nOut int
	gates            [4]*ilstmGate // nil input gate under CIFG
	cellLog2         int
	cellClip         int32 // 0: none
	hidM             int32
	hidS             int
	hidZP            int32
	inZP, outZP      int32
	buf              []int32 // the four gates of one step
	hid              []int8  // h of one step, before projection
	proj             []int8  // projection weights [nOut, nCell], or nil
	projBias         []int32 // bias + hidden zp × row sums
	projM            int32
	projS            int
	projClip         int32 // 0: none
}

func prepareILSTM(n *node) error {
	if len(n.inputs) < 20 || len(n.outputs) != 1 {
		return fmt.Errorf("has %d inputs and %d outputs, want 20 or 24 and 1", len(n.inputs), len(n.outputs))
	}
	o, _ := n.opts.(*fb.UnidirectionalSequenceLSTMOptionsT)
	if o == nil {
		o = &fb.UnidirectionalSequenceLSTMOptionsT{}
	}
	if o.DiagonalRecurrentTensors {
		return unsupportedf("diagonal recurrent weights")
	}
	if o.FusedActivationFunction != fb.ActivationFunctionTypeTANH {
		return unsupportedf("integer LSTM with cell activation %s (the runtime's integer kernel takes TANH)", o.FusedActivationFunction)
	}
	in := n.input
	for k := lstmPeephole; k < lstmPeephole+3; k++ {
		if in(k) != nil {
			return unsupportedf("integer LSTM with peephole weights")
		}
	}
	for k := lstmLayerNorm; k < lstmLayerNorm+4; k++ {
		if in(k) != nil {
			return unsupportedf("integer LSTM with layer normalization")
		}
	}
	x, out, hs, cs := in(lstmInput), n.outputs[0], in(lstmOutState), in(lstmCellState)
	if hs == nil || cs == nil {
		return fmt.Errorf("output state or cell state is missing")
	}
	if out.Type != fb.TensorTypeINT8 || hs.Type != fb.TensorTypeINT8 || cs.Type != fb.TensorTypeINT16 {
		return unsupportedf("integer LSTM with output %s, output state %s and cell state %s (want INT8, INT8, INT16)",
			tflite.TypeName(out.Type), tflite.TypeName(hs.Type), tflite.TypeName(cs.Type))
	}
	xq, err := tensorQOf(x, "input")
	if err != nil {
		return err
	}
	hq, err := tensorQOf(hs, "output state")
	if err != nil {
		return err
	}
	cq, err := tensorQOf(cs, "cell state")
	if err != nil {
		return err
	}
	s := &ilstmState{opts: o, inZP: xq.zp, outZP: hq.zp}
	n.state = s
	l, ok := iqLog2(cq.scale)
	if !ok || l > -9 {
		return unsupportedf("cell state scale %g (the integer LSTM needs a power of two at most 2^-9)", cq.scale)
	}
	s.cellLog2 = l
	wo, ro := in(lstmInW+lstmGateOutput), in(lstmRecW+lstmGateOutput)
	if len(wo.Shape) != 2 || len(ro.Shape) != 2 {
		return fmt.Errorf("weights must have rank 2, got %v and %v", wo.Shape, ro.Shape)
	}
	s.nCell, s.nIn, s.nOut = wo.Shape[0], wo.Shape[1], ro.Shape[1]
	s.buf, s.hid = make([]int32, 4*s.nCell), make([]int8, s.nCell)
	if err := s.checkBatch(x.Shape); err != nil {
		return err
	}
	if in(lstmProjW) == nil && s.nOut != s.nCell {
		return fmt.Errorf("without projection the output size %d must equal the cell size %d", s.nOut, s.nCell)
	}
	cifg := in(lstmInW+lstmGateInput) == nil
	const gateScale = 1.0 / 4096 // Q3.12 gates without layer norm
	for g := range 4 {
		if g == lstmGateInput && cifg {
			if in(lstmRecW) != nil || in(lstmBias) != nil {
				return fmt.Errorf("the input gate's weights and bias must be all present or all absent (CIFG)")
			}
			continue
		}
		gs, err := s.prepareGate(n, g, xq, hq, gateScale)
		if err != nil {
			return fmt.Errorf("gate %d: %w", g, err)
		}
		s.gates[g] = gs
	}
	if o.CellClip > 0 {
		s.cellClip = int32(min(max(o.CellClip/cq.scale, -32768), 32767))
	}
	if len(n.op.Intermediates) < 5 {
		return unsupportedf("integer LSTM without the 5 intermediate tensors that carry the hidden scale (has %d)", len(n.op.Intermediates))
	}
	hidden := n.it.tensors[n.op.Intermediates[4]]
	hidQ, err := tensorQOf(hidden, "hidden intermediate")
	if err != nil {
		return err
	}
	s.hidZP = hidQ.zp
	hidScale := float32(math.Pow(2, -15) / float64(hidQ.scale) * math.Pow(2, -15))
	s.hidM, s.hidS = qMultiplier(float64(hidScale))
	return s.prepareProjection(n, hq, hidQ)
}

// prepareProjection checks the optional projection weights (INT8 [out,
// cell], one scale, zero point 0) and bias (INT32 [out]) and computes the
// effective bias, multiplier and clip.
func (s *ilstmState) prepareProjection(n *node, hq, hidQ tensorQ) error {
	p, pb := n.input(lstmProjW), n.input(lstmProjB)
	if p == nil {
		if pb != nil {
			return fmt.Errorf("projection bias without projection weights")
		}
		return nil
	}
	if p.Type != fb.TensorTypeINT8 || !p.IsConst() || !slices.Equal(p.Shape, []int{s.nOut, s.nCell}) {
		return unsupportedf("projection weights %s %v (want constant INT8 [%d %d])", tflite.TypeName(p.Type), p.Shape, s.nOut, s.nCell)
	}
	pq, err := tensorQOf(p, "projection weights")
	if err != nil {
		return err
	}
	if pq.zp != 0 {
		return unsupportedf("projection weights with zero point %d (want 0)", pq.zp)
	}
	var bias []int32
	if pb != nil {
		if pb.Type != fb.TensorTypeINT32 || !pb.IsConst() || pb.NumElements() != s.nOut {
			return unsupportedf("projection bias %s %v (want constant INT32 [%d])", tflite.TypeName(pb.Type), pb.Shape, s.nOut)
		}
		bias = pb.I32()
	}
	s.proj = p.I8()
	s.projBias = make([]int32, s.nOut)
	for i := range s.projBias {
		var sum int32
		for _, v := range s.proj[i*s.nCell : (i+1)*s.nCell] {
			sum += int32(v)
		}
		s.projBias[i] = hidQ.zp * sum
		if bias != nil {
			s.projBias[i] += bias[i]
		}
	}
	s.projM, s.projS = qMultiplier(float64(pq.scale * hidQ.scale / hq.scale))
	if c := s.opts.ProjClip; c > 0 {
		s.projClip = int32(min(max(c/hq.scale, -128), 127))
	}
	return nil
}

// prepareGate checks gate g's weights and bias and computes its effective
// biases (bias minus input zero point × row sums) and multipliers.
func (s *ilstmState) prepareGate(n *node, g int, xq, hq tensorQ, gateScale float32) (*ilstmGate, error) {
	w, r, b := n.input(lstmInW+g), n.input(lstmRecW+g), n.input(lstmBias+g)
	if w == nil || r == nil || b == nil {
		return nil, fmt.Errorf("weights or bias missing")
	}
	if !w.IsConst() || !r.IsConst() || !b.IsConst() {
		return nil, unsupportedf("non-constant LSTM weights")
	}
	if w.Type != fb.TensorTypeINT8 || r.Type != fb.TensorTypeINT8 || b.Type != fb.TensorTypeINT32 {
		return nil, unsupportedf("weights %s and %s with bias %s (want INT8, INT8, INT32)", tflite.TypeName(w.Type), tflite.TypeName(r.Type), tflite.TypeName(b.Type))
	}
	if !slices.Equal(w.Shape, []int{s.nCell, s.nIn}) || !slices.Equal(r.Shape, []int{s.nCell, s.nOut}) || !slices.Equal(b.Shape, []int{s.nCell}) {
		return nil, fmt.Errorf("shapes %v, %v, %v, want [%d %d], [%d %d], [%d]", w.Shape, r.Shape, b.Shape, s.nCell, s.nIn, s.nCell, s.nOut, s.nCell)
	}
	wq, err := tensorQOf(w, "input weights")
	if err != nil {
		return nil, err
	}
	rq, err := tensorQOf(r, "recurrent weights")
	if err != nil {
		return nil, err
	}
	if wq.zp != 0 || rq.zp != 0 {
		return nil, unsupportedf("weights with zero points %d and %d (want 0)", wq.zp, rq.zp)
	}
	gs := &ilstmGate{wIn: w.I8(), wRec: r.I8()}
	gs.mIn, gs.sIn = qMultiplier(float64(wq.scale * xq.scale / gateScale))
	gs.mRec, gs.sRec = qMultiplier(float64(rq.scale * hq.scale / gateScale))
	rowSums := func(m []int8, cols int, zp int32, bias []int32) []int32 {
		out := make([]int32, s.nCell)
		for i := range out {
			var sum int32
			for _, v := range m[i*cols : (i+1)*cols] {
				sum += int32(v)
			}
			out[i] = -zp * sum
			if bias != nil {
				out[i] += bias[i]
			}
		}
		return out
	}
	gs.biasIn = rowSums(gs.wIn, s.nIn, xq.zp, b.I32())
	gs.biasRec = rowSums(gs.wRec, s.nOut, hq.zp, nil)
	return gs, nil
}

// ilstmAccumulate adds to gate (int16 values held in int32) the
// requantized product of the int8 vector v with the rows of w, plus bias,
// saturating to int16, as the runtime's MatrixBatchVectorMultiplyAccumulate.
func ilstmAccumulate(gate []int32, v []int8, w []int8, bias []int32, mult int32, shift int) {
	cols := len(v)
	for i := range gate {
		acc := bias[i]
		for j, wv := range w[i*cols : (i+1)*cols] {
			acc += int32(v[j]) * int32(wv)
		}
		acc = qMulByMultiplier(acc, mult, shift) + gate[i]
		gate[i] = min(max(acc, math.MinInt16), math.MaxInt16)
	}
}

func evalILSTM(n *node) error {
	s := n.state.(*ilstmState)
	in := n.input
	x := in(lstmInput)
	if len(x.Shape) != 3 || x.Shape[2] != s.nIn {
		return fmt.Errorf("input shape %v, want rank 3 with %d features", x.Shape, s.nIn)
	}
	batch, steps := x.Shape[0], x.Shape[1]
	if s.opts.TimeMajor {
		batch, steps = steps, batch
	}
	if err := s.checkBatch(x.Shape); err != nil {
		return err
	}
	hState, cState := in(lstmOutState), in(lstmCellState)
	nc, no := s.nCell, s.nOut
	if hState.NumElements() != batch*no || cState.NumElements() != batch*nc {
		return fmt.Errorf("states %v and %v do not hold %d batch rows of %d and %d values", hState.Shape, cState.Shape, batch, no, nc)
	}
	var out *Tensor
	if s.opts.TimeMajor {
		out = n.output(0, []int{steps, batch, no})
	} else {
		out = n.output(0, []int{batch, steps, no})
	}
	xv, h, c, ov := x.I8(), hState.I8(), cState.I16(), out.I8()
	var gates [4][]int32
	for g := range gates {
		gates[g] = s.buf[g*nc : (g+1)*nc]
	}
	cellBits := 15 + s.cellLog2 // integer bits of the cell state
	for t := range steps {
		for b := range batch {
			row := b*steps + t
			if s.opts.TimeMajor {
				row = t*batch + b
			}
			xb := xv[row*s.nIn : (row+1)*s.nIn]
			hb := h[b*no : (b+1)*no]
			cb := c[b*nc : (b+1)*nc]
			for g, gs := range s.gates {
				if gs == nil {
					continue
				}
				v := gates[g]
				clear(v)
				ilstmAccumulate(v, xb, gs.wIn, gs.biasIn, gs.mIn, gs.sIn)
				ilstmAccumulate(v, hb, gs.wRec, gs.biasRec, gs.mRec, gs.sRec)
				for i, a := range v {
					if g == lstmGateCell {
						v[i] = fp16.tanh(a, 3)
					} else {
						v[i] = fp16.logistic(a, 3)
					}
				}
			}
			fg, cg, og := gates[lstmGateForget], gates[lstmGateCell], gates[lstmGateOutput]
			for i := range cb {
				fc := rdbpot(fg[i]*int32(cb[i]), 15)
				var ic int32
				if s.gates[lstmGateInput] == nil {
					ic = rdbpot((math.MaxInt16-fg[i])*cg[i], 30+s.cellLog2)
				} else {
					ic = rdbpot(gates[lstmGateInput][i]*cg[i], 30+s.cellLog2)
				}
				sum := min(max(int32(int16(fc))+int32(int16(ic)), math.MinInt16), math.MaxInt16)
				if s.cellClip > 0 {
					sum = min(max(sum, -s.cellClip), s.cellClip)
				}
				cb[i] = int16(sum)
			}
			for i := range s.hid {
				th := fp16.tanh(int32(cb[i]), cellBits)
				v := qMulByMultiplier(og[i]*th, s.hidM, s.hidS) - s.hidZP
				s.hid[i] = int8(min(max(v, math.MinInt8), math.MaxInt8))
			}
			if s.proj == nil {
				copy(hb, s.hid)
			} else {
				s.project(hb)
			}
			copy(ov[row*no:(row+1)*no], hb)
		}
	}
	return nil
}

// project writes the projected output state of s.hid into hb.
func (s *ilstmState) project(hb []int8) {
	for i := range hb {
		acc := s.projBias[i]
		for j, w := range s.proj[i*s.nCell : (i+1)*s.nCell] {
			acc += int32(s.hid[j]) * int32(w)
		}
		v := min(max(qMulByMultiplier(acc, s.projM, s.projS)+s.outZP, math.MinInt8), math.MaxInt8)
		if s.projClip > 0 {
			v = min(max(v, -s.projClip), s.projClip)
		}
		hb[i] = int8(v)
	}
}

// checkBatch refuses what is not matched yet: an output state with a
// non-zero zero point over more than one batch row.
func (s *ilstmState) checkBatch(shape []int) error {
	if len(shape) != 3 || s.outZP == 0 {
		return nil
	}
	batch := shape[0]
	if s.opts.TimeMajor {
		batch = shape[1]
	}
	if batch > 1 {
		return unsupportedf("integer LSTM over %d batch rows with output-state zero point %d (matched for one row only)", batch, s.outZP)
	}
	return nil
}
