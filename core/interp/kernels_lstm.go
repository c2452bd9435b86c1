package interp

import (
	"fmt"
	"math"
	"slices"

	fb "litequant/core/schema/tflitefb"
	"litequant/core/tflite"
)

// UNIDIRECTIONAL_SEQUENCE_LSTM, float32, with TensorFlow Lite's 24-input
// layout:
//
//	0      input [batch, time, in] ([time, batch, in] when time_major)
//	1-4    input-to-{input, forget, cell, output} weights [cell, in]
//	5-8    recurrent-to-{input, forget, cell, output} weights [cell, out]
//	9-11   peephole cell-to-{input, forget, output} weights [cell], optional
//	12-15  {input, forget, cell, output} gate biases [cell]
//	16, 17 projection weights [out, cell] and bias [out], optional
//	18, 19 output state [batch, out] and cell state [batch, cell]: variable
//	       tensors, read at the start and written back at the end of every
//	       Invoke, so state carries over between calls as in TensorFlow Lite
//	20-23  layer-norm coefficients for the four gates [cell], optional
//
// The input gate's tensors (1, 5, 9, 12, 20) are absent in a CIFG LSTM,
// whose input gate is 1 - forget gate. Per step, as TensorFlow Lite's float
// kernel: each gate is W·x + R·h (+ peephole · c), layer-normalized and
// scaled when coefficients are given, plus the bias; the input, forget and
// output gates go through a sigmoid and the cell gate through the fused
// activation; c = f·c + i·g clipped to ±cell_clip, h = o·act(c), projected
// (and clipped to ±proj_clip) when projection weights are given. With the
// activation NONE, TensorFlow Lite computes h = o·g instead (see evalLSTM),
// and so does this kernel.
//
// The input contributions of all time steps are one matrix product; each
// step then adds R·h for every batch row.

func init() {
	register(fb.BuiltinOperatorUNIDIRECTIONAL_SEQUENCE_LSTM, &kernel{prepare: prepareLSTM, eval: evalLSTM})
}

const (
	lstmInput      = 0
	lstmInW        = 1 // + gate
	lstmRecW       = 5 // + gate
	lstmPeephole   = 9 // + gate (input, forget, output)
	lstmBias       = 12
	lstmProjW      = 16
	lstmProjB      = 17
	lstmOutState   = 18
	lstmCellState  = 19
	lstmLayerNorm  = 20
	lstmNumInputs  = 24
	lstmGateInput  = 0
	lstmGateForget = 1
	lstmGateCell   = 2
	lstmGateOutput = 3
)

type lstmState struct {
	opts *fb.UnidirectionalSequenceLSTMOptionsT

	// Dimensions and the gates present, fixed at preparation.
	nIn, nCell, nOut int
	cifg             bool
	gates            []int // the gates computed, in column order of wIn/wRec

	// Weights packed once (on the first Invoke when they only become
	// constant by folding): all gates side by side.
	wIn, wRec, wProj *packedB
}

func prepareLSTM(n *node) error {
	if len(n.inputs) < 20 {
		return fmt.Errorf("has %d inputs, want 20 or 24", len(n.inputs))
	}
	if len(n.outputs) != 1 {
		return fmt.Errorf("has %d outputs, want 1", len(n.outputs))
	}
	o, _ := n.opts.(*fb.UnidirectionalSequenceLSTMOptionsT)
	if o == nil {
		o = &fb.UnidirectionalSequenceLSTMOptionsT{}
	}
	if o.DiagonalRecurrentTensors {
		return unsupportedf("diagonal recurrent weights")
	}
	s := &lstmState{opts: o}
	n.state = s
	for k, t := range n.inputs {
		if t != nil && t.Type != fb.TensorTypeFLOAT32 {
			return unsupportedf("input %d of type %s (float kernel takes FLOAT32)", k, tflite.TypeName(t.Type))
		}
	}
	if n.outputs[0].Type != fb.TensorTypeFLOAT32 {
		return unsupportedf("output of type %s", tflite.TypeName(n.outputs[0].Type))
	}
	in := n.input
	for _, k := range []int{lstmInput, lstmInW + 1, lstmInW + 2, lstmInW + 3, lstmRecW + 1, lstmRecW + 2, lstmRecW + 3,
		lstmBias + 1, lstmBias + 2, lstmBias + 3, lstmOutState, lstmCellState} {
		if in(k) == nil {
			return fmt.Errorf("required input %d is missing", k)
		}
	}
	wo := in(lstmInW + lstmGateOutput)
	ro := in(lstmRecW + lstmGateOutput)
	if len(wo.Shape) != 2 || len(ro.Shape) != 2 {
		return fmt.Errorf("weights must have rank 2, got %v and %v", wo.Shape, ro.Shape)
	}
	s.nCell, s.nIn, s.nOut = wo.Shape[0], wo.Shape[1], ro.Shape[1]
	s.cifg = in(lstmInW+lstmGateInput) == nil
	if s.cifg != (in(lstmRecW+lstmGateInput) == nil) || s.cifg != (in(lstmBias+lstmGateInput) == nil) {
		return fmt.Errorf("the input gate's weights and bias must be all present or all absent (CIFG)")
	}
	if s.cifg {
		s.gates = []int{lstmGateForget, lstmGateCell, lstmGateOutput}
	} else {
		s.gates = []int{lstmGateInput, lstmGateForget, lstmGateCell, lstmGateOutput}
	}
	want := func(k int, shape ...int) error {
		t := in(k)
		if t == nil {
			return nil
		}
		if !slices.Equal(t.Shape, shape) {
			return fmt.Errorf("input %d has shape %v, want %v", k, t.Shape, shape)
		}
		return nil
	}
	for _, g := range s.gates {
		if err := want(lstmInW+g, s.nCell, s.nIn); err != nil {
			return err
		}
		if err := want(lstmRecW+g, s.nCell, s.nOut); err != nil {
			return err
		}
		if err := want(lstmBias+g, s.nCell); err != nil {
			return err
		}
	}
	peep := [3]bool{in(lstmPeephole) != nil, in(lstmPeephole+1) != nil, in(lstmPeephole+2) != nil}
	if peep[1] != peep[2] || (!s.cifg && peep[0] != peep[1]) || (s.cifg && peep[0]) {
		return fmt.Errorf("peephole weights must be given for every gate or none")
	}
	for k := lstmPeephole; k < lstmPeephole+3; k++ {
		if err := want(k, s.nCell); err != nil {
			return err
		}
	}
	if in(lstmProjW) == nil {
		if in(lstmProjB) != nil {
			return fmt.Errorf("projection bias without projection weights")
		}
		if s.nOut != s.nCell {
			return fmt.Errorf("without projection the output size %d must equal the cell size %d", s.nOut, s.nCell)
		}
	}
	if err := want(lstmProjW, s.nOut, s.nCell); err != nil {
		return err
	}
	if err := want(lstmProjB, s.nOut); err != nil {
		return err
	}
	ln := s.layerNorm(n)
	for _, g := range s.gates {
		if ln != (in(lstmLayerNorm+g) != nil) {
			return fmt.Errorf("layer-norm coefficients must be given for every gate or none")
		}
		if err := want(lstmLayerNorm+g, s.nCell); err != nil {
			return err
		}
	}
	if s.cifg && in(lstmLayerNorm) != nil {
		return fmt.Errorf("layer-norm coefficients for the input gate of a CIFG LSTM")
	}
	if _, err := lstmActivation(o.FusedActivationFunction); err != nil {
		return err
	}
	return s.pack(n)
}

func (s *lstmState) layerNorm(n *node) bool { return n.input(lstmLayerNorm+lstmGateForget) != nil }

// pack packs the weights once they are all constant; it does nothing
// before.
func (s *lstmState) pack(n *node) error {
	if s.wIn != nil {
		return nil
	}
	in := n.input
	for _, g := range s.gates {
		if !in(lstmInW+g).IsConst() || !in(lstmRecW+g).IsConst() {
			return nil
		}
	}
	if p := in(lstmProjW); p != nil && !p.IsConst() {
		return nil
	}
	nc, ng := s.nCell, len(s.gates)
	cat := func(base, depth int) *packedB {
		w := make([]float32, ng*nc*depth)
		for i, g := range s.gates {
			copy(w[i*nc*depth:(i+1)*nc*depth], in(base+g).F32())
		}
		return newPackedB(w, depth, ng*nc, 1, depth)
	}
	s.wIn = cat(lstmInW, s.nIn)
	s.wRec = cat(lstmRecW, s.nOut)
	if p := in(lstmProjW); p != nil {
		s.wProj = newPackedB(p.F32(), s.nCell, s.nOut, 1, s.nCell)
	}
	return nil
}

// lstmActivation returns the cell activation of a fused activation code.
func lstmActivation(act fb.ActivationFunctionType) (func(float32) float32, error) {
	switch act {
	case fb.ActivationFunctionTypeNONE:
		return func(x float32) float32 { return x }, nil
	case fb.ActivationFunctionTypeRELU:
		return func(x float32) float32 { return max(x, 0) }, nil
	case fb.ActivationFunctionTypeRELU6:
		return func(x float32) float32 { return min(max(x, 0), 6) }, nil
	case fb.ActivationFunctionTypeRELU_N1_TO_1:
		return func(x float32) float32 { return min(max(x, -1), 1) }, nil
	case fb.ActivationFunctionTypeTANH:
		return func(x float32) float32 { return float32(math.Tanh(float64(x))) }, nil
	}
	return nil, unsupportedf("LSTM activation %s", act)
}

func sigmoid32(x float32) float32 { return float32(1 / (1 + math.Exp(-float64(x)))) }

// lstmNormalize normalizes v to zero mean and unit variance, as TensorFlow
// Lite's MeanStddevNormalization.
func lstmNormalize(v []float32) {
	var sum float32
	for _, x := range v {
		sum += x
	}
	mean := sum / float32(len(v))
	var sq float32
	for _, x := range v {
		d := x - mean
		sq += d * d
	}
	inv := float32(1 / math.Sqrt(float64(sq/float32(len(v))+1e-8)))
	for i, x := range v {
		v[i] = (x - mean) * inv
	}
}

func evalLSTM(n *node) error {
	s := n.state.(*lstmState)
	if err := s.pack(n); err != nil {
		return err
	}
	if s.wIn == nil {
		return unsupportedf("non-constant LSTM weights")
	}
	in := n.input
	x := in(lstmInput)
	if len(x.Shape) != 3 {
		return fmt.Errorf("input must have rank 3, got %v", x.Shape)
	}
	batch, steps := x.Shape[0], x.Shape[1]
	if s.opts.TimeMajor {
		batch, steps = steps, batch
	}
	if x.Shape[2] != s.nIn {
		return fmt.Errorf("input shape %v, want %d features", x.Shape, s.nIn)
	}
	hState, cState := in(lstmOutState), in(lstmCellState)
	if len(hState.Data) != 4*batch*s.nOut || len(cState.Data) != 4*batch*s.nCell {
		return fmt.Errorf("states %v and %v do not hold %d batch rows of %d and %d values", hState.Shape, cState.Shape, batch, s.nOut, s.nCell)
	}
	act, err := lstmActivation(s.opts.FusedActivationFunction)
	if err != nil {
		return err
	}
	var out *Tensor
	if s.opts.TimeMajor {
		out = n.output(0, []int{steps, batch, s.nOut})
	} else {
		out = n.output(0, []int{batch, steps, s.nOut})
	}
	if batch == 0 || steps == 0 {
		return nil
	}
	nc, ng, no := s.nCell, len(s.gates), s.nOut
	ln := s.layerNorm(n)
	rows := batch * steps
	scratch := n.scratchF32(rows*ng*nc + (ng+1)*nc + ng*nc)
	xw := scratch[:rows*ng*nc]                    // input contributions, one row per (batch, step) as stored
	gates := scratch[rows*ng*nc : (rows+1)*ng*nc] // one step's gates
	hbuf := scratch[(rows+1)*ng*nc : (rows+1)*ng*nc+nc]
	var bias []float32 // the gate biases side by side, added with x·W without layer norm
	if !ln {
		bias = scratch[(rows+1)*ng*nc+nc:]
		for i, g := range s.gates {
			copy(bias[i*nc:(i+1)*nc], in(lstmBias+g).F32())
		}
	}
	gemmRows(x.F32(), s.nIn, s.wIn, bias, xw, ng*nc, 0, rows, noClampLo, noClampHi)

	h, c, ov := hState.F32(), cState.F32(), out.F32()
	var peep [3][]float32
	for k := range peep {
		if t := in(lstmPeephole + k); t != nil {
			peep[k] = t.F32()
		}
	}
	gate := func(g int) []float32 {
		for i, gg := range s.gates {
			if gg == g {
				return gates[i*nc : (i+1)*nc]
			}
		}
		return nil
	}
	ig, fg, cg, og := gate(lstmGateInput), gate(lstmGateForget), gate(lstmGateCell), gate(lstmGateOutput)
	finish := func(v []float32, g int) {
		if ln {
			lstmNormalize(v)
			lw, b := in(lstmLayerNorm+g).F32(), in(lstmBias+g).F32()
			for i := range v {
				v[i] = v[i]*lw[i] + b[i]
			}
		}
	}
	noAct := s.opts.FusedActivationFunction == fb.ActivationFunctionTypeNONE
	clip := s.opts.CellClip
	projClip := s.opts.ProjClip
	var projBias []float32
	if t := in(lstmProjB); t != nil {
		projBias = t.F32()
	}
	for t := 0; t < steps; t++ {
		for b := 0; b < batch; b++ {
			row := b*steps + t
			if s.opts.TimeMajor {
				row = t*batch + b
			}
			hb := h[b*no : (b+1)*no]
			cb := c[b*nc : (b+1)*nc]
			// gates = x·W (+ bias) + h·R
			gemmRows(hb, no, s.wRec, xw[row*ng*nc:(row+1)*ng*nc], gates, ng*nc, 0, 1, noClampLo, noClampHi)
			if peep[1] != nil {
				for i := range fg {
					fg[i] += peep[1][i] * cb[i]
				}
				if ig != nil {
					for i := range ig {
						ig[i] += peep[0][i] * cb[i]
					}
				}
			}
			if ig != nil {
				finish(ig, lstmGateInput)
				for i, v := range ig {
					ig[i] = sigmoid32(v)
				}
			}
			finish(fg, lstmGateForget)
			for i, v := range fg {
				fg[i] = sigmoid32(v)
			}
			finish(cg, lstmGateCell)
			for i, v := range cg {
				cg[i] = act(v)
			}
			for i := range cb {
				v := fg[i] * cb[i]
				if ig != nil {
					v += ig[i] * cg[i]
				} else {
					v += (1 - fg[i]) * cg[i]
				}
				if clip > 0 {
					v = min(max(v, -clip), clip)
				}
				cb[i] = v
			}
			if peep[2] != nil {
				for i := range og {
					og[i] += peep[2][i] * cb[i]
				}
			}
			finish(og, lstmGateOutput)
			if noAct {
				// TensorFlow Lite's float kernel leaves its buffer for act(c)
				// unwritten when the activation is NONE; the buffer still
				// holds the cell gate, so h = o·g there, reproduced here.
				for i, v := range og {
					hbuf[i] = sigmoid32(v) * cg[i]
				}
			} else {
				for i, v := range og {
					hbuf[i] = sigmoid32(v) * act(cb[i])
				}
			}
			if s.wProj != nil {
				gemmRows(hbuf, nc, s.wProj, projBias, hb, no, 0, 1, noClampLo, noClampHi)
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
	}
	return nil
}
