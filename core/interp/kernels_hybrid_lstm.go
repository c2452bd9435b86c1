package interp

import (
	"fmt"
	"slices"

	fb "litequant/core/schema/tflitefb"
	"litequant/core/tflite"
)

// Hybrid (dynamic-range) UNIDIRECTIONAL_SEQUENCE_LSTM: float32 input,
// states and output, INT8 input, recurrent, peephole and projection
// weights (one scale each), float32 biases and layer-norm coefficients —
// TensorFlow Lite's LstmStepHybrid. Per step, as the runtime:
//
//   - each gate starts from its bias (0 with layer norm); the step's input
//     rows and the output state rows are quantized as the hybrid
//     FULLY_CONNECTED quantizes its input (hybrid.go), and each product
//     adds float(Σ w·q − zp·Σ w) × (row scale × weight scale);
//   - peephole weights are dequantized (weight × scale) and multiply the
//     cell state; layer norm, sigmoid, the cell update, clipping and the
//     output gate are the float kernel's (kernels_lstm.go), including its
//     h = o·g under the activation NONE;
//   - the projection quantizes o·act(c) the same way, adds its float bias,
//     clips.
//
// Batch-major input runs each batch row through all steps on its own, as
// the runtime does; time-major runs all rows per step.

func init() {
	register(fb.BuiltinOperatorUNIDIRECTIONAL_SEQUENCE_LSTM, &kernel{match: hlstmMatch, prepare: prepareHybridLSTM, eval: evalHybridLSTM})
}

func hlstmMatch(n *node) bool {
	return isF32(n.input(lstmInput)) && isI8(n.input(lstmInW+lstmGateOutput))
}

// hlstmMat is one int8 weight matrix [rows, cols] with its scale and row
// sums.
type hlstmMat struct {
	w          []int8
	rows, cols int
	scale      float32
	sums       []int32
}

func newHLSTMMat(t *Tensor, rows, cols int, what string) (*hlstmMat, error) {
	if t == nil {
		return nil, nil
	}
	if err := hybridWeights(t, what); err != nil {
		return nil, err
	}
	if !t.IsConst() {
		return nil, unsupportedf("non-constant %s", what)
	}
	if !slices.Equal(t.Shape, []int{rows, cols}) && !(cols == 1 && slices.Equal(t.Shape, []int{rows})) {
		return nil, fmt.Errorf("%s has shape %v, want [%d %d]", what, t.Shape, rows, cols)
	}
	w := t.I8()
	return &hlstmMat{w: w, rows: rows, cols: cols, scale: hybridTensorScale(t), sums: rowSumsI8(w, rows, cols)}, nil
}

// accumulate adds to out (rows values) the hybrid product of the matrix
// with the quantized row q (scale s, zero point zp).
func (m *hlstmMat) accumulate(out []float32, q []int8, s float32, zp int32) {
	scale := s * m.scale
	for r := range out[:m.rows] {
		dot := dotI8(m.w[r*m.cols:(r+1)*m.cols], q)
		if zp != 0 {
			dot -= m.sums[r] * zp
		}
		out[r] += float32(dot) * scale
	}
}

type hlstmState struct {
	opts             *fb.UnidirectionalSequenceLSTMOptionsT
	nIn, nCell, nOut int
	wIn, wRec        [4]*hlstmMat
	peep             [3][]float32 // dequantized peephole weights (input, forget, output)
	bias, ln         [4][]float32
	proj             *hlstmMat
	projBias         []float32
	act              func(float32) float32
	buf              []float32 // the four gates and o·act(c) of one step
	q                []int8    // one quantized row
}

func prepareHybridLSTM(n *node) error {
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
	act, err := lstmActivation(o.FusedActivationFunction)
	if err != nil {
		return err
	}
	in := n.input
	for _, k := range []int{lstmInput, lstmOutState, lstmCellState} {
		if !isF32(in(k)) {
			return unsupportedf("hybrid LSTM input %d must be FLOAT32", k)
		}
	}
	if !isF32(n.outputs[0]) {
		return unsupportedf("hybrid LSTM output of type %s", tflite.TypeName(n.outputs[0].Type))
	}
	wo, ro := in(lstmInW+lstmGateOutput), in(lstmRecW+lstmGateOutput)
	if ro == nil || len(wo.Shape) != 2 || len(ro.Shape) != 2 {
		return fmt.Errorf("weights must have rank 2")
	}
	s := &hlstmState{opts: o, act: act, nCell: wo.Shape[0], nIn: wo.Shape[1], nOut: ro.Shape[1]}
	cifg := in(lstmInW+lstmGateInput) == nil
	layerNorm := in(lstmLayerNorm+lstmGateForget) != nil
	vec := func(k int, what string) ([]float32, error) {
		t := in(k)
		if t == nil {
			return nil, nil
		}
		if !isF32(t) || !t.IsConst() || t.NumElements() != s.nCell {
			return nil, unsupportedf("%s must be a constant FLOAT32 vector of %d (has %s %v)", what, s.nCell, tflite.TypeName(t.Type), t.Shape)
		}
		return t.F32(), nil
	}
	for g := range 4 {
		if g == lstmGateInput && cifg {
			if in(lstmRecW) != nil || in(lstmBias) != nil {
				return fmt.Errorf("the input gate's weights and bias must be all present or all absent (CIFG)")
			}
			continue
		}
		if s.wIn[g], err = newHLSTMMat(in(lstmInW+g), s.nCell, s.nIn, fmt.Sprintf("input weights %d", lstmInW+g)); err != nil {
			return err
		}
		if s.wRec[g], err = newHLSTMMat(in(lstmRecW+g), s.nCell, s.nOut, fmt.Sprintf("recurrent weights %d", lstmRecW+g)); err != nil {
			return err
		}
		if s.wIn[g] == nil || s.wRec[g] == nil || in(lstmBias+g) == nil {
			return fmt.Errorf("gate %d: weights or bias missing", g)
		}
		if s.bias[g], err = vec(lstmBias+g, "gate bias"); err != nil {
			return err
		}
		if layerNorm {
			if s.ln[g], err = vec(lstmLayerNorm+g, "layer-norm coefficients"); err != nil {
				return err
			}
			if s.ln[g] == nil {
				return fmt.Errorf("layer-norm coefficients must be given for every gate or none")
			}
		}
	}
	for k := range 3 {
		m, err := newHLSTMMat(in(lstmPeephole+k), s.nCell, 1, "peephole weights")
		if err != nil {
			return err
		}
		if m != nil {
			s.peep[k] = make([]float32, s.nCell)
			for i, v := range m.w {
				s.peep[k][i] = m.scale * float32(v)
			}
		}
	}
	if (s.peep[1] == nil) != (s.peep[2] == nil) || (!cifg && (s.peep[0] == nil) != (s.peep[1] == nil)) {
		return fmt.Errorf("peephole weights must be given for every gate or none")
	}
	if s.proj, err = newHLSTMMat(in(lstmProjW), s.nOut, s.nCell, "projection weights"); err != nil {
		return err
	}
	if s.proj == nil && s.nOut != s.nCell {
		return fmt.Errorf("without projection the output size %d must equal the cell size %d", s.nOut, s.nCell)
	}
	if t := in(lstmProjB); t != nil {
		if !isF32(t) || t.NumElements() != s.nOut {
			return unsupportedf("projection bias must be FLOAT32 of %d", s.nOut)
		}
		s.projBias = t.F32()
	}
	s.buf = make([]float32, 5*s.nCell)
	s.q = make([]int8, max(s.nIn, s.nOut, s.nCell))
	n.state = s
	return nil
}

func evalHybridLSTM(n *node) error {
	s := n.state.(*hlstmState)
	in := n.input
	x := in(lstmInput)
	if len(x.Shape) != 3 || x.Shape[2] != s.nIn {
		return fmt.Errorf("input shape %v, want rank 3 with %d features", x.Shape, s.nIn)
	}
	batch, steps := x.Shape[0], x.Shape[1]
	if s.opts.TimeMajor {
		batch, steps = steps, batch
	}
	hState, cState := in(lstmOutState), in(lstmCellState)
	nc, no, ni := s.nCell, s.nOut, s.nIn
	if hState.NumElements() != batch*no || cState.NumElements() != batch*nc {
		return fmt.Errorf("states %v and %v do not hold %d batch rows of %d and %d values", hState.Shape, cState.Shape, batch, no, nc)
	}
	var out *Tensor
	if s.opts.TimeMajor {
		out = n.output(0, []int{steps, batch, no})
	} else {
		out = n.output(0, []int{batch, steps, no})
	}
	xv, h, c, ov := x.F32(), hState.F32(), cState.F32(), out.F32()
	var gates [4][]float32
	for g := range gates {
		gates[g] = s.buf[g*nc : (g+1)*nc]
	}
	hbuf, q := s.buf[4*nc:], s.q
	asym := s.opts.AsymmetricQuantizeInputs
	noAct := s.opts.FusedActivationFunction == fb.ActivationFunctionTypeNONE
	clip, projClip := s.opts.CellClip, s.opts.ProjClip
	step := func(row, b int) {
		xb := xv[row*ni : (row+1)*ni]
		hb := h[b*no : (b+1)*no]
		cb := c[b*nc : (b+1)*nc]
		for g := range 4 {
			if s.wIn[g] == nil {
				continue
			}
			v := gates[g]
			if s.ln[g] != nil {
				clear(v)
			} else {
				copy(v, s.bias[g])
			}
		}
		// Input products, then recurrent ones, each gate in order.
		for k, src := range [][]float32{xb, hb} {
			sc, zp := hybridQuantizeRow(q[:len(src)], src, asym)
			for g := range 4 {
				m := s.wIn[g]
				if k == 1 {
					m = s.wRec[g]
				}
				if m != nil {
					m.accumulate(gates[g], q[:len(src)], sc, zp)
				}
			}
		}
		finish := func(g int, p []float32) {
			v := gates[g]
			if p != nil {
				for i := range v {
					v[i] += p[i] * cb[i]
				}
			}
			if s.ln[g] != nil {
				lstmNormalize(v)
				for i := range v {
					v[i] = v[i]*s.ln[g][i] + s.bias[g][i]
				}
			}
		}
		ig, fg, cg, og := gates[lstmGateInput], gates[lstmGateForget], gates[lstmGateCell], gates[lstmGateOutput]
		cifg := s.wIn[lstmGateInput] == nil
		if !cifg {
			finish(lstmGateInput, s.peep[0])
			for i, v := range ig {
				ig[i] = sigmoid32(v)
			}
		}
		finish(lstmGateForget, s.peep[1])
		for i, v := range fg {
			fg[i] = sigmoid32(v)
		}
		finish(lstmGateCell, nil)
		for i, v := range cg {
			cg[i] = s.act(v)
		}
		for i := range cb {
			v := fg[i] * cb[i]
			if cifg {
				v += cg[i] * (1 - fg[i])
			} else {
				v += cg[i] * ig[i]
			}
			if clip > 0 {
				v = min(max(v, -clip), clip)
			}
			cb[i] = v
		}
		finish(lstmGateOutput, s.peep[2])
		for i, v := range og {
			og[i] = sigmoid32(v)
		}
		for i := range hbuf {
			if noAct {
				hbuf[i] = og[i] * cg[i] // the runtime's unwritten activation buffer, as kernels_lstm.go
			} else {
				hbuf[i] = og[i] * s.act(cb[i])
			}
		}
		if s.proj != nil {
			if s.projBias != nil {
				copy(hb, s.projBias)
			} else {
				clear(hb)
			}
			sc, zp := hybridQuantizeRow(q[:nc], hbuf, asym)
			s.proj.accumulate(hb, q[:nc], sc, zp)
			if projClip > 0 {
				for i, v := range hb {
					hb[i] = min(max(v, -projClip), projClip)
				}
			}
		} else {
			copy(hb, hbuf[:no])
		}
		copy(ov[row*no:(row+1)*no], hb)
	}
	if s.opts.TimeMajor {
		for t := range steps {
			for b := range batch {
				step(t*batch+b, b)
			}
		}
	} else {
		for b := range batch {
			for t := range steps {
				step(b*steps+t, b)
			}
		}
	}
	return nil
}
