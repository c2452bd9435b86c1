package interp

import (
	"fmt"

	fb "litequant/core/schema/tflitefb"
)

// FULLY_CONNECTED and BATCH_MATMUL on float32, as matrix products
// (gemm.go). Constant right-hand operands (FULLY_CONNECTED weights, a
// constant BATCH_MATMUL rhs) are packed once; others are packed into
// scratch memory on every call.

func init() {
	register(fb.BuiltinOperatorFULLY_CONNECTED, &kernel{prepare: prepareFullyConnected, eval: evalFullyConnected})
	register(fb.BuiltinOperatorBATCH_MATMUL, &kernel{prepare: prepareBatchMatMul, eval: evalBatchMatMul})
}

// ---------------------------------------------------------------------------
// FULLY_CONNECTED

type fcState struct {
	opts   *fb.FullyConnectedOptionsT
	packed *packedB // the constant weights, transposed and packed
	tmp    packedB
	gemm   gemmOp
}

// fcOptions checks a FULLY_CONNECTED's operand count and options (the
// weights format and fused activations TensorFlow Lite accepts) and
// returns the options.
func fcOptions(n *node) (*fb.FullyConnectedOptionsT, error) {
	if err := cvIO(n, 2, "input", "weights"); err != nil {
		return nil, err
	}
	o := optsOr(n, &fb.FullyConnectedOptionsT{})
	if o.WeightsFormat != fb.FullyConnectedOptionsWeightsFormatDEFAULT {
		return nil, unsupportedf("weights format %s", o.WeightsFormat)
	}
	switch o.FusedActivationFunction {
	case fb.ActivationFunctionTypeNONE, fb.ActivationFunctionTypeRELU, fb.ActivationFunctionTypeRELU_N1_TO_1, fb.ActivationFunctionTypeRELU6:
	default:
		// TensorFlow Lite refuses the others here too.
		return nil, fmt.Errorf("fused activation %s is not allowed (NONE, RELU, RELU_N1_TO_1 or RELU6)", o.FusedActivationFunction)
	}
	return o, nil
}

func prepareFullyConnected(n *node) error {
	o, err := fcOptions(n)
	if err != nil {
		return err
	}
	s := &fcState{opts: o}
	n.state = s
	in, w, bias := n.inputs[0], n.inputs[1], n.input(2)
	if err := cvCheckF32([]string{"input", "weights", "bias", "output"}, in, w, bias, n.outputs[0]); err != nil {
		return err
	}
	if err := cvCheckRank(w, "weights", 2); err != nil {
		return err
	}
	if w.IsConst() {
		s.packed = newPackedB(w.F32(), w.Shape[1], w.Shape[0], 1, w.Shape[1])
	}
	return nil
}

func evalFullyConnected(n *node) error {
	s := n.state.(*fcState)
	in, w, bias := n.inputs[0], n.inputs[1], n.input(2)
	if err := cvCheckRank(w, "weights", 2); err != nil {
		return err
	}
	units, depth := w.Shape[0], w.Shape[1]
	elems := in.NumElements()
	if depth <= 0 {
		return fmt.Errorf("weights shape %v has no input depth", w.Shape)
	}
	if elems%depth != 0 {
		return fmt.Errorf("input shape %v does not split in rows of %d (weights %v)", in.Shape, depth, w.Shape)
	}
	batch := elems / depth
	biasV, err := cvBias(bias, units)
	if err != nil {
		return err
	}
	var out *Tensor
	if s.opts.KeepNumDims {
		r := len(in.Shape)
		if r == 0 || in.Shape[r-1] != depth {
			return fmt.Errorf("keep_num_dims needs the input's last dimension (shape %v) to be the weights' depth %d", in.Shape, depth)
		}
		var shape [8]int
		if r > len(shape) {
			return unsupportedf("keep_num_dims with input rank %d", r)
		}
		copy(shape[:], in.Shape)
		shape[r-1] = units
		out = n.output(0, shape[:r])
	} else {
		out = n.output(0, []int{batch, units})
	}
	if batch == 0 || units == 0 {
		return nil
	}
	if w.IsConst() && (s.packed == nil || s.packed.k != depth || s.packed.n != units) {
		// Weights that only became constant by folding (DEQUANTIZE) are
		// packed on the first call.
		s.packed = newPackedB(w.F32(), depth, units, 1, depth)
	}
	wp := s.packed
	if !w.IsConst() {
		s.tmp.pack(n.scratchF32(packedSize(depth, units)), w.F32(), depth, units, 1, depth)
		wp = &s.tmp
	}
	lo, hi := convClamp(s.opts.FusedActivationFunction)
	g := &s.gemm
	g.set(batch, in.F32(), depth, wp, biasV, out.F32(), units, lo, hi)
	g.run()
	g.release()
	return nil
}

// ---------------------------------------------------------------------------
// BATCH_MATMUL

// bmmMaxRank bounds the operands' rank.
const bmmMaxRank = 8

type bmmState struct {
	opts *fb.BatchMatMulOptionsT
	// packed holds each batch of a constant rhs, packed.
	packed []packedB
	tmp    packedB
	gemm   gemmOp
}

func prepareBatchMatMul(n *node) error {
	if err := cvIO(n, 2, "lhs", "rhs"); err != nil {
		return err
	}
	o, _ := n.opts.(*fb.BatchMatMulOptionsT)
	if o == nil {
		o = &fb.BatchMatMulOptionsT{}
	}
	s := &bmmState{opts: o}
	n.state = s
	lhs, rhs := n.inputs[0], n.inputs[1]
	if err := cvCheckF32([]string{"lhs", "rhs", "output"}, lhs, rhs, n.outputs[0]); err != nil {
		return err
	}
	for _, t := range []*Tensor{lhs, rhs} {
		if len(t.Shape) < 2 || len(t.Shape) > bmmMaxRank {
			return fmt.Errorf("operands must have rank 2 to %d, got %v", bmmMaxRank, t.Shape)
		}
	}
	if rhs.IsConst() {
		s.packed = packRHS(rhs, o.AdjY)
	}
	return nil
}

// packRHS packs every batch of a [..., K, N] (adjY: [..., N, K]) operand.
func packRHS(rhs *Tensor, adjY bool) []packedB {
	r := len(rhs.Shape)
	k, nn := rhs.Shape[r-2], rhs.Shape[r-1]
	if adjY {
		k, nn = nn, k
	}
	batches := 1
	for _, d := range rhs.Shape[:r-2] {
		batches *= d
	}
	v := rhs.F32()
	out := make([]packedB, batches)
	sz := packedSize(k, nn)
	buf := make([]float32, batches*sz)
	for b := range out {
		packOperand(&out[b], buf[b*sz:(b+1)*sz], v[b*k*nn:(b+1)*k*nn], k, nn, adjY)
	}
	return out
}

func packOperand(p *packedB, buf, m []float32, k, n int, adjY bool) {
	if adjY {
		p.pack(buf, m, k, n, 1, k) // stored [N][K]
	} else {
		p.pack(buf, m, k, n, n, 1) // stored [K][N]
	}
}

// bmmGeom is the geometry of a batched matrix product: out[b] = lhs[li]
// × rhs[ri] for each output batch b, with batch dimensions broadcast.
type bmmGeom struct {
	m, k, nn         int
	rank             int
	outShape         [bmmMaxRank]int
	lStride, rStride [bmmMaxRank]int
	rb               int // rhs batches
	batches          int // output batches
}

// newBmmGeom checks the operands' shapes and broadcasts their batch
// dimensions (right-aligned).
func newBmmGeom(lhs, rhs *Tensor, adjX, adjY bool) (g bmmGeom, err error) {
	lr, rr := len(lhs.Shape), len(rhs.Shape)
	if lr < 2 || rr < 2 || lr > bmmMaxRank || rr > bmmMaxRank {
		return g, fmt.Errorf("operands must have rank 2 to %d, got %v and %v", bmmMaxRank, lhs.Shape, rhs.Shape)
	}
	g.m, g.k = lhs.Shape[lr-2], lhs.Shape[lr-1]
	if adjX {
		g.m, g.k = g.k, g.m
	}
	k2, nn := rhs.Shape[rr-2], rhs.Shape[rr-1]
	if adjY {
		k2, nn = nn, k2
	}
	g.nn = nn
	if g.k != k2 {
		return g, fmt.Errorf("lhs %v (adj_x %v) and rhs %v (adj_y %v) do not multiply", lhs.Shape, adjX, rhs.Shape, adjY)
	}
	g.rank = max(lr, rr)
	lb, rb := 1, 1
	for i := g.rank - 3; i >= 0; i-- {
		ld, rd := 1, 1
		if j := i - (g.rank - lr); j >= 0 {
			ld = lhs.Shape[j]
		}
		if j := i - (g.rank - rr); j >= 0 {
			rd = rhs.Shape[j]
		}
		switch {
		case ld == rd, rd == 1:
			g.outShape[i] = ld
		case ld == 1:
			g.outShape[i] = rd
		default:
			return g, fmt.Errorf("batch dimensions of %v and %v do not broadcast", lhs.Shape, rhs.Shape)
		}
		if ld != 1 {
			g.lStride[i] = lb
		}
		if rd != 1 {
			g.rStride[i] = rb
		}
		lb *= ld
		rb *= rd
	}
	g.rb = rb
	g.outShape[g.rank-2], g.outShape[g.rank-1] = g.m, nn
	g.batches = 1
	for _, d := range g.outShape[:g.rank-2] {
		g.batches *= d
	}
	return g, nil
}

// each calls fn for every output batch b with the lhs and rhs batches it
// multiplies.
func (g *bmmGeom) each(fn func(b, li, ri int)) {
	var idx [bmmMaxRank]int
	for b := 0; b < g.batches; b++ {
		li, ri := 0, 0
		for i := 0; i < g.rank-2; i++ {
			li += idx[i] * g.lStride[i]
			ri += idx[i] * g.rStride[i]
		}
		fn(b, li, ri)
		for i := g.rank - 3; i >= 0; i-- {
			if idx[i]++; idx[i] < g.outShape[i] {
				break
			}
			idx[i] = 0
		}
	}
}

func evalBatchMatMul(n *node) error {
	s := n.state.(*bmmState)
	lhs, rhs := n.inputs[0], n.inputs[1]
	geo, err := newBmmGeom(lhs, rhs, s.opts.AdjX, s.opts.AdjY)
	if err != nil {
		return err
	}
	m, k, nn, rb := geo.m, geo.k, geo.nn, geo.rb
	out := n.output(0, geo.outShape[:geo.rank])
	if geo.batches == 0 || m == 0 || nn == 0 {
		return nil
	}
	lv, rv, ov := lhs.F32(), rhs.F32(), out.F32()
	if rhs.IsConst() && (len(s.packed) != rb || rb > 0 && (s.packed[0].k != k || s.packed[0].n != nn)) {
		s.packed = packRHS(rhs, s.opts.AdjY) // constant only since folding
	}
	constRHS := rhs.IsConst()
	var aT, bBuf []float32
	switch {
	case s.opts.AdjX && !constRHS:
		sc := n.scratchF32(m*k + packedSize(k, nn))
		aT, bBuf = sc[:m*k], sc[m*k:]
	case s.opts.AdjX:
		aT = n.scratchF32(m * k)
	case !constRHS:
		bBuf = n.scratchF32(packedSize(k, nn))
	}
	g := &s.gemm
	geo.each(func(b, li, ri int) {
		a := lv[li*m*k : (li+1)*m*k]
		if s.opts.AdjX {
			for kk := 0; kk < k; kk++ {
				for i := 0; i < m; i++ {
					aT[i*k+kk] = a[kk*m+i]
				}
			}
			a = aT
		}
		var wp *packedB
		if constRHS {
			wp = &s.packed[ri]
		} else {
			packOperand(&s.tmp, bBuf, rv[ri*k*nn:(ri+1)*k*nn], k, nn, s.opts.AdjY)
			wp = &s.tmp
		}
		g.set(m, a, k, wp, nil, ov[b*m*nn:(b+1)*m*nn], nn, noClampLo, noClampHi)
		g.run()
	})
	g.release()
	return nil
}
