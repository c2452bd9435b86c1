package interp

import (
	"fmt"

	fb "litequant/core/schema/tflitefb"
	"litequant/core/tflite"
)

// TRANSPOSE_CONV on float32 NHWC activations: the input times the filter
// (one column per output channel and filter tap), the products scattered
// into the output (col2im). Geometry and operand checks are shared with
// the forward convolutions (kernels_conv.go).

func init() {
	register(fb.BuiltinOperatorTRANSPOSE_CONV, &kernel{prepare: prepareTransposeConv, eval: evalTransposeConv})
}

type tconvState struct {
	opts   *fb.TransposeConvOptionsT
	packed *packedB // the filter as I × (kH*kW*O), when constant
	tmp    packedB
	gemm   gemmOp
}

func prepareTransposeConv(n *node) error {
	if err := cvIO(n, 3, "output shape", "filter", "input"); err != nil {
		return err
	}
	o, _ := n.opts.(*fb.TransposeConvOptionsT)
	if o == nil {
		o = &fb.TransposeConvOptionsT{}
	}
	s := &tconvState{opts: o}
	n.state = s
	shape, filt, in, bias := n.inputs[0], n.inputs[1], n.inputs[2], n.input(3)
	if shape.Type != fb.TensorTypeINT32 {
		return unsupportedf("output shape of type %s (want INT32)", tflite.TypeName(shape.Type))
	}
	if err := cvCheckF32([]string{"filter", "input", "bias", "output"}, filt, in, bias, n.outputs[0]); err != nil {
		return err
	}
	if err := cvCheckRank(filt, "filter", 4); err != nil {
		return err
	}
	if filt.IsConst() {
		ci := filt.Shape[3]
		cols := filt.Shape[0] * filt.Shape[1] * filt.Shape[2]
		s.packed = &packedB{}
		packTransposeFilter(s.packed, make([]float32, filt.NumElements()), make([]float32, packedSize(ci, cols)), filt)
	}
	return nil
}

// packTransposeFilter packs an [O, kH, kW, I] filter into dst as the
// I × (kH*kW*O) matrix whose column (ky*kW+kx)*O+o holds tap (ky, kx) of
// output channel o; tmp must hold the filter's element count and dst
// packedSize(I, kH*kW*O) values.
func packTransposeFilter(p *packedB, tmp, dst []float32, filt *Tensor) {
	o, kh, kw, ci := filt.Shape[0], filt.Shape[1], filt.Shape[2], filt.Shape[3]
	w := filt.F32()
	cols := kh * kw * o
	t := tmp[:cols*ci] // [(ky, kx, o)][i]
	for oc := 0; oc < o; oc++ {
		for tap := 0; tap < kh*kw; tap++ {
			copy(t[(tap*o+oc)*ci:(tap*o+oc+1)*ci], w[(oc*kh*kw+tap)*ci:(oc*kh*kw+tap+1)*ci])
		}
	}
	p.pack(dst, t, ci, cols, 1, ci)
}

// tconvBlockBytes bounds the product block scattered at once.
const tconvBlockBytes = 256 << 10

func evalTransposeConv(n *node) error {
	s := n.state.(*tconvState)
	shapeT, filt, in, bias := n.inputs[0], n.inputs[1], n.inputs[2], n.input(3)
	oshape, err := tconvOutShape(shapeT)
	if err != nil {
		return err
	}
	if err := cvRank4(in, filt); err != nil {
		return err
	}
	sv := shapeT.I32()
	batch, inH, inW, inC := in.Shape[0], in.Shape[1], in.Shape[2], in.Shape[3]
	outC, kH, kW := filt.Shape[0], filt.Shape[1], filt.Shape[2]
	if filt.Shape[3] != inC {
		return fmt.Errorf("filter shape %v does not take %d input channels", filt.Shape, inC)
	}
	if oshape[0] != batch || oshape[3] != outC {
		return fmt.Errorf("output shape %v does not match the input's batch %d and the filter's %d channels", sv, batch, outC)
	}
	biasV, err := cvBias(bias, outC)
	if err != nil {
		return err
	}
	o := s.opts
	outH, outW := oshape[1], oshape[2]
	// TensorFlow Lite pads as a forward convolution over the output would.
	_, padT, err := convOutSize(o.Padding, outH, kH, int(o.StrideH), 1)
	if err != nil {
		return err
	}
	_, padL, err := convOutSize(o.Padding, outW, kW, int(o.StrideW), 1)
	if err != nil {
		return err
	}
	sH, sW := int(o.StrideH), int(o.StrideW)
	out := n.output(0, oshape[:])
	ov := out.F32()
	// Start from the bias, scatter-add the products, then clamp.
	for p := 0; p < len(ov); p += max(outC, 1) {
		if biasV != nil {
			copy(ov[p:p+outC], biasV)
		} else {
			clear(ov[p : p+outC])
		}
	}
	m := batch * inH * inW
	cols := kH * kW * outC
	if m == 0 || cols == 0 || len(ov) == 0 {
		return nil
	}
	block := max(1, tconvBlockBytes/(4*cols))
	block = min(block, m)
	var wp *packedB
	var col []float32
	if filt.IsConst() && (s.packed == nil || s.packed.k != inC || s.packed.n != cols) {
		s.packed = &packedB{} // constant only since folding
		packTransposeFilter(s.packed, make([]float32, filt.NumElements()), make([]float32, packedSize(inC, cols)), filt)
	}
	if filt.IsConst() {
		wp = s.packed
		col = n.scratchF32(block * cols)
	} else {
		fe := filt.NumElements()
		scratch := n.scratchF32(block*cols + fe + packedSize(inC, cols))
		col = scratch[:block*cols]
		packTransposeFilter(&s.tmp, scratch[block*cols:block*cols+fe], scratch[block*cols+fe:], filt)
		wp = &s.tmp
	}
	iv := in.F32()
	g := &s.gemm
	for r0 := 0; r0 < m; r0 += block {
		r1 := min(r0+block, m)
		g.set(r1-r0, iv[r0*inC:], inC, wp, nil, col, cols, noClampLo, noClampHi)
		g.run()
		for r := r0; r < r1; r++ {
			b, iy, ix := r/(inH*inW), r/inW%inH, r%inW
			cr := col[(r-r0)*cols : (r-r0+1)*cols]
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
					dst := ov[((b*outH+oy)*outW+ox)*outC : ((b*outH+oy)*outW+ox+1)*outC]
					src := cr[(ky*kW+kx)*outC : (ky*kW+kx+1)*outC]
					src = src[:len(dst)]
					for c, v := range src {
						dst[c] += v
					}
				}
			}
		}
	}
	g.release()
	lo, hi := convClamp(o.FusedActivationFunction)
	if lo != noClampLo || hi != noClampHi {
		storeClamped(ov, ov, lo, hi)
	}
	return nil
}

// tconvOutShape reads TRANSPOSE_CONV's output shape operand.
func tconvOutShape(t *Tensor) ([4]int, error) {
	var oshape [4]int
	if t.NumElements() != 4 || t.Type != fb.TensorTypeINT32 {
		return oshape, fmt.Errorf("output shape must be 4 INT32 values, got %v", t)
	}
	for i, v := range t.I32() {
		if oshape[i] = int(v); v < 0 {
			return oshape, fmt.Errorf("output shape %v has a negative dimension", t.I32())
		}
	}
	return oshape, nil
}
