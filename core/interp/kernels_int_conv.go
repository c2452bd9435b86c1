package interp

import (
	"fmt"

	fb "litequant/core/schema/tflitefb"
)

// Integer CONV_2D and DEPTHWISE_CONV_2D (int8, uint8, int16x8; see
// kernels_int_common.go for the operand families and the output stage).
//
// Both widen the input to int32 with its offset once per call, so that
// the padding contributes zero; the weights are widened with theirs once,
// in prepare. CONV_2D gathers each output pixel's receptive field (one
// group at a time) into a row and takes its dot product with every output
// channel's weights; DEPTHWISE_CONV_2D accumulates tap by tap.

func init() {
	register(fb.BuiltinOperatorCONV_2D, &kernel{match: icMatch, prepare: prepareIntConv, eval: evalIntConv})
	register(fb.BuiltinOperatorDEPTHWISE_CONV_2D, &kernel{match: icMatch, prepare: prepareIntDepthwise, eval: evalIntDepthwise})
}

// icConvState is an integer convolution's prepared data and current call.
type icConvState struct {
	opts   *fb.Conv2DOptionsT          // CONV_2D
	dwOpts *fb.DepthwiseConv2DOptionsT // DEPTHWISE_CONV_2D
	w      []int32                     // weights with their offset
	bias   []int64
	stage  *icStage
	inOff  int32

	// The current evaluation.
	x          []int32 // the input plus its offset
	out        *Tensor
	win        convWindow
	inC, outC  int
	cinG, mult int // CONV_2D: channels per group; DEPTHWISE: multiplier
	parts      [][]int32
	acc64      [][]int64 // DEPTHWISE_CONV_2D 16x8: accumulators per part
	par        parJob
}

func (s *icConvState) job() *parJob { return &s.par }

// icPrepare checks an integer convolution's operands (the filter must be
// constant: its widened copy is made once) and builds its state.
func icPrepare(n *node, axis int, act fb.ActivationFunctionType, channels func(filt *Tensor) int) (*icConvState, error) {
	if err := cvIO(n, 2, "input", "filter"); err != nil {
		return nil, err
	}
	in, filt, bias, out := n.inputs[0], n.inputs[1], n.input(2), n.outputs[0]
	if err := icOperands(in, filt, bias, out); err != nil {
		return nil, err
	}
	if err := cvCheckRank(filt, "filter", 4); err != nil {
		return nil, err
	}
	if !filt.IsConst() {
		return nil, unsupportedf("integer convolution with a non-constant filter")
	}
	if bias != nil && !bias.IsConst() {
		return nil, unsupportedf("integer convolution with a non-constant bias")
	}
	oc := channels(filt)
	w, err := icWeights(filt, axis)
	if err != nil {
		return nil, err
	}
	b, err := icBias(bias, oc)
	if err != nil {
		return nil, err
	}
	stage, err := newICStage(in, filt, out, oc, act, icDelegated(n, in, filt, bias, act), in.Type == fb.TensorTypeUINT8)
	if err != nil {
		return nil, err
	}
	// TensorFlow Lite's int8 CONV_2D is a matrix product by ruy, which
	// rounds once; its depthwise kernels and uint8 CONV_2D (gemmlowp)
	// round twice.
	stage.single = n.code == fb.BuiltinOperatorCONV_2D && in.Type == fb.TensorTypeINT8
	return &icConvState{w: w, bias: b, stage: stage, inOff: -icZeroPoint(in)}, nil
}

// start widens the input and sizes the per-part row buffers (size values
// each) for a call.
func (s *icConvState) start(n *node, in *Tensor, rowSize int) {
	threads := poolThreads()
	buf := view[int32](n.scratch(4 * (in.NumElements() + threads*rowSize)))
	s.x = buf[:in.NumElements()]
	icLoad(s.x, in, s.inOff)
	if cap(s.parts) < threads {
		s.parts = make([][]int32, threads)
	}
	s.parts = s.parts[:threads]
	for p := range s.parts {
		off := len(s.x) + p*rowSize
		s.parts[p] = buf[off : off+rowSize]
	}
}

// ---------------------------------------------------------------------------
// CONV_2D

func prepareIntConv(n *node) error {
	o := optsOr(n, conv2DDefaults())
	s, err := icPrepare(n, 0, o.FusedActivationFunction, func(f *Tensor) int { return f.Shape[0] })
	if err != nil {
		return err
	}
	s.opts = o
	n.state = s
	return nil
}

func evalIntConv(n *node) error {
	s := n.state.(*icConvState)
	in, filt := n.inputs[0], n.inputs[1]
	if err := cvRank4(in, filt); err != nil {
		return err
	}
	inC, outC, kH, kW, cinG := in.Shape[3], filt.Shape[0], filt.Shape[1], filt.Shape[2], filt.Shape[3]
	if cinG <= 0 || inC%cinG != 0 || outC%(inC/cinG) != 0 {
		return fmt.Errorf("input has %d channels, filter %v: not a grouping", inC, filt.Shape)
	}
	o := s.opts
	s.cinG = cinG
	return s.run(n, in, outC, kH, kW, icGeom{o.Padding, int(o.StrideH), int(o.StrideW), int(o.DilationHFactor), int(o.DilationWFactor)}, kH*kW*cinG+outC, kH*kW*cinG)
}

// icGeom is a convolution's padding, strides and dilations.
type icGeom struct {
	pad            fb.Padding
	sH, sW, dH, dW int
}

// run evaluates the convolution on input in: outC output channels of a
// kH×kW window with geometry g, rowSize buffer values per part and depth
// multiply-adds per output.
func (s *icConvState) run(n *node, in *Tensor, outC, kH, kW int, g icGeom, rowSize, depth int) error {
	batch, inH, inW := in.Shape[0], in.Shape[1], in.Shape[2]
	win, err := newConvWindow(g.pad, inH, inW, kH, kW, g.sH, g.sW, g.dH, g.dW)
	if err != nil {
		return err
	}
	s.out = n.output(0, []int{batch, win.outH, win.outW, outC})
	m := batch * win.outH * win.outW
	if m == 0 || outC == 0 {
		return nil
	}
	s.win, s.inC, s.outC = win, in.Shape[3], outC
	s.start(n, in, rowSize)
	if s.stage.wide && s.dwOpts != nil && (len(s.acc64) != len(s.parts) || len(s.acc64[0]) != outC) {
		s.acc64 = make([][]int64, len(s.parts))
		for p := range s.acc64 {
			s.acc64[p] = make([]int64, outC)
		}
	}
	if parallelWorth(m * outC * depth) {
		parallelRows(s, m, 1)
	} else {
		s.rows(0, 0, m)
	}
	s.x, s.out = nil, nil
	return nil
}

// rows computes output pixels [r0, r1) (flattened over batch, height and
// width) of a CONV_2D or, with dwOpts set, a DEPTHWISE_CONV_2D.
func (s *icConvState) rows(part, r0, r1 int) {
	if s.dwOpts != nil {
		s.dwRows(part, r0, r1)
		return
	}
	w := &s.win
	k := w.kH * w.kW * s.cinG
	buf := s.parts[part]
	col, res := buf[:k], buf[k:k+s.outC]
	groups := s.inC / s.cinG
	coutG := s.outC / groups
	for r := r0; r < r1; r++ {
		b, oy, ox := r/(w.outH*w.outW), r/w.outW%w.outH, r%w.outW
		for g := 0; g < groups; g++ {
			s.gather(col, b, oy, ox, g)
			for oc := g * coutG; oc < (g+1)*coutG; oc++ {
				res[oc] = s.stage.dot(col, s.w[oc*k:(oc+1)*k], s.bias, oc)
			}
		}
		icStore(s.out, r*s.outC, res)
	}
}

// gather writes the receptive field of output pixel (b, oy, ox) over group
// g's input channels into col, in the filter's (ky, kx, c) order, zero
// where the window leaves the image.
func (s *icConvState) gather(col []int32, b, oy, ox, g int) {
	w := &s.win
	c, cg := s.inC, s.cinG
	for ky := 0; ky < w.kH; ky++ {
		iy := oy*w.sH - w.padT + ky*w.dH
		for kx := 0; kx < w.kW; kx++ {
			d := col[(ky*w.kW+kx)*cg : (ky*w.kW+kx+1)*cg]
			ix := ox*w.sW - w.padL + kx*w.dW
			if iy < 0 || iy >= w.inH || ix < 0 || ix >= w.inW {
				clear(d)
				continue
			}
			p := ((b*w.inH+iy)*w.inW+ix)*c + g*cg
			copy(d, s.x[p:p+cg])
		}
	}
}

// ---------------------------------------------------------------------------
// DEPTHWISE_CONV_2D

func prepareIntDepthwise(n *node) error {
	o := optsOr(n, depthwiseDefaults())
	s, err := icPrepare(n, 3, o.FusedActivationFunction, func(f *Tensor) int { return f.Shape[3] })
	if err != nil {
		return err
	}
	if n.inputs[1].Shape[0] != 1 {
		return fmt.Errorf("filter shape %v, want [1, height, width, channels]", n.inputs[1].Shape)
	}
	s.dwOpts = o
	n.state = s
	return nil
}

func evalIntDepthwise(n *node) error {
	s := n.state.(*icConvState)
	in, filt := n.inputs[0], n.inputs[1]
	if err := cvRank4(in, filt); err != nil {
		return err
	}
	inC, kH, kW, outC := in.Shape[3], filt.Shape[1], filt.Shape[2], filt.Shape[3]
	if inC <= 0 || outC%inC != 0 {
		return fmt.Errorf("filter has %d channels, not a multiple of the input's %d", outC, inC)
	}
	o := s.dwOpts
	if o.DepthMultiplier != 0 && int(o.DepthMultiplier) != outC/inC {
		return fmt.Errorf("depth_multiplier %d disagrees with the shapes (%d input channels, %d filter channels)", o.DepthMultiplier, inC, outC)
	}
	s.mult = outC / inC
	return s.run(n, in, outC, kH, kW, icGeom{o.Padding, int(o.StrideH), int(o.StrideW), int(o.DilationHFactor), int(o.DilationWFactor)}, outC, kH*kW)
}

// dwRows computes depthwise output pixels [r0, r1).
func (s *icConvState) dwRows(part, r0, r1 int) {
	w := &s.win
	buf := s.parts[part]
	res := buf[:s.outC]
	var acc64 []int64
	if s.stage.wide {
		acc64 = s.acc64[part]
	}
	for r := r0; r < r1; r++ {
		b, oy, ox := r/(w.outH*w.outW), r/w.outW%w.outH, r%w.outW
		if s.stage.wide {
			dwPixel(acc64, s, b, oy, ox)
			for oc, a := range acc64 {
				res[oc] = s.stage.out64(a, oc)
			}
		} else {
			dwPixel(res, s, b, oy, ox)
			for oc, a := range res {
				res[oc] = s.stage.out32(a, oc)
			}
		}
		icStore(s.out, r*s.outC, res)
	}
}

// dwPixel accumulates output pixel (b, oy, ox) of every channel into acc:
// the bias plus each tap inside the image.
func dwPixel[A int32 | int64](acc []A, s *icConvState, b, oy, ox int) {
	w := &s.win
	c, m := s.inC, s.mult
	if s.bias != nil {
		for i, v := range s.bias {
			acc[i] = A(v)
		}
	} else {
		clear(acc)
	}
	for ky := 0; ky < w.kH; ky++ {
		iy := oy*w.sH - w.padT + ky*w.dH
		if iy < 0 || iy >= w.inH {
			continue
		}
		for kx := 0; kx < w.kW; kx++ {
			ix := ox*w.sW - w.padL + kx*w.dW
			if ix < 0 || ix >= w.inW {
				continue
			}
			p := ((b*w.inH+iy)*w.inW + ix) * c
			xs := s.x[p : p+c]
			wk := s.w[(ky*w.kW+kx)*s.outC : (ky*w.kW+kx+1)*s.outC]
			if m == 1 {
				wk, acc := wk[:len(xs)], acc[:len(xs)]
				for ch, v := range xs {
					acc[ch] += A(v) * A(wk[ch])
				}
				continue
			}
			for ch, v := range xs {
				for j := ch * m; j < ch*m+m; j++ {
					acc[j] += A(v) * A(wk[j])
				}
			}
		}
	}
}
