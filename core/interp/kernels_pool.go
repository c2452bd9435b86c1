package interp

import (
	"fmt"
	"math"

	fb "litequant/core/schema/tflitefb"
)

// AVERAGE_POOL_2D, MAX_POOL_2D and L2_POOL_2D on float32 NHWC activations.
// Windows are clipped to the image (TensorFlow Lite's padding never makes a
// window empty); the average and the L2 norm divide by the number of
// elements inside the image, as TensorFlow Lite's reference kernels do.
// Each output pixel accumulates its window position by position over all
// channels at once.

type poolKind int

const (
	poolAvg poolKind = iota
	poolMax
	poolL2
)

func init() {
	for code, kind := range map[fb.BuiltinOperator]poolKind{
		fb.BuiltinOperatorAVERAGE_POOL_2D: poolAvg,
		fb.BuiltinOperatorMAX_POOL_2D:     poolMax,
		fb.BuiltinOperatorL2_POOL_2D:      poolL2,
	} {
		register(code, &kernel{prepare: preparePool(kind), eval: evalPool})
	}
}

type poolState struct {
	kind poolKind
	opts *fb.Pool2DOptionsT

	in, out []float32
	win     convWindow
	c       int
	lo, hi  float32
	par     parJob
}

func (s *poolState) job() *parJob { return &s.par }

func preparePool(kind poolKind) func(n *node) error {
	return func(n *node) error {
		if err := cvIO(n, 1, "input"); err != nil {
			return err
		}
		o, _ := n.opts.(*fb.Pool2DOptionsT)
		if o == nil {
			o = &fb.Pool2DOptionsT{} // zero strides and filter: rejected on evaluation
		}
		n.state = &poolState{kind: kind, opts: o}
		return cvCheckF32([]string{"input", "output"}, n.inputs[0], n.outputs[0])
	}
}

func evalPool(n *node) error {
	s := n.state.(*poolState)
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
	rows := batch * win.outH
	if rows == 0 || win.outW == 0 || c == 0 {
		return nil
	}
	s.in, s.out, s.win, s.c = in.F32(), out.F32(), win, c
	s.lo, s.hi = convClamp(o.FusedActivationFunction)
	if parallelWorth(rows * win.outW * c * win.kH * win.kW) {
		parallelRows(s, rows, 1)
	} else {
		s.rows(0, 0, rows)
	}
	s.in, s.out = nil, nil
	return nil
}

// rows computes output rows [r0, r1) (flattened over batch and height).
func (s *poolState) rows(_, r0, r1 int) {
	w := &s.win
	c := s.c
	for r := r0; r < r1; r++ {
		b, oy := r/w.outH, r%w.outH
		y0 := oy*w.sH - w.padT
		ky0, ky1 := max(0, -y0), min(w.kH, w.inH-y0)
		for ox := 0; ox < w.outW; ox++ {
			x0 := ox*w.sW - w.padL
			kx0, kx1 := max(0, -x0), min(w.kW, w.inW-x0)
			o := s.out[(r*w.outW+ox)*c : (r*w.outW+ox+1)*c]
			count := max(ky1-ky0, 0) * max(kx1-kx0, 0)
			first := true
			for ky := ky0; ky < ky1; ky++ {
				base := ((b*w.inH+y0+ky)*w.inW + x0) * c
				for kx := kx0; kx < kx1; kx++ {
					p := s.in[base+kx*c : base+kx*c+c]
					p = p[:len(o)]
					switch {
					case first && s.kind == poolL2:
						for i, v := range p {
							o[i] = v * v
						}
					case first:
						copy(o, p)
					case s.kind == poolAvg:
						for i, v := range p {
							o[i] += v
						}
					case s.kind == poolMax:
						for i, v := range p {
							if v > o[i] {
								o[i] = v
							}
						}
					default:
						for i, v := range p {
							o[i] += v * v
						}
					}
					first = false
				}
			}
			switch {
			case count == 0:
				clear(o)
			case s.kind == poolAvg:
				inv := float32(count)
				for i := range o {
					o[i] /= inv
				}
			case s.kind == poolL2:
				inv := float32(count)
				for i := range o {
					o[i] = float32(math.Sqrt(float64(o[i] / inv)))
				}
			}
			if s.lo != noClampLo || s.hi != noClampHi {
				storeClamped(o, o, s.lo, s.hi)
			}
		}
	}
}
