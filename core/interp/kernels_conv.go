package interp

import (
	"fmt"

	fb "litequant/core/schema/tflitefb"
	"litequant/core/tflite"
)

// Convolutions: CONV_2D and DEPTHWISE_CONV_2D on float32 NHWC activations
// (TRANSPOSE_CONV is in kernels_tconv.go), and the window geometry and
// operand checks every convolution shares.
//
// CONV_2D runs as a matrix product (gemm.go): 1×1 stride-1 convolutions
// multiply the input, one row per pixel, by the packed filter directly;
// other shapes first gather each output pixel's receptive field into a row
// of an im2col buffer, one block of rows at a time (a block fits in L2, so
// the buffer stays small whatever the image size). Constant filters are
// packed once: at construction, or on the first Invoke when they only
// become constant by folding (FLOAT16 weights behind DEQUANTIZE).
//
// DEPTHWISE_CONV_2D is a direct loop over output rows. In the common 3×3
// multiplier-1 case the filter is stored channel-major and interior pixels
// sum their nine taps in one expression; with stride 1 or 2 each channel
// slides a window of input values in registers along the row, so an output
// loads only the three (stride 1) or six (stride 2) inputs it does not
// share with its left neighbour. Border pixels and other filters take a
// general path that accumulates tap by tap.
//
// Fused activations follow TensorFlow Lite's float kernels: RELU, RELU6 and
// RELU_N1_TO_1 clamp; TANH and SIGN_BIT are ignored by those kernels (the
// real runtime leaves the result as is), and so are they here.

func init() {
	register(fb.BuiltinOperatorCONV_2D, &kernel{prepare: prepareConv, eval: evalConv})
	register(fb.BuiltinOperatorDEPTHWISE_CONV_2D, &kernel{prepare: prepareDepthwise, eval: evalDepthwise})
}

// convWindow is the geometry of a 2-D sliding window (convolution or
// pooling) along height and width.
type convWindow struct {
	inH, inW   int
	outH, outW int
	kH, kW     int
	sH, sW     int // strides
	dH, dW     int // dilations
	padT, padL int // padding before the first row / column
}

// convOutSize returns TensorFlow Lite's output size and leading padding of
// one spatial dimension (ComputeOutSize, ComputePaddingWithOffset): SAME
// gives ceil(in/stride) outputs and splits the padding it needs with the odd
// element after; VALID gives the positions where the dilated filter fits.
func convOutSize(padding fb.Padding, in, filter, stride, dilation int) (out, before int, err error) {
	if stride <= 0 || dilation <= 0 {
		return 0, 0, fmt.Errorf("stride %d and dilation %d must be positive", stride, dilation)
	}
	if filter <= 0 {
		return 0, 0, fmt.Errorf("filter size %d must be positive", filter)
	}
	eff := (filter-1)*dilation + 1
	switch padding {
	case fb.PaddingSAME:
		out = (in + stride - 1) / stride
	case fb.PaddingVALID:
		out = (in - eff + stride) / stride
	default:
		return 0, 0, unsupportedf("padding %d", padding)
	}
	if out < 0 {
		return 0, 0, fmt.Errorf("input size %d is smaller than the filter's extent %d", in, eff)
	}
	total := max((out-1)*stride+eff-in, 0)
	return out, total / 2, nil
}

// newConvWindow computes the geometry of a window over an NHWC input.
func newConvWindow(padding fb.Padding, inH, inW, kH, kW, sH, sW, dH, dW int) (convWindow, error) {
	w := convWindow{inH: inH, inW: inW, kH: kH, kW: kW, sH: sH, sW: sW, dH: dH, dW: dW}
	var err error
	if w.outH, w.padT, err = convOutSize(padding, inH, kH, sH, dH); err != nil {
		return w, err
	}
	if w.outW, w.padL, err = convOutSize(padding, inW, kW, sW, dW); err != nil {
		return w, err
	}
	return w, nil
}

// validOut returns the output positions [o0, o1) along one dimension whose
// input position o*stride+off lies in [0, in), clipped to [0, out).
func validOut(off, stride, in, out int) (o0, o1 int) {
	if off < 0 {
		o0 = (-off + stride - 1) / stride
	}
	if in-1-off < 0 {
		return o0, o0
	}
	o1 = min((in-1-off)/stride+1, out)
	return min(o0, o1), o1
}

// convClamp returns the clamp of a fused activation as TensorFlow Lite's
// float convolution and matmul kernels apply it (CalculateActivationRange):
// RELU, RELU6 and RELU_N1_TO_1 clamp, anything else leaves values as they
// are.
func convClamp(act fb.ActivationFunctionType) (lo, hi float32) {
	switch act {
	case fb.ActivationFunctionTypeRELU, fb.ActivationFunctionTypeRELU6, fb.ActivationFunctionTypeRELU_N1_TO_1:
		return activationRange(act)
	}
	return noClampLo, noClampHi
}

// cvCheckF32 checks that the tensors present are FLOAT32; names[i] names
// ts[i] in the error.
func cvCheckF32(names []string, ts ...*Tensor) error {
	for i, t := range ts {
		if t != nil && t.Type != fb.TensorTypeFLOAT32 {
			return unsupportedf("%s of type %s (float kernels take FLOAT32)", names[i], tflite.TypeName(t.Type))
		}
	}
	return nil
}

func cvCheckRank(t *Tensor, what string, rank int) error {
	if len(t.Shape) != rank {
		return fmt.Errorf("%s must have rank %d, got shape %v", what, rank, t.Shape)
	}
	return nil
}

// cvBias checks an optional bias (n elements) and returns its values, or nil.
func cvBias(bias *Tensor, n int) ([]float32, error) {
	if bias == nil {
		return nil, nil
	}
	if bias.NumElements() != n {
		return nil, fmt.Errorf("bias has %d elements (shape %v), want %d", bias.NumElements(), bias.Shape, n)
	}
	return bias.F32(), nil
}

// cvIO checks the operand count: at least min inputs with the first
// required ones present, and one output.
func cvIO(n *node, min int, names ...string) error {
	if len(n.inputs) < min {
		return fmt.Errorf("has %d inputs, want at least %d", len(n.inputs), min)
	}
	for i, name := range names {
		if n.inputs[i] == nil {
			return fmt.Errorf("the %s (input %d) is missing", name, i)
		}
	}
	if len(n.outputs) != 1 {
		return fmt.Errorf("has %d outputs, want 1", len(n.outputs))
	}
	return nil
}

// cvPrepare checks a float convolution's operands (input, filter, optional
// bias; one output) and the filter's rank, and returns them.
func cvPrepare(n *node) (in, filt, bias *Tensor, err error) {
	if err := cvIO(n, 2, "input", "filter"); err != nil {
		return nil, nil, nil, err
	}
	in, filt, bias = n.inputs[0], n.inputs[1], n.input(2)
	if err := cvCheckF32([]string{"input", "filter", "bias", "output"}, in, filt, bias, n.outputs[0]); err != nil {
		return nil, nil, nil, err
	}
	return in, filt, bias, cvCheckRank(filt, "filter", 4)
}

// cvRank4 checks that the input and filter of an evaluation are NHWC.
func cvRank4(in, filt *Tensor) error {
	if err := cvCheckRank(in, "input", 4); err != nil {
		return err
	}
	return cvCheckRank(filt, "filter", 4)
}

// ---------------------------------------------------------------------------
// CONV_2D

type convState struct {
	opts *fb.Conv2DOptionsT
	// packed holds the filter split in groups and packed, when constant.
	packed []packedB
	tmp    []packedB // a non-constant filter, packed in scratch per call

	// The current evaluation, read by rows (possibly on several goroutines).
	in, out   []float32
	win       convWindow
	inC, outC int
	groups    int
	cinG      int // input channels per group (the filter's)
	coutG     int // output channels per group
	k         int // GEMM depth: kH*kW*cinG
	weights   []packedB
	bias      []float32
	lo, hi    float32
	direct    bool      // 1×1, stride 1: the input is the GEMM's A
	buf       []float32 // im2col blocks, blockRows*k per part
	blockRows int
	par       parJob
}

func (s *convState) job() *parJob { return &s.par }

// optsOr returns the node's options of type *T, or def (the schema's
// defaults; a stride of 0 is then rejected on evaluation).
func optsOr[T any](n *node, def *T) *T {
	if o, _ := n.opts.(*T); o != nil {
		return o
	}
	return def
}

// conv2DDefaults and depthwiseDefaults are the schema's option defaults.
func conv2DDefaults() *fb.Conv2DOptionsT {
	return &fb.Conv2DOptionsT{DilationWFactor: 1, DilationHFactor: 1}
}

func depthwiseDefaults() *fb.DepthwiseConv2DOptionsT {
	return &fb.DepthwiseConv2DOptionsT{DilationWFactor: 1, DilationHFactor: 1}
}

func prepareConv(n *node) error {
	s := &convState{opts: optsOr(n, conv2DDefaults())}
	n.state = s
	in, filt, _, err := cvPrepare(n)
	if err != nil {
		return err
	}
	if filt.IsConst() && len(in.Shape) == 4 && filt.Shape[3] > 0 && in.Shape[3]%filt.Shape[3] == 0 && in.Shape[3] > 0 {
		return s.packFilter(filt, in.Shape[3]/filt.Shape[3])
	}
	return nil
}

// packFilter packs a constant OHWI filter split in groups.
func (s *convState) packFilter(filt *Tensor, groups int) error {
	o, kh, kw, ci := filt.Shape[0], filt.Shape[1], filt.Shape[2], filt.Shape[3]
	if o%groups != 0 {
		return fmt.Errorf("%d output channels do not split in %d groups", o, groups)
	}
	k, og := kh*kw*ci, o/groups
	s.packed = make([]packedB, groups)
	packGroups(s.packed, make([]float32, groups*packedSize(k, og)), filt.F32(), k, og)
	return nil
}

// packGroups packs each group's og×k block of an OHWI filter w into ps,
// using consecutive packedSize(k, og) parts of buf.
func packGroups(ps []packedB, buf, w []float32, k, og int) {
	sz := packedSize(k, og)
	for g := range ps {
		ps[g].pack(buf[g*sz:(g+1)*sz], w[g*og*k:], k, og, 1, k)
	}
}

func evalConv(n *node) error {
	s := n.state.(*convState)
	in, filt, bias := n.inputs[0], n.inputs[1], n.input(2)
	if err := cvRank4(in, filt); err != nil {
		return err
	}
	batch, inH, inW, inC := in.Shape[0], in.Shape[1], in.Shape[2], in.Shape[3]
	outC, kH, kW, cinG := filt.Shape[0], filt.Shape[1], filt.Shape[2], filt.Shape[3]
	if cinG <= 0 || inC%cinG != 0 {
		return fmt.Errorf("input has %d channels, not a multiple of the filter's %d", inC, cinG)
	}
	groups := inC / cinG
	if outC%groups != 0 {
		return fmt.Errorf("%d output channels do not split in %d groups (input channels %d, filter channels %d)", outC, groups, inC, cinG)
	}
	biasV, err := cvBias(bias, outC)
	if err != nil {
		return err
	}
	o := s.opts
	win, err := newConvWindow(o.Padding, inH, inW, kH, kW, int(o.StrideH), int(o.StrideW), int(o.DilationHFactor), int(o.DilationWFactor))
	if err != nil {
		return err
	}
	out := n.output(0, []int{batch, win.outH, win.outW, outC})
	m := batch * win.outH * win.outW
	if m == 0 || outC == 0 {
		return nil
	}

	s.in, s.out, s.win, s.bias = in.F32(), out.F32(), win, biasV
	s.inC, s.outC, s.groups, s.cinG, s.coutG = inC, outC, groups, cinG, outC/groups
	s.k = kH * kW * cinG
	s.lo, s.hi = convClamp(o.FusedActivationFunction)
	s.direct = kH == 1 && kW == 1 && win.sH == 1 && win.sW == 1 && win.outH == inH && win.outW == inW

	threads := 1
	if parallelWorth(m * outC * s.k) {
		threads = poolThreads()
	}
	s.blockRows = max(gemmMR, gemmBlockBytes/(4*max(s.k, 1))/gemmMR*gemmMR)
	im2col := 0
	if !s.direct {
		im2col = threads * s.blockRows * s.k
	}
	if filt.IsConst() {
		if len(s.packed) != groups {
			if err := s.packFilter(filt, groups); err != nil {
				return err
			}
		}
		s.weights = s.packed
		s.buf = n.scratchF32(im2col)
	} else {
		sz := packedSize(s.k, s.coutG)
		scratch := n.scratchF32(im2col + groups*sz)
		s.buf = scratch[:im2col]
		if cap(s.tmp) < groups {
			s.tmp = make([]packedB, groups)
		}
		s.weights = s.tmp[:groups]
		packGroups(s.weights, scratch[im2col:], filt.F32(), s.k, s.coutG)
	}
	if threads > 1 {
		parallelRows(s, m, gemmMR)
	} else {
		s.rows(0, 0, m)
	}
	s.in, s.out, s.bias, s.buf = nil, nil, nil, nil
	return nil
}

// rows computes output pixels [r0, r1) (flattened over batch, height and
// width).
func (s *convState) rows(part, r0, r1 int) {
	if s.direct {
		for g := 0; g < s.groups; g++ {
			gemmRows(s.in[g*s.cinG:], s.inC, &s.weights[g], groupBias(s.bias, g, s.coutG), s.out[g*s.coutG:], s.outC, r0, r1, s.lo, s.hi)
		}
		return
	}
	buf := s.buf[part*s.blockRows*s.k : (part+1)*s.blockRows*s.k]
	for c0 := r0; c0 < r1; c0 += s.blockRows {
		c1 := min(c0+s.blockRows, r1)
		for g := 0; g < s.groups; g++ {
			s.im2col(buf, c0, c1, g)
			gemmRows(buf, s.k, &s.weights[g], groupBias(s.bias, g, s.coutG), s.out[c0*s.outC+g*s.coutG:], s.outC, 0, c1-c0, s.lo, s.hi)
		}
	}
}

func groupBias(bias []float32, g, n int) []float32 {
	if bias == nil {
		return nil
	}
	return bias[g*n : (g+1)*n]
}

// im2col writes, for output pixels [r0, r1), the receptive field of group
// g's input channels into consecutive rows of buf (k values each, in the
// filter's (ky, kx, c) order; zeros where the window leaves the image).
func (s *convState) im2col(buf []float32, r0, r1, g int) {
	w := &s.win
	c, cg := s.inC, s.cinG
	rowLen := w.kW * cg
	// A whole filter row is contiguous in the input when the dilation is 1
	// and the group covers all channels.
	contiguous := w.dW == 1 && cg == c
	ox := r0 % w.outW
	oy := r0 / w.outW % w.outH
	b := r0 / (w.outW * w.outH)
	for r := r0; r < r1; r++ {
		dst := buf[(r-r0)*s.k : (r-r0+1)*s.k]
		ix0 := ox*w.sW - w.padL
		for ky := 0; ky < w.kH; ky++ {
			d := dst[ky*rowLen : (ky+1)*rowLen]
			iy := oy*w.sH - w.padT + ky*w.dH
			if iy < 0 || iy >= w.inH {
				clear(d)
				continue
			}
			src := s.in[(b*w.inH+iy)*w.inW*c : (b*w.inH+iy+1)*w.inW*c]
			if contiguous && ix0 >= 0 && ix0+w.kW <= w.inW {
				copy(d, src[ix0*c:(ix0+w.kW)*c])
				continue
			}
			for kx := 0; kx < w.kW; kx++ {
				dd := d[kx*cg : (kx+1)*cg]
				ix := ix0 + kx*w.dW
				if ix < 0 || ix >= w.inW {
					clear(dd)
					continue
				}
				copy(dd, src[ix*c+g*cg:ix*c+g*cg+cg])
			}
		}
		if ox++; ox == w.outW {
			ox = 0
			if oy++; oy == w.outH {
				oy = 0
				b++
			}
		}
	}
}

// ---------------------------------------------------------------------------
// DEPTHWISE_CONV_2D

type dwState struct {
	opts *fb.DepthwiseConv2DOptionsT
	// wt is a constant 3×3 multiplier-1 filter stored channel-major: the
	// nine taps of channel c at wt[9c:9c+9].
	wt    []float32
	zeros []float32 // the bias when there is none

	// The current evaluation.
	in, out, w []float32
	wtCur      []float32
	bias       []float32
	win        convWindow
	inC, outC  int
	mult       int
	lo, hi     float32
	par        parJob
}

func (s *dwState) job() *parJob { return &s.par }

func prepareDepthwise(n *node) error {
	s := &dwState{opts: optsOr(n, depthwiseDefaults())}
	n.state = s
	_, filt, _, err := cvPrepare(n)
	if err != nil {
		return err
	}
	if filt.Shape[0] != 1 {
		return fmt.Errorf("filter shape %v, want [1, height, width, channels]", filt.Shape)
	}
	if filt.IsConst() && filt.Shape[1] == 3 && filt.Shape[2] == 3 {
		s.wt = transpose3x3(make([]float32, 9*filt.Shape[3]), filt.F32())
	}
	return nil
}

// transpose3x3 stores a 3×3 filter w (tap-major, [9][c]) channel-major in
// dst ([c][9]) and returns dst.
func transpose3x3[T any](dst, w []T) []T {
	c := len(w) / 9
	for t := 0; t < 9; t++ {
		for ch := 0; ch < c; ch++ {
			dst[9*ch+t] = w[t*c+ch]
		}
	}
	return dst
}

func evalDepthwise(n *node) error {
	s := n.state.(*dwState)
	in, filt, bias := n.inputs[0], n.inputs[1], n.input(2)
	if err := cvRank4(in, filt); err != nil {
		return err
	}
	batch, inH, inW, inC := in.Shape[0], in.Shape[1], in.Shape[2], in.Shape[3]
	kH, kW, outC := filt.Shape[1], filt.Shape[2], filt.Shape[3]
	if filt.Shape[0] != 1 {
		return fmt.Errorf("filter shape %v, want [1, height, width, channels]", filt.Shape)
	}
	if inC <= 0 || outC%inC != 0 {
		return fmt.Errorf("filter has %d channels, not a multiple of the input's %d", outC, inC)
	}
	mult := outC / inC
	o := s.opts
	if o.DepthMultiplier != 0 && int(o.DepthMultiplier) != mult {
		return fmt.Errorf("depth_multiplier %d disagrees with the shapes (%d input channels, %d filter channels)", o.DepthMultiplier, inC, outC)
	}
	biasV, err := cvBias(bias, outC)
	if err != nil {
		return err
	}
	if biasV == nil {
		if len(s.zeros) != outC {
			s.zeros = make([]float32, outC)
		}
		biasV = s.zeros
	}
	win, err := newConvWindow(o.Padding, inH, inW, kH, kW, int(o.StrideH), int(o.StrideW), int(o.DilationHFactor), int(o.DilationWFactor))
	if err != nil {
		return err
	}
	out := n.output(0, []int{batch, win.outH, win.outW, outC})
	rows := batch * win.outH
	if rows == 0 || win.outW == 0 || outC == 0 {
		return nil
	}
	s.in, s.out, s.w, s.bias, s.win = in.F32(), out.F32(), filt.F32(), biasV, win
	s.inC, s.outC, s.mult = inC, outC, mult
	s.lo, s.hi = convClamp(o.FusedActivationFunction)
	s.wtCur = nil
	if kH == 3 && kW == 3 && mult == 1 && win.dW == 1 {
		if filt.IsConst() {
			if len(s.wt) != 9*outC {
				s.wt = transpose3x3(make([]float32, 9*outC), s.w)
			}
			s.wtCur = s.wt
		} else {
			s.wtCur = transpose3x3(n.scratchF32(9*outC), s.w)
		}
	}
	if parallelWorth(batch * win.outH * win.outW * outC * kH * kW) {
		parallelRows(s, rows, 1)
	} else {
		s.rows(0, 0, rows)
	}
	s.in, s.out, s.w, s.bias, s.wtCur = nil, nil, nil, nil, nil
	return nil
}

// rows computes output rows [r0, r1) (flattened over batch and height).
func (s *dwState) rows(_, r0, r1 int) {
	w := &s.win
	for r := r0; r < r1; r++ {
		b, oy := r/w.outH, r%w.outH
		orow := s.out[r*w.outW*s.outC : (r+1)*w.outW*s.outC]
		ox0, ox1 := 0, 0 // the interior, computed by the fast path
		iy0 := oy*w.sH - w.padT
		if s.wtCur != nil && iy0 >= 0 && iy0+2*w.dH < w.inH {
			ox0, ox1 = validOut(-w.padL, w.sW, w.inW-2, w.outW)
			if ox0 < ox1 {
				s.interior3x3(orow, b, iy0, ox0, ox1)
			}
		}
		for ox := 0; ox < w.outW; ox++ {
			if ox == ox0 && ox0 < ox1 {
				ox = ox1 - 1
				continue
			}
			s.pixel(orow[ox*s.outC:(ox+1)*s.outC], b, oy, ox)
		}
		if s.lo != noClampLo || s.hi != noClampHi {
			storeClamped(orow, orow, s.lo, s.hi)
		}
	}
}

// pixel computes one output pixel (before the activation), any filter.
func (s *dwState) pixel(o []float32, b, oy, ox int) {
	w := &s.win
	c, m := s.inC, s.mult
	copy(o, s.bias)
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
			ip := s.in[((b*w.inH+iy)*w.inW+ix)*c : ((b*w.inH+iy)*w.inW+ix+1)*c]
			wk := s.w[(ky*w.kW+kx)*s.outC : (ky*w.kW+kx+1)*s.outC]
			if m == 1 {
				wk = wk[:len(ip)]
				o := o[:len(ip)]
				for ch, v := range ip {
					o[ch] += v * wk[ch]
				}
				continue
			}
			for ch, v := range ip {
				oo := o[ch*m : ch*m+m]
				ww := wk[ch*m : ch*m+m]
				for j := range oo {
					oo[j] += v * ww[j]
				}
			}
		}
	}
}

// interior3x3 computes output pixels [ox0, ox1) of one row of a 3×3
// multiplier-1 filter with dilation 1 across the row (whose taps all lie
// inside the image); the row's first input row is iy0.
func (s *dwState) interior3x3(orow []float32, b, iy0, ox0, ox1 int) {
	w := &s.win
	c := s.inC
	rs := w.inW * c
	dh := w.dH * rs
	base := (b*w.inH + iy0) * rs
	r0 := s.in[base : base+rs]
	r1 := s.in[base+dh : base+dh+rs]
	r2 := s.in[base+2*dh : base+2*dh+rs]
	bias := s.bias[:c]
	wt := s.wtCur[:9*c]
	if w.sW == 1 || w.sW == 2 {
		// The output columns and the input columns they read.
		x0 := (w.sW*ox0 - w.padL) * c
		x1 := x0 + (w.sW*(ox1-ox0-1)+3)*c
		o := orow[ox0*c : ox1*c]
		if w.sW == 1 {
			interior3x3s1(o, r0[x0:x1], r1[x0:x1], r2[x0:x1], wt, bias)
		} else {
			interior3x3s2(o, r0[x0:x1], r1[x0:x1], r2[x0:x1], wt, bias)
		}
		return
	}
	for ox := ox0; ox < ox1; ox++ {
		x := (ox*w.sW - w.padL) * c
		o := orow[ox*c : ox*c+c]
		a0, a1, a2 := r0[x:x+c], r0[x+c:x+2*c], r0[x+2*c:x+3*c]
		b0, b1, b2 := r1[x:x+c], r1[x+c:x+2*c], r1[x+2*c:x+3*c]
		c0, c1, c2 := r2[x:x+c], r2[x+c:x+2*c], r2[x+2*c:x+3*c]
		n := len(o)
		a0, a1, a2, b0, b1, b2, c0, c1, c2 = a0[:n], a1[:n], a2[:n], b0[:n], b1[:n], b2[:n], c0[:n], c1[:n], c2[:n]
		bs := bias[:n]
		for ch := range o {
			t := (*[9]float32)(wt[9*ch:])
			o[ch] = bs[ch] + (a0[ch]*t[0] + a1[ch]*t[1] + a2[ch]*t[2]) + (b0[ch]*t[3] + b1[ch]*t[4] + b2[ch]*t[5]) +
				(c0[ch]*t[6] + c1[ch]*t[7] + c2[ch]*t[8])
		}
	}
}

// interior3x3s1 is interior3x3 for stride 1 on the output columns orow
// and the input columns r0, r1, r2 they read (c = len(bias) channels
// each): channel by channel, it slides a 3×3 window of inputs along the
// row, so each output loads three new inputs and reuses six.
func interior3x3s1(orow, r0, r1, r2, wt, bias []float32) {
	c := len(bias)
	for ch := 0; ch < c; ch++ {
		w0, w1, w2, w3, w4, w5, w6, w7, w8 := taps9(wt, ch)
		bv, i := bias[ch], ch
		a0, b0, c0 := r0[i], r1[i], r2[i]
		a1, b1, c1 := r0[i+c], r1[i+c], r2[i+c]
		o := ch
		// Two outputs per iteration (loop jumps are costly under js/wasm).
		for ; o+c < len(orow); o += 2 * c {
			i2, i3 := i+2*c, i+3*c
			a2, b2, c2 := r0[i2], r1[i2], r2[i2]
			a3, b3, c3 := r0[i3], r1[i3], r2[i3]
			orow[o] = bv + (a0*w0 + a1*w1 + a2*w2) + (b0*w3 + b1*w4 + b2*w5) + (c0*w6 + c1*w7 + c2*w8)
			orow[o+c] = bv + (a1*w0 + a2*w1 + a3*w2) + (b1*w3 + b2*w4 + b3*w5) + (c1*w6 + c2*w7 + c3*w8)
			a0, b0, c0 = a2, b2, c2
			a1, b1, c1 = a3, b3, c3
			i += 2 * c
		}
		if o < len(orow) {
			i2 := i + 2*c
			orow[o] = bv + (a0*w0 + a1*w1 + r0[i2]*w2) + (b0*w3 + b1*w4 + r1[i2]*w5) + (c0*w6 + c1*w7 + r2[i2]*w8)
		}
	}
}

// interior3x3s2 is interior3x3s1 for stride 2, with one input column
// shared by neighbouring outputs.
func interior3x3s2(orow, r0, r1, r2, wt, bias []float32) {
	c := len(bias)
	for ch := 0; ch < c; ch++ {
		w0, w1, w2, w3, w4, w5, w6, w7, w8 := taps9(wt, ch)
		bv, i := bias[ch], ch
		a0, b0, c0 := r0[i], r1[i], r2[i]
		for o := ch; o < len(orow); o += c {
			i1, i2 := i+c, i+2*c
			a1, b1, c1 := r0[i1], r1[i1], r2[i1]
			a2, b2, c2 := r0[i2], r1[i2], r2[i2]
			orow[o] = bv + (a0*w0 + a1*w1 + a2*w2) + (b0*w3 + b1*w4 + b2*w5) + (c0*w6 + c1*w7 + c2*w8)
			a0, b0, c0 = a2, b2, c2
			i = i2
		}
	}
}

// taps9 returns channel ch's nine taps of a channel-major 3×3 filter.
func taps9(wt []float32, ch int) (w0, w1, w2, w3, w4, w5, w6, w7, w8 float32) {
	t := (*[9]float32)(wt[9*ch:])
	return t[0], t[1], t[2], t[3], t[4], t[5], t[6], t[7], t[8]
}
