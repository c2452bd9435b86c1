package interp

import (
	"fmt"

	fb "litequant/core/schema/tflitefb"
	"litequant/core/tflite"
)

// Hybrid (dynamic-range) FULLY_CONNECTED, BATCH_MATMUL and
// EMBEDDING_LOOKUP: what dynamic-range quantization (litequant's --mode
// dynamic, TensorFlow's converter without a representative dataset)
// produces. Activations stay float32; the weights are INT8 and read as
// they are (hybrid.go has the shared arithmetic).
//
// FULLY_CONNECTED quantizes each input row (symmetric, or asymmetric with
// asymmetric_quantize_inputs) and gives bias + float(Σ w·q) × (row scale ×
// weight scale), then the fused activation. The runtime's hybrid kernel
// reads one weight scale (per-channel hybrid weights came with operator
// version 12, after the runtime litequant targets): given several, it reads
// the legacy scale 0 and outputs the bias alone, and so does this kernel.
//
// BATCH_MATMUL with a FLOAT32 left operand and an INT8 right one quantizes
// each row of the left operand the same way and scales each sum by row
// scale × the right operand's one scale; there is no bias. The zero-point
// correction is done in float32 and truncated back to int32, as in the
// runtime.
//
// EMBEDDING_LOOKUP with an INT8 or UINT8 table dequantizes the rows it
// looks up with the table's one scale; the runtime reads UINT8 tables as
// int8 bytes and ignores the zero point, and so does this kernel.

func init() {
	register(fb.BuiltinOperatorFULLY_CONNECTED, &kernel{match: matchHybridFC, prepare: prepareHybridFC, eval: evalHybridFC})
	register(fb.BuiltinOperatorBATCH_MATMUL, &kernel{match: matchHybridBMM, prepare: prepareHybridBMM, eval: evalHybridBMM})
	register(fb.BuiltinOperatorEMBEDDING_LOOKUP, &kernel{match: matchHybridEmbedding, eval: evalHybridEmbedding})
}

// ---------------------------------------------------------------------------
// FULLY_CONNECTED

func matchHybridFC(n *node) bool {
	return len(n.inputs) >= 2 && isF32(n.inputs[0]) && isI8(n.inputs[1])
}

type hybridFCState struct {
	opts    *fb.FullyConnectedOptionsT
	rowSums []int32 // of a constant weight matrix, one per unit
}

func prepareHybridFC(n *node) error {
	if err := cvIO(n, 2, "input", "weights"); err != nil {
		return err
	}
	o, _ := n.opts.(*fb.FullyConnectedOptionsT)
	if o == nil {
		o = &fb.FullyConnectedOptionsT{}
	}
	if o.WeightsFormat != fb.FullyConnectedOptionsWeightsFormatDEFAULT {
		return unsupportedf("weights format %s", o.WeightsFormat)
	}
	switch o.FusedActivationFunction {
	case fb.ActivationFunctionTypeNONE, fb.ActivationFunctionTypeRELU, fb.ActivationFunctionTypeRELU_N1_TO_1, fb.ActivationFunctionTypeRELU6:
	default:
		return fmt.Errorf("fused activation %s is not allowed (NONE, RELU, RELU_N1_TO_1 or RELU6)", o.FusedActivationFunction)
	}
	w := n.inputs[1]
	if err := hybridWeights(w, "weights"); err != nil {
		return err
	}
	if err := cvCheckF32([]string{"bias", "output"}, n.input(2), n.outputs[0]); err != nil {
		return err
	}
	if err := cvCheckRank(w, "weights", 2); err != nil {
		return err
	}
	s := &hybridFCState{opts: o}
	if w.IsConst() {
		s.rowSums = rowSumsI8(w.I8(), w.Shape[0], w.Shape[1])
	}
	n.state = s
	return nil
}

func evalHybridFC(n *node) error {
	s := n.state.(*hybridFCState)
	in, w, bias := n.inputs[0], n.inputs[1], n.input(2)
	units, depth := w.Shape[0], w.Shape[1]
	if depth <= 0 {
		return fmt.Errorf("weights shape %v has no input depth", w.Shape)
	}
	elems := in.NumElements()
	if elems%depth != 0 {
		return fmt.Errorf("input shape %v does not split in rows of %d (weights %v)", in.Shape, depth, w.Shape)
	}
	batch := elems / depth
	biasV, err := cvBias(bias, units)
	if err != nil {
		return err
	}
	var shape [8]int
	outShape := shape[:0]
	if s.opts.KeepNumDims {
		r := len(in.Shape)
		if r == 0 || in.Shape[r-1] != depth {
			return fmt.Errorf("keep_num_dims needs the input's last dimension (shape %v) to be the weights' depth %d", in.Shape, depth)
		}
		if r > len(shape) {
			return unsupportedf("keep_num_dims with input rank %d", r)
		}
		outShape = append(outShape, in.Shape...)
		outShape[r-1] = units
	} else {
		outShape = append(outShape, batch, units)
	}
	out := n.output(0, outShape)
	if batch == 0 || units == 0 {
		return nil
	}
	wv := w.I8()
	sums := s.rowSums
	if !w.IsConst() || len(sums) != units {
		sums = rowSumsI8(wv, units, depth)
	}
	ws := hybridTensorScale(w)
	asym := s.opts.AsymmetricQuantizeInputs
	q := view[int8](n.scratch(depth))
	iv, ov := in.F32(), out.F32()
	lo, hi := convClamp(s.opts.FusedActivationFunction)
	for b := 0; b < batch; b++ {
		scale, zp := hybridQuantizeRow(q, iv[b*depth:(b+1)*depth], asym)
		scale *= ws
		orow := ov[b*units : (b+1)*units]
		for u := range orow {
			dot := dotI8(wv[u*depth:(u+1)*depth], q)
			if asym {
				dot -= sums[u] * zp
			}
			v := float32(float32(dot) * scale)
			if biasV != nil {
				v = biasV[u] + v
			}
			orow[u] = v
		}
		if lo != noClampLo || hi != noClampHi {
			storeClamped(orow, orow, lo, hi)
		}
	}
	return nil
}

// ---------------------------------------------------------------------------
// BATCH_MATMUL

func matchHybridBMM(n *node) bool {
	return len(n.inputs) >= 2 && isF32(n.inputs[0]) && isI8(n.inputs[1])
}

type hybridBMMState struct {
	opts *fb.BatchMatMulOptionsT
}

func prepareHybridBMM(n *node) error {
	if err := cvIO(n, 2, "lhs", "rhs"); err != nil {
		return err
	}
	o, _ := n.opts.(*fb.BatchMatMulOptionsT)
	if o == nil {
		o = &fb.BatchMatMulOptionsT{}
	}
	if err := hybridWeights(n.inputs[1], "rhs"); err != nil {
		return err
	}
	if err := cvCheckF32([]string{"output"}, n.outputs[0]); err != nil {
		return err
	}
	for _, t := range []*Tensor{n.inputs[0], n.inputs[1]} {
		if len(t.Shape) < 2 || len(t.Shape) > bmmMaxRank {
			return fmt.Errorf("operands must have rank 2 to %d, got %v", bmmMaxRank, t.Shape)
		}
	}
	n.state = &hybridBMMState{opts: o}
	return nil
}

func evalHybridBMM(n *node) error {
	s := n.state.(*hybridBMMState)
	lhs, rhs := n.inputs[0], n.inputs[1]
	lr, rr := len(lhs.Shape), len(rhs.Shape)
	if lr < 2 || rr < 2 || lr > bmmMaxRank || rr > bmmMaxRank {
		return fmt.Errorf("operands must have rank 2 to %d, got %v and %v", bmmMaxRank, lhs.Shape, rhs.Shape)
	}
	m, k := lhs.Shape[lr-2], lhs.Shape[lr-1]
	if s.opts.AdjX {
		m, k = k, m
	}
	k2, nn := rhs.Shape[rr-2], rhs.Shape[rr-1]
	if s.opts.AdjY {
		k2, nn = nn, k2
	}
	if k != k2 {
		return fmt.Errorf("lhs %v (adj_x %v) and rhs %v (adj_y %v) do not multiply", lhs.Shape, s.opts.AdjX, rhs.Shape, s.opts.AdjY)
	}
	rank := max(lr, rr)
	var outShape, lStride, rStride [bmmMaxRank]int
	lb, rb := 1, 1
	for i := rank - 3; i >= 0; i-- {
		ld, rd := 1, 1
		if j := i - (rank - lr); j >= 0 {
			ld = lhs.Shape[j]
		}
		if j := i - (rank - rr); j >= 0 {
			rd = rhs.Shape[j]
		}
		switch {
		case ld == rd, rd == 1:
			outShape[i] = ld
		case ld == 1:
			outShape[i] = rd
		default:
			return fmt.Errorf("batch dimensions of %v and %v do not broadcast", lhs.Shape, rhs.Shape)
		}
		if ld != 1 {
			lStride[i] = lb
		}
		if rd != 1 {
			rStride[i] = rb
		}
		lb *= ld
		rb *= rd
	}
	outShape[rank-2], outShape[rank-1] = m, nn
	out := n.output(0, outShape[:rank])
	batches := 1
	for _, d := range outShape[:rank-2] {
		batches *= d
	}
	if batches == 0 || m == 0 || nn == 0 {
		return nil
	}
	if k == 0 {
		clear(out.F32())
		return nil
	}
	// Every row of the left operand (lb batches of m rows of k) is
	// quantized once; each batch of the right operand is stored as nn
	// columns of k values, with their sums.
	// 4-byte values first, so each view is aligned.
	nRows, nCols := lb*m, rb*nn
	scratch := n.scratch(4*(nCols+2*nRows+k) + nRows*k + nCols*k)
	sums := view[int32](scratch[:4*nCols])
	zps := view[int32](scratch[4*nCols : 4*(nCols+nRows)])
	scales := view[float32](scratch[4*(nCols+nRows) : 4*(nCols+2*nRows)])
	row := view[float32](scratch[4*(nCols+2*nRows) : 4*(nCols+2*nRows+k)])
	rest := scratch[4*(nCols+2*nRows+k):]
	q := view[int8](rest[:nRows*k])
	cols := view[int8](rest[nRows*k:])
	ws := hybridTensorScale(rhs)
	asym := s.opts.AsymmetricQuantizeInputs
	lv := lhs.F32()
	for b := 0; b < lb; b++ {
		a := lv[b*m*k : (b+1)*m*k]
		for i := 0; i < m; i++ {
			src := a[i*k : (i+1)*k]
			if s.opts.AdjX { // stored [k][m]: gather column i
				for kk := 0; kk < k; kk++ {
					row[kk] = a[kk*m+i]
				}
				src = row
			}
			r := b*m + i
			sc, zp := hybridQuantizeRow(q[r*k:(r+1)*k], src, asym)
			scales[r], zps[r] = sc*ws, zp
		}
	}
	rv := rhs.I8()
	for b := 0; b < rb; b++ {
		mat := rv[b*k*nn : (b+1)*k*nn]
		for j := 0; j < nn; j++ {
			col := cols[(b*nn+j)*k : (b*nn+j+1)*k]
			if s.opts.AdjY { // stored [nn][k]
				copy(col, mat[j*k:(j+1)*k])
			} else {
				for kk := 0; kk < k; kk++ {
					col[kk] = mat[kk*nn+j]
				}
			}
			var sum int32
			for _, v := range col {
				sum += int32(v)
			}
			sums[b*nn+j] = sum
		}
	}
	ov := out.F32()
	var idx [bmmMaxRank]int
	for b := 0; b < batches; b++ {
		li, ri := 0, 0
		for i := 0; i < rank-2; i++ {
			li += idx[i] * lStride[i]
			ri += idx[i] * rStride[i]
		}
		o := ov[b*m*nn : (b+1)*m*nn]
		for i := 0; i < m; i++ {
			r := li*m + i
			qr := q[r*k : (r+1)*k]
			sc, zp := scales[r], float32(zps[r])
			for j := 0; j < nn; j++ {
				c := ri*nn + j
				total := dotI8(cols[c*k:(c+1)*k], qr)
				// The runtime subtracts the correction in float32 and
				// truncates back to int32.
				total = int32(float32(total) - float32(float32(sums[c])*zp))
				o[i*nn+j] = float32(sc * float32(total))
			}
		}
		for i := rank - 3; i >= 0; i-- {
			if idx[i]++; idx[i] < outShape[i] {
				break
			}
			idx[i] = 0
		}
	}
	return nil
}

// ---------------------------------------------------------------------------
// EMBEDDING_LOOKUP

func matchHybridEmbedding(n *node) bool {
	if len(n.inputs) < 2 || n.inputs[1] == nil || len(n.outputs) != 1 || !isF32(n.outputs[0]) {
		return false
	}
	t := n.inputs[1].Type
	return t == fb.TensorTypeINT8 || t == fb.TensorTypeUINT8
}

func evalHybridEmbedding(n *node) error {
	if len(n.inputs) != 2 || n.inputs[0] == nil {
		return fmt.Errorf("want 2 inputs (ids, params)")
	}
	ids, params := n.inputs[0], n.inputs[1]
	if ids.Type != fb.TensorTypeINT32 || len(ids.Shape) != 1 {
		return fmt.Errorf("ids %v: want an INT32 vector", ids)
	}
	if len(params.Shape) < 2 || len(params.Shape) > maxMoveDims {
		return fmt.Errorf("params %v must have rank 2 or more", params)
	}
	if len(params.Scale) == 0 {
		return fmt.Errorf("params %v of type %s has no quantization scale", params, tflite.TypeName(params.Type))
	}
	scale := float64(hybridTensorScale(params))
	var buf mvDims
	shape := append(buf[:0], ids.Shape[0])
	shape = append(shape, params.Shape[1:]...)
	rows := params.Shape[0]
	cols := mvProd(params.Shape[1:])
	for _, id := range ids.I32() {
		if id < 0 || int(id) >= rows {
			return fmt.Errorf("embedding lookup index %d out of bounds for %d rows", id, rows)
		}
	}
	o := n.output(0, shape).F32()
	table := params.I8() // UINT8 tables too: the runtime reads the bytes as int8
	for i, id := range ids.I32() {
		src := table[int(id)*cols : (int(id)+1)*cols]
		dst := o[i*cols : (i+1)*cols]
		for j, v := range src {
			dst[j] = float32(float64(v) * scale)
		}
	}
	return nil
}
