package interp

import (
	"fmt"

	fb "litequant/core/schema/tflitefb"
)

// Hybrid (dynamic-range) CONV_2D and DEPTHWISE_CONV_2D: FLOAT32 NHWC
// activations, INT8 filters read as they are (hybrid.go has the shared
// arithmetic). As TensorFlow Lite's hybrid convolutions do, each image of
// the batch is quantized whole, with one scale (and zero point) per image:
//
//   - CONV_2D with per-channel filter scales (more than one scale, not all
//     equal) quantizes asymmetrically and gives float(Σ w·(q − z)) ×
//     (channel scale × image scale) + bias; with one scale it quantizes
//     symmetrically and gives float(Σ w·q) × (image scale × filter scale) +
//     bias. Window positions outside the image count as real zeros. Grouped
//     convolution has no hybrid kernel in the runtime, nor here. A filter
//     with several scales that are all equal takes the one-scale path,
//     which reads the tensor's legacy scale: 0 for such a tensor, so the
//     runtime outputs the bias alone, and so does this kernel (checked
//     against the runtime in TestHybridConv).
//   - DEPTHWISE_CONV_2D takes per-channel scales only (the runtime rejects
//     one scale), always quantizes asymmetrically and gives
//     float(Σ w·(q − z)) × image scale × channel scale + bias, multiplied
//     in that order as the runtime's (non-NEON) kernel does.
//
// The fused activation clamps (RELU, RELU6, RELU_N1_TO_1) as in the float
// kernels.

func init() {
	register(fb.BuiltinOperatorCONV_2D, &kernel{match: matchHybridConv, prepare: prepareHybridConv, eval: evalHybridConv})
	register(fb.BuiltinOperatorDEPTHWISE_CONV_2D, &kernel{match: matchHybridConv, prepare: prepareHybridDepthwise, eval: evalHybridDepthwise})
}

func matchHybridConv(n *node) bool {
	return len(n.inputs) >= 2 && isF32(n.inputs[0]) && isI8(n.inputs[1])
}

type hybridConvState struct {
	conv *fb.Conv2DOptionsT
	dw   *fb.DepthwiseConv2DOptionsT
	// perChannel: per-channel scales (asymmetric input); else one scale
	// (symmetric input).
	perChannel bool
	rowSums    []int32 // per output channel, of a constant CONV_2D filter
}

// hybridPerChannel reports whether the filter's scales differ between
// channels (the runtime's test for its per-channel hybrid path), checking
// that there is one per output channel on axis.
func hybridPerChannel(f *Tensor, axis int) (bool, error) {
	if len(f.Scale) <= 1 {
		return false, nil
	}
	if f.QuantAxis != axis || len(f.Scale) != f.Shape[axis] {
		return false, fmt.Errorf("filter %v has %d scales on axis %d, want one per output channel (%d) on axis %d", f, len(f.Scale), f.QuantAxis, f.Shape[axis], axis)
	}
	for _, s := range f.Scale[1:] {
		if s != f.Scale[0] {
			return true, nil
		}
	}
	return false, nil
}

func prepareHybridConv(n *node) error {
	if err := cvIO(n, 2, "input", "filter"); err != nil {
		return err
	}
	o, _ := n.opts.(*fb.Conv2DOptionsT)
	if o == nil {
		o = &fb.Conv2DOptionsT{DilationWFactor: 1, DilationHFactor: 1}
	}
	f := n.inputs[1]
	if err := hybridWeights(f, "filter"); err != nil {
		return err
	}
	if err := cvCheckF32([]string{"bias", "output"}, n.input(2), n.outputs[0]); err != nil {
		return err
	}
	if err := cvCheckRank(f, "filter", 4); err != nil {
		return err
	}
	pc, err := hybridPerChannel(f, 0)
	if err != nil {
		return err
	}
	s := &hybridConvState{conv: o, perChannel: pc}
	if f.IsConst() {
		s.rowSums = rowSumsI8(f.I8(), f.Shape[0], f.NumElements()/max(f.Shape[0], 1))
	}
	n.state = s
	return nil
}

func evalHybridConv(n *node) error {
	s := n.state.(*hybridConvState)
	in, f, bias := n.inputs[0], n.inputs[1], n.input(2)
	if err := cvCheckRank(in, "input", 4); err != nil {
		return err
	}
	batch, inH, inW, inC := in.Shape[0], in.Shape[1], in.Shape[2], in.Shape[3]
	outC, kH, kW, fC := f.Shape[0], f.Shape[1], f.Shape[2], f.Shape[3]
	if fC != inC {
		return unsupportedf("input has %d channels and the filter %d: grouped convolution has no hybrid kernel", inC, fC)
	}
	biasV, err := cvBias(bias, outC)
	if err != nil {
		return err
	}
	o := s.conv
	win, err := newConvWindow(o.Padding, inH, inW, kH, kW, int(o.StrideH), int(o.StrideW), int(o.DilationHFactor), int(o.DilationWFactor))
	if err != nil {
		return err
	}
	out := n.output(0, []int{batch, win.outH, win.outW, outC})
	if out.NumElements() == 0 {
		return nil
	}
	k := kH * kW * inC
	fv := f.I8()
	sums := s.rowSums
	if !f.IsConst() || len(sums) != outC {
		sums = rowSumsI8(fv, outC, k)
	}
	img := inH * inW * inC
	scratch := n.scratch(4*outC + img + k)
	scales := view[float32](scratch[:4*outC])
	q := view[int8](scratch[4*outC : 4*outC+img])
	patch := view[int8](scratch[4*outC+img:])
	iv, ov := in.F32(), out.F32()
	lo, hi := convClamp(o.FusedActivationFunction)
	ws := hybridTensorScale(f)
	for b := 0; b < batch; b++ {
		scale, zp := hybridQuantizeRow(q, iv[b*img:(b+1)*img], s.perChannel)
		for c := range scales {
			if s.perChannel {
				scales[c] = f.Scale[c] * scale
			} else {
				scales[c] = scale * ws
			}
		}
		pad := int8(zp)
		for oy := 0; oy < win.outH; oy++ {
			for ox := 0; ox < win.outW; ox++ {
				hybridPatch(patch, q, &win, inC, oy, ox, pad)
				orow := ov[((b*win.outH+oy)*win.outW+ox)*outC:][:outC]
				for c := range orow {
					acc := dotI8(fv[c*k:(c+1)*k], patch)
					acc -= sums[c] * zp
					v := float32(float32(acc) * scales[c])
					if biasV != nil {
						v += biasV[c]
					}
					orow[c] = v
				}
				if lo != noClampLo || hi != noClampHi {
					storeClamped(orow, orow, lo, hi)
				}
			}
		}
	}
	return nil
}

// hybridPatch writes the receptive field of output pixel (oy, ox) of the
// quantized image q into patch in the filter's (ky, kx, c) order, with pad
// where the window leaves the image (the zero point: a real zero).
func hybridPatch(patch, q []int8, w *convWindow, c, oy, ox int, pad int8) {
	for ky := 0; ky < w.kH; ky++ {
		iy := oy*w.sH - w.padT + ky*w.dH
		for kx := 0; kx < w.kW; kx++ {
			d := patch[(ky*w.kW+kx)*c : (ky*w.kW+kx+1)*c]
			ix := ox*w.sW - w.padL + kx*w.dW
			if iy < 0 || iy >= w.inH || ix < 0 || ix >= w.inW {
				for i := range d {
					d[i] = pad
				}
				continue
			}
			copy(d, q[(iy*w.inW+ix)*c:])
		}
	}
}

// ---------------------------------------------------------------------------
// DEPTHWISE_CONV_2D

func prepareHybridDepthwise(n *node) error {
	if err := cvIO(n, 2, "input", "filter"); err != nil {
		return err
	}
	o, _ := n.opts.(*fb.DepthwiseConv2DOptionsT)
	if o == nil {
		o = &fb.DepthwiseConv2DOptionsT{DilationWFactor: 1, DilationHFactor: 1}
	}
	f := n.inputs[1]
	if err := hybridWeights(f, "filter"); err != nil {
		return err
	}
	if err := cvCheckF32([]string{"bias", "output"}, n.input(2), n.outputs[0]); err != nil {
		return err
	}
	if err := cvCheckRank(f, "filter", 4); err != nil {
		return err
	}
	if f.Shape[0] != 1 {
		return fmt.Errorf("filter shape %v, want [1, height, width, channels]", f.Shape)
	}
	if f.QuantAxis != 3 || len(f.Scale) != f.Shape[3] {
		return fmt.Errorf("filter %v has %d scales on axis %d: the hybrid kernel takes one per output channel (%d) on axis 3", f, len(f.Scale), f.QuantAxis, f.Shape[3])
	}
	n.state = &hybridConvState{dw: o, perChannel: true}
	return nil
}

func evalHybridDepthwise(n *node) error {
	s := n.state.(*hybridConvState)
	in, f, bias := n.inputs[0], n.inputs[1], n.input(2)
	if err := cvCheckRank(in, "input", 4); err != nil {
		return err
	}
	batch, inH, inW, inC := in.Shape[0], in.Shape[1], in.Shape[2], in.Shape[3]
	kH, kW, outC := f.Shape[1], f.Shape[2], f.Shape[3]
	if inC <= 0 || outC%inC != 0 {
		return fmt.Errorf("filter has %d channels, not a multiple of the input's %d", outC, inC)
	}
	mult := outC / inC
	o := s.dw
	if o.DepthMultiplier != 0 && int(o.DepthMultiplier) != mult {
		return fmt.Errorf("depth_multiplier %d disagrees with the shapes (%d input channels, %d filter channels)", o.DepthMultiplier, inC, outC)
	}
	biasV, err := cvBias(bias, outC)
	if err != nil {
		return err
	}
	win, err := newConvWindow(o.Padding, inH, inW, kH, kW, int(o.StrideH), int(o.StrideW), int(o.DilationHFactor), int(o.DilationWFactor))
	if err != nil {
		return err
	}
	out := n.output(0, []int{batch, win.outH, win.outW, outC})
	if out.NumElements() == 0 {
		return nil
	}
	img := inH * inW * inC
	scratch := n.scratch(4*outC + img)
	acc := view[int32](scratch[:4*outC])
	q := view[int8](scratch[4*outC:])
	iv, ov, fv := in.F32(), out.F32(), f.I8()
	lo, hi := convClamp(o.FusedActivationFunction)
	for b := 0; b < batch; b++ {
		scale, zp := hybridAsymmetric(q, iv[b*img:(b+1)*img])
		for oy := 0; oy < win.outH; oy++ {
			for ox := 0; ox < win.outW; ox++ {
				clear(acc)
				for ky := 0; ky < kH; ky++ {
					iy := oy*win.sH - win.padT + ky*win.dH
					if iy < 0 || iy >= inH {
						continue
					}
					for kx := 0; kx < kW; kx++ {
						ix := ox*win.sW - win.padL + kx*win.dW
						if ix < 0 || ix >= inW {
							continue
						}
						ip := q[(iy*inW+ix)*inC : (iy*inW+ix+1)*inC]
						wk := fv[(ky*kW+kx)*outC : (ky*kW+kx+1)*outC]
						for ic, v := range ip {
							x := int32(v) - zp
							for m := 0; m < mult; m++ {
								acc[ic*mult+m] += int32(wk[ic*mult+m]) * x
							}
						}
					}
				}
				orow := ov[((b*win.outH+oy)*win.outW+ox)*outC:][:outC]
				for c := range orow {
					// (sum × image scale) × channel scale, in this order
					// as in the runtime's depthwise kernel.
					v := float32(float32(float32(acc[c])*scale) * f.Scale[c])
					if biasV != nil {
						v += biasV[c]
					}
					orow[c] = v
				}
				if lo != noClampLo || hi != noClampHi {
					storeClamped(orow, orow, lo, hi)
				}
			}
		}
	}
	return nil
}
