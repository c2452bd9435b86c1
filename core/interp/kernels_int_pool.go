package interp

import (
	"errors"
	"fmt"

	fb "litequant/core/schema/tflitefb"
)

// Integer AVERAGE_POOL_2D and MAX_POOL_2D on int8, uint8 and int16 NHWC
// activations whose output shares the input's scale and zero point (the
// runtime's kernels require it). The windows are those of the float kernels
// (kernels_pool.go), clipped to the image. Both work on stored integers:
// MAX_POOL_2D takes the largest, AVERAGE_POOL_2D sums the window and divides
// by the number of elements inside the image rounding half away from zero
// (TensorFlow Lite's integer kernels); the fused activation clamps to its
// quantized bounds. XNNPACK's max pooling gives the same results (it picks
// an element too), except that it rounds the activation's bounds half to
// even: its bounds are used where the delegate runs the operator.

func init() {
	register(fb.BuiltinOperatorAVERAGE_POOL_2D, &kernel{match: qMatchInput0, prepare: prepareQPool(poolAvg), eval: evalQPool})
	register(fb.BuiltinOperatorMAX_POOL_2D, &kernel{match: qMatchInput0, prepare: prepareQPool(poolMax), eval: evalQPool})
}

type qPoolState struct {
	kind   poolKind
	opts   *fb.Pool2DOptionsT
	lo, hi int32
}

func prepareQPool(kind poolKind) func(n *node) error {
	return func(n *node) error {
		if err := cvIO(n, 1, "input"); err != nil {
			return err
		}
		in, out := n.inputs[0], n.outputs[0]
		if err := qSameTypes(in.Type, out); err != nil {
			return err
		}
		qi, err := tensorQOf(in, "input")
		if err != nil {
			return err
		}
		qo, err := tensorQOf(out, "output")
		if err != nil {
			return err
		}
		if qi != qo {
			return unsupportedf("input scale %g and zero point %d differ from the output's %g and %d (the runtime's quantized pooling requires them equal)", qi.scale, qi.zp, qo.scale, qo.zp)
		}
		o, _ := n.opts.(*fb.Pool2DOptionsT)
		if o == nil {
			return errors.New("missing Pool2DOptions")
		}
		st := &qPoolState{kind: kind, opts: o}
		if kind == poolMax && in.Type != fb.TensorTypeINT16 && !xnnOff(n.it) {
			st.lo, st.hi, err = xnnActRange(o.FusedActivationFunction, in.Type, qo)
		} else {
			st.lo, st.hi, err = qActRange(o.FusedActivationFunction, in.Type, qo)
		}
		if err != nil {
			return err
		}
		n.state = st
		return nil
	}
}

func evalQPool(n *node) error {
	s := n.state.(*qPoolState)
	in := n.inputs[0]
	if err := cvCheckRank(in, "input", 4); err != nil {
		return err
	}
	o := s.opts
	if o.FilterHeight <= 0 || o.FilterWidth <= 0 {
		return fmt.Errorf("filter %dx%d must be positive", o.FilterHeight, o.FilterWidth)
	}
	batch, inH, inW, c := in.Shape[0], in.Shape[1], in.Shape[2], in.Shape[3]
	win, err := newConvWindow(o.Padding, inH, inW, int(o.FilterHeight), int(o.FilterWidth), int(o.StrideH), int(o.StrideW), 1, 1)
	if err != nil {
		return err
	}
	out := n.output(0, []int{batch, win.outH, win.outW, c})
	switch in.Type {
	case fb.TensorTypeINT8:
		qPoolRun(s, &win, batch, c, in.I8(), out.I8())
	case fb.TensorTypeUINT8:
		qPoolRun(s, &win, batch, c, in.U8(), out.U8())
	default:
		qPoolRun(s, &win, batch, c, in.I16(), out.I16())
	}
	return nil
}

// qPoolRun pools every output pixel, all channels of a window position at
// once, accumulating in int32.
func qPoolRun[T int8 | uint8 | int16](s *qPoolState, w *convWindow, batch, c int, in, out []T) {
	acc := make([]int32, c)
	for r := 0; r < batch*w.outH; r++ {
		b, oy := r/w.outH, r%w.outH
		y0 := oy*w.sH - w.padT
		ky0, ky1 := max(0, -y0), min(w.kH, w.inH-y0)
		for ox := 0; ox < w.outW; ox++ {
			x0 := ox*w.sW - w.padL
			kx0, kx1 := max(0, -x0), min(w.kW, w.inW-x0)
			count := int32(max(ky1-ky0, 0) * max(kx1-kx0, 0))
			if s.kind == poolMax {
				for i := range acc {
					acc[i] = s.lo // TensorFlow Lite starts from the type's lowest; the clamp below makes them equal
				}
			} else {
				clear(acc)
			}
			for ky := ky0; ky < ky1; ky++ {
				base := ((b*w.inH+y0+ky)*w.inW + x0) * c
				for kx := kx0; kx < kx1; kx++ {
					p := in[base+kx*c : base+kx*c+c]
					if s.kind == poolMax {
						for i, v := range p {
							acc[i] = max(acc[i], int32(v))
						}
					} else {
						for i, v := range p {
							acc[i] += int32(v)
						}
					}
				}
			}
			o := out[(r*w.outW+ox)*c : (r*w.outW+ox+1)*c]
			for i, a := range acc {
				if s.kind == poolAvg && count > 0 {
					a = roundDivAway(a, count)
				}
				o[i] = T(min(max(a, s.lo), s.hi))
			}
		}
	}
}
