package interp

import (
	fb "litequant/core/schema/tflitefb"
	"litequant/core/tflite"
)

// Integer BATCH_MATMUL (int8 and int16 operands, per-tensor quantized, as
// TensorFlow Lite 2.9 runs them): each lhs row, widened to int32 with its
// offset, times each rhs column, widened with its own, then the output
// stage (kernels_int_common.go) with no activation. The multiplier is the
// legacy one (the scale product in float32). int8 runs on ruy, rounding
// once (measured: double rounding gave 20 of 29,000 one-unit
// differences); int16 on the reference kernel with int64 accumulators.

func init() {
	register(fb.BuiltinOperatorBATCH_MATMUL, &kernel{match: icMatch, prepare: prepareIntBatchMatMul, eval: evalIntBatchMatMul})
}

type icBmmState struct {
	opts   *fb.BatchMatMulOptionsT
	stage  *icStage
	lOff   int32
	rOff   int32
	rhsT   []int32 // a constant rhs, widened and transposed to [batch][n][k]
	lhsBuf []int32
	res    []int32
}

func prepareIntBatchMatMul(n *node) error {
	if err := cvIO(n, 2, "lhs", "rhs"); err != nil {
		return err
	}
	lhs, rhs, out := n.inputs[0], n.inputs[1], n.outputs[0]
	if lhs.Type != fb.TensorTypeINT8 && lhs.Type != fb.TensorTypeINT16 {
		return unsupportedf("lhs of type %s (integer BATCH_MATMUL takes INT8 or INT16)", tflite.TypeName(lhs.Type))
	}
	if rhs.Type != lhs.Type || out.Type != lhs.Type {
		return unsupportedf("lhs %s, rhs %s, output %s: the types must agree", tflite.TypeName(lhs.Type), tflite.TypeName(rhs.Type), tflite.TypeName(out.Type))
	}
	for _, t := range []*Tensor{lhs, rhs, out} {
		if len(t.Scale) != 1 || len(t.ZeroPoint) > 1 {
			return unsupportedf("%v must be quantized per tensor", t)
		}
	}
	s := &icBmmState{opts: optsOr(n, &fb.BatchMatMulOptionsT{}), lOff: -icZeroPoint(lhs), rOff: -icZeroPoint(rhs)}
	var err error
	if s.stage, err = newICStage(lhs, rhs, out, 1, fb.ActivationFunctionTypeNONE, false, true); err != nil {
		return err
	}
	s.stage.single = lhs.Type == fb.TensorTypeINT8
	n.state = s
	return nil
}

func evalIntBatchMatMul(n *node) error {
	s := n.state.(*icBmmState)
	lhs, rhs := n.inputs[0], n.inputs[1]
	geo, err := newBmmGeom(lhs, rhs, s.opts.AdjX, s.opts.AdjY)
	if err != nil {
		return err
	}
	m, k, nn := geo.m, geo.k, geo.nn
	out := n.output(0, geo.outShape[:geo.rank])
	if geo.batches == 0 || m == 0 || nn == 0 {
		return nil
	}
	rhsT := s.rhsT
	if rhsT == nil || len(rhsT) != geo.rb*nn*k || !rhs.IsConst() {
		rhsT = icBmmOperand(make([]int32, geo.rb*nn*k), rhs, s.rOff, geo.rb, k, nn, !s.opts.AdjY)
		if rhs.IsConst() {
			s.rhsT = rhsT
		}
	}
	lb := lhs.NumElements() / max(m*k, 1)
	if cap(s.lhsBuf) < lb*m*k {
		s.lhsBuf = make([]int32, lb*m*k)
	}
	lhsW := icBmmOperand(s.lhsBuf[:lb*m*k], lhs, s.lOff, lb, k, m, s.opts.AdjX)
	if cap(s.res) < nn {
		s.res = make([]int32, nn)
	}
	res := s.res[:nn]
	geo.each(func(b, li, ri int) {
		for i := 0; i < m; i++ {
			row := lhsW[(li*m+i)*k : (li*m+i+1)*k]
			for j := 0; j < nn; j++ {
				res[j] = s.stage.dot(row, rhsT[(ri*nn+j)*k:(ri*nn+j+1)*k], nil, 0)
			}
			icStore(out, (b*m+i)*nn, res)
		}
	})
	return nil
}

// icBmmOperand widens t (batches of matrices) with offset off into dst as
// [batch][rows][k]: when transpose, each batch is stored [k][rows] in t,
// otherwise [rows][k].
func icBmmOperand(dst []int32, t *Tensor, off int32, batches, k, rows int, transpose bool) []int32 {
	icLoad(dst, t, off)
	if !transpose {
		return dst
	}
	tmp := make([]int32, k*rows)
	for b := 0; b < batches; b++ {
		mat := dst[b*k*rows : (b+1)*k*rows]
		copy(tmp, mat)
		for kk := 0; kk < k; kk++ {
			for r := 0; r < rows; r++ {
				mat[r*k+kk] = tmp[kk*rows+r]
			}
		}
	}
	return dst
}
