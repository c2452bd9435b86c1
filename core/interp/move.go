package interp

import (
	"fmt"

	fb "litequant/core/schema/tflitefb"
	"litequant/core/tflite"
)

// The data-movement machinery shared by the shape, join, slice, gather,
// pad, resize and space kernels: operand checks and an N-dimensional
// strided copy over 1, 2, 4 or 8-byte elements.

// maxMoveDims bounds the rank of the strided copies. TILE doubles the rank
// of its input, so operands of up to maxMoveDims/2 dimensions always work.
const maxMoveDims = 16

// mvDims is a fixed-size shape buffer that lives on the stack, so kernels can
// compute output shapes without allocating.
type mvDims [maxMoveDims]int

// mvElem is the unsigned integer type of each supported element size; data
// movement kernels work on these views whatever the tensor's type.
type mvElem interface {
	~uint8 | ~uint16 | ~uint32 | ~uint64
}

// moveSize returns the element size of t for data movement, or an error
// for types without a whole-byte element (INT4, STRING, ...).
func moveSize(t *Tensor) (int, error) {
	switch b := tflite.TypeBits(t.Type); b {
	case 8, 16, 32, 64:
		return b / 8, nil
	}
	return 0, unsupportedf("%s tensors", tflite.TypeName(t.Type))
}

// mvCheckRank rejects shapes the strided copies cannot index.
func mvCheckRank(t *Tensor, limit int) error {
	if len(t.Shape) > limit {
		return unsupportedf("%v has rank %d (at most %d supported)", t, len(t.Shape), limit)
	}
	return nil
}

// mvSameType checks that the output has the input's element type.
func mvSameType(in, out *Tensor) error {
	if in.Type != out.Type {
		return fmt.Errorf("output %v has a different type from input %v", out, in)
	}
	return nil
}

// moveOperands checks what a data-movement kernel needs before it moves
// anything: `inputs` inputs with input 0 present (names lists them for the
// message), an output of the input's type, a whole-byte element size and a
// rank of at most maxRank (0: no limit). It returns input 0, output 0 and
// the element size.
func moveOperands(n *node, inputs int, names string, maxRank int) (in, out *Tensor, es int, err error) {
	if len(n.inputs) != inputs || n.inputs[0] == nil {
		return nil, nil, 0, fmt.Errorf("want %d inputs %s", inputs, names)
	}
	in, out = n.inputs[0], n.outputs[0]
	if err := mvSameType(in, out); err != nil {
		return nil, nil, 0, err
	}
	if es, err = moveSize(in); err != nil {
		return nil, nil, 0, err
	}
	if maxRank > 0 {
		if err := mvCheckRank(in, maxRank); err != nil {
			return nil, nil, 0, err
		}
	}
	return in, out, es, nil
}

// mvSame checks that out can take in's elements as they are: the same
// type and, for quantized tensors, the same parameters.
func mvSame(in, out *Tensor) error {
	if err := mvSameType(in, out); err != nil {
		return err
	}
	return mvSameQuant(in, out)
}

// mvSameQuant rejects quantized tensors whose parameters differ: data
// movement kernels copy raw values and do not requantize.
func mvSameQuant(in, out *Tensor) error {
	switch in.Type {
	case fb.TensorTypeINT8, fb.TensorTypeUINT8, fb.TensorTypeINT16:
	default:
		return nil
	}
	if len(in.Scale) == 0 || len(out.Scale) == 0 {
		return nil
	}
	if in.Scale[0] != out.Scale[0] || mvZeroPoint(in) != mvZeroPoint(out) {
		return unsupportedf("requantization from %v to %v", in, out)
	}
	return nil
}

func mvZeroPoint(t *Tensor) int64 {
	if len(t.ZeroPoint) > 0 {
		return t.ZeroPoint[0]
	}
	return 0
}

// mvStrides fills st with the element strides of a row-major shape.
func mvStrides(shape []int, st []int) {
	s := 1
	for i := len(shape) - 1; i >= 0; i-- {
		st[i] = s
		s *= shape[i]
	}
}

// mvList copies v for an error message, so that stack buffers holding
// shapes do not escape to the heap on the error-free path.
func mvList(v []int) []int { return append([]int(nil), v...) }

func mvProd(shape []int) int {
	n := 1
	for _, d := range shape {
		n *= d
	}
	return n
}

// mvIntAt returns element i of an INT32 or INT64 tensor.
func mvIntAt(t *Tensor, i int) int {
	if t.Type == fb.TensorTypeINT64 {
		return int(t.I64()[i])
	}
	return int(t.I32()[i])
}

// mvCheckInts checks that t is an INT32 or INT64 operand with its data.
func mvCheckInts(t *Tensor, what string) error {
	if t == nil {
		return fmt.Errorf("missing %s operand", what)
	}
	if t.Type != fb.TensorTypeINT32 && t.Type != fb.TensorTypeINT64 {
		return fmt.Errorf("%s %v: want INT32 or INT64", what, t)
	}
	if len(t.Data) < t.NumElements()*t.ElemSize() {
		return fmt.Errorf("%s %v has no data", what, t)
	}
	return nil
}

// mvReadInts appends the values of an INT32/INT64 operand to dst[:0].
func mvReadInts(t *Tensor, what string, dst []int) ([]int, error) {
	if err := mvCheckInts(t, what); err != nil {
		return nil, err
	}
	dst = dst[:0]
	n := t.NumElements()
	for i := 0; i < n; i++ {
		dst = append(dst, mvIntAt(t, i))
	}
	return dst, nil
}

// mvScalarInt reads a one-element INT32/INT64 operand (a scalar or [1]).
func mvScalarInt(t *Tensor, what string) (int, error) {
	if err := mvCheckInts(t, what); err != nil {
		return 0, err
	}
	if t.NumElements() != 1 {
		return 0, fmt.Errorf("%s %v: want a single value", what, t)
	}
	return mvIntAt(t, 0), nil
}

// mvCopy copies a strided view: for every index i of shape,
//
//	dst[dOff + Σ i_k·dStr_k] = src[sOff + Σ i_k·sStr_k]
//
// with offsets and strides counted in elements of esize bytes (strides may
// be zero or negative). Dimensions are merged where both sides are
// contiguous, contiguous runs are moved with copy, and a transposition of
// the two innermost source/destination dimensions is done in cache blocks.
func mvCopy(dst, src []byte, esize int, shape []int, dOff int, dStr []int, sOff int, sStr []int) {
	var sh, ds, ss mvDims
	r := 0
	for k := range shape {
		if shape[k] == 0 {
			return
		}
		if shape[k] == 1 {
			continue
		}
		if r > 0 && ds[r-1] == dStr[k]*shape[k] && ss[r-1] == sStr[k]*shape[k] {
			sh[r-1] *= shape[k]
			ds[r-1], ss[r-1] = dStr[k], sStr[k]
			continue
		}
		sh[r], ds[r], ss[r] = shape[k], dStr[k], sStr[k]
		r++
	}
	switch esize {
	case 1:
		mvCopyT(dst, src, r, &sh, &ds, &ss, dOff, sOff)
	case 2:
		mvCopyT(view[uint16](dst), view[uint16](src), r, &sh, &ds, &ss, dOff, sOff)
	case 4:
		mvCopyT(view[uint32](dst), view[uint32](src), r, &sh, &ds, &ss, dOff, sOff)
	case 8:
		mvCopyT(view[uint64](dst), view[uint64](src), r, &sh, &ds, &ss, dOff, sOff)
	default:
		panic(fmt.Sprintf("interp: mvCopy of %d-byte elements", esize))
	}
}

// mvTile is the block edge of the cache-blocked transposition.
const mvTile = 16

func mvCopyT[T mvElem](dst, src []T, r int, sh, ds, ss *mvDims, d, s int) {
	if r == 0 {
		dst[d] = src[s]
		return
	}
	last := r - 1
	n, di, si := sh[last], ds[last], ss[last]
	// A transposition: the destination is contiguous along the last
	// dimension and the source along another one; copy in square tiles so
	// both sides stay in cache.
	tj := -1
	if di == 1 && si != 1 && n >= mvTile/2 {
		for j := 0; j < last; j++ {
			if ss[j] == 1 && sh[j] >= mvTile/2 {
				tj = j
				break
			}
		}
	}
	var idx mvDims
	for {
		switch {
		case tj >= 0:
			mvTranspose(dst, src, d, ds[tj], s, si, sh[tj], n)
		case di == 1 && si == 1:
			copy(dst[d:d+n], src[s:s+n])
		case di == 1:
			out := dst[d : d+n]
			p := s
			for i := range out {
				out[i] = src[p]
				p += si
			}
		default:
			p, q := d, s
			for i := 0; i < n; i++ {
				dst[p] = src[q]
				p += di
				q += si
			}
		}
		// Advance the odometer over the outer dimensions.
		k := last - 1
		for ; k >= 0; k-- {
			if k == tj {
				continue
			}
			idx[k]++
			d += ds[k]
			s += ss[k]
			if idx[k] < sh[k] {
				break
			}
			d -= ds[k] * sh[k]
			s -= ss[k] * sh[k]
			idx[k] = 0
		}
		if k < 0 {
			return
		}
	}
}

// mvTranspose copies rows×cols elements where the destination advances
// by dr per row and 1 per column, the source by 1 per row and sc per column.
func mvTranspose[T mvElem](dst, src []T, d, dr, s, sc, rows, cols int) {
	for r0 := 0; r0 < rows; r0 += mvTile {
		r1 := min(r0+mvTile, rows)
		for c0 := 0; c0 < cols; c0 += mvTile {
			c1 := min(c0+mvTile, cols)
			for r := r0; r < r1; r++ {
				out := dst[d+r*dr+c0 : d+r*dr+c1]
				p := s + r + c0*sc
				for i := range out {
					out[i] = src[p]
					p += sc
				}
			}
		}
	}
}

// mvFill sets every element of b (esize-byte elements) to the value
// whose little-endian bytes are v[:esize].
func mvFill(b []byte, esize int, v []byte) {
	if len(b) == 0 {
		return
	}
	zero := true
	for _, x := range v[:esize] {
		if x != 0 {
			zero = false
		}
	}
	if zero {
		clear(b)
		return
	}
	switch esize {
	case 1:
		mvFillT(b, v[0])
	case 2:
		mvFillT(view[uint16](b), view[uint16](v)[0])
	case 4:
		mvFillT(view[uint32](b), view[uint32](v)[0])
	case 8:
		mvFillT(view[uint64](b), view[uint64](v)[0])
	}
}

func mvFillT[T mvElem](b []T, v T) {
	for i := range b {
		b[i] = v
	}
}
