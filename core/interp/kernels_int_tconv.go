package interp

import (
	"fmt"

	fb "litequant/core/schema/tflitefb"
)

// Integer TRANSPOSE_CONV (int8 with per-channel weights, uint8, int16x8;
// operand families as in kernels_int_common.go): every input pixel,
// widened to int32 with its offset, scatters its products with each
// filter tap into an int64 accumulator per output element (wrapping to
// int32 for 8-bit, as the runtime's int32 scratch does); the bias is
// added and the output stage applied per channel. The pinned runtime does
// not delegate TRANSPOSE_CONV: int8 rounds twice with TensorFlow Lite's
// per-channel multipliers; uint8 and int16 differ as noted below
// (measured in kernels_int_conv_test.go).

func init() {
	register(fb.BuiltinOperatorTRANSPOSE_CONV, &kernel{match: icMatch, prepare: prepareIntTransposeConv, eval: evalIntTransposeConv})
}

type icTconvState struct {
	opts  *fb.TransposeConvOptionsT
	w     []int32 // [O][kH][kW][I] with the weights' offset
	bias  []int64
	stage *icStage
	inOff int32
	acc   []int64
	x     []int32
	res   []int32
}

func prepareIntTransposeConv(n *node) error {
	if err := cvIO(n, 3, "output shape", "filter", "input"); err != nil {
		return err
	}
	shape, filt, in, bias, out := n.inputs[0], n.inputs[1], n.inputs[2], n.input(3), n.outputs[0]
	if shape.Type != fb.TensorTypeINT32 {
		return unsupportedf("output shape of type %s (want INT32)", fb.EnumNamesTensorType[shape.Type])
	}
	if err := icOperands(in, filt, bias, out); err != nil {
		return err
	}
	if err := cvCheckRank(filt, "filter", 4); err != nil {
		return err
	}
	if !filt.IsConst() || bias != nil && !bias.IsConst() {
		return unsupportedf("integer TRANSPOSE_CONV with a non-constant filter or bias")
	}
	o := optsOr(n, &fb.TransposeConvOptionsT{})
	oc := filt.Shape[0]
	s := &icTconvState{opts: o, inOff: -icZeroPoint(in)}
	var err error
	if s.w, err = icWeights(filt, 0); err != nil {
		return err
	}
	if s.bias, err = icBias(bias, oc); err != nil {
		return err
	}
	if s.stage, err = newICStage(in, filt, out, oc, o.FusedActivationFunction, false, in.Type == fb.TensorTypeUINT8); err != nil {
		return err
	}
	switch {
	case in.Type == fb.TensorTypeUINT8:
		// The runtime rounds once here (double rounding: 8 of 9,800).
		s.stage.single = true
	case in.Type == fb.TensorTypeINT16 && bias == nil:
		// Without a bias the runtime scales by the full 32-bit multiplier
		// (the 16-bit one of the int64 path: 213 of 2,240 differ).
		s.stage.wide = false
	}
	n.state = s
	return nil
}

func evalIntTransposeConv(n *node) error {
	s := n.state.(*icTconvState)
	shapeT, filt, in := n.inputs[0], n.inputs[1], n.inputs[2]
	if err := cvCheckRank(in, "input", 4); err != nil {
		return err
	}
	oshape, err := tconvOutShape(shapeT)
	if err != nil {
		return err
	}
	batch, inH, inW, inC := in.Shape[0], in.Shape[1], in.Shape[2], in.Shape[3]
	outC, kH, kW := filt.Shape[0], filt.Shape[1], filt.Shape[2]
	if filt.Shape[3] != inC || oshape[0] != batch || oshape[3] != outC {
		return fmt.Errorf("output shape %v, filter %v and input %v do not agree", oshape, filt.Shape, in.Shape)
	}
	o := s.opts
	sH, sW := int(o.StrideH), int(o.StrideW)
	outH, outW := oshape[1], oshape[2]
	_, padT, err := convOutSize(o.Padding, outH, kH, sH, 1)
	if err != nil {
		return err
	}
	_, padL, err := convOutSize(o.Padding, outW, kW, sW, 1)
	if err != nil {
		return err
	}
	out := n.output(0, oshape[:])
	total := out.NumElements()
	if total == 0 {
		return nil
	}
	if cap(s.acc) < total {
		s.acc = make([]int64, total)
	}
	acc := s.acc[:total]
	clear(acc)
	if cap(s.x) < in.NumElements() {
		s.x = make([]int32, in.NumElements())
	}
	x := s.x[:in.NumElements()]
	icLoad(x, in, s.inOff)
	for b := 0; b < batch; b++ {
		for iy := 0; iy < inH; iy++ {
			for ix := 0; ix < inW; ix++ {
				xs := x[((b*inH+iy)*inW+ix)*inC : ((b*inH+iy)*inW+ix+1)*inC]
				for ky := 0; ky < kH; ky++ {
					oy := iy*sH + ky - padT
					if oy < 0 || oy >= outH {
						continue
					}
					for kx := 0; kx < kW; kx++ {
						ox := ix*sW + kx - padL
						if ox < 0 || ox >= outW {
							continue
						}
						dst := acc[((b*outH+oy)*outW+ox)*outC : ((b*outH+oy)*outW+ox+1)*outC]
						for c := range dst {
							wr := s.w[((c*kH+ky)*kW+kx)*inC : ((c*kH+ky)*kW+kx+1)*inC]
							dst[c] += icDot[int64](xs, wr)
						}
					}
				}
			}
		}
	}
	if cap(s.res) < outC {
		s.res = make([]int32, outC)
	}
	res := s.res[:outC]
	for p := 0; p < total; p += outC {
		for c := range res {
			a := acc[p+c]
			if s.bias != nil {
				a += s.bias[c]
			}
			if s.stage.wide {
				res[c] = s.stage.out64(a, c)
			} else {
				res[c] = s.stage.out32(int32(a), c)
			}
		}
		icStore(out, p, res)
	}
	return nil
}
