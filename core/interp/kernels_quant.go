package interp

import (
	"errors"
	"fmt"
	"github.com/x448/float16"
	"math"

	fb "litequant/core/schema/tflitefb"
	"litequant/core/tflite"
)

// The quantization boundary: DEQUANTIZE, QUANTIZE (and requantization),
// CAST and DENSIFY.

func init() {
	register(fb.BuiltinOperatorDEQUANTIZE, &kernel{eval: evalDequantize})
	register(fb.BuiltinOperatorQUANTIZE, &kernel{eval: evalQuantize})
	register(fb.BuiltinOperatorCAST, &kernel{eval: evalCast})
	register(fb.BuiltinOperatorDENSIFY, &kernel{prepare: prepareDensify, eval: evalDensify})
}

func qUnary(n *node) (in, out *Tensor, err error) {
	in = n.input(0)
	if in == nil || len(n.outputs) < 1 {
		return nil, nil, errors.New("needs one input and one output")
	}
	return in, n.outputs[0], nil
}

// qParams returns the scale and zero point of channel c (all channels share
// entry 0 when the tensor is quantized per tensor).
func qParams(t *Tensor, c int) (float32, int64) {
	if len(t.Scale) <= 1 {
		c = 0
	}
	var zp int64
	if len(t.ZeroPoint) == 1 {
		zp = t.ZeroPoint[0]
	} else if c < len(t.ZeroPoint) {
		zp = t.ZeroPoint[c]
	}
	return t.Scale[c], zp
}

// qChannels checks t's quantization against its shape and returns the
// channel count (1 per tensor) and the element count after the channel axis.
func qChannels(t *Tensor) (channels, inner int, err error) {
	if len(t.Scale) == 0 {
		return 0, 0, fmt.Errorf("%v has no quantization scale", t)
	}
	if len(t.Scale) == 1 {
		return 1, 1, nil
	}
	ax := t.QuantAxis
	if ax < 0 || ax >= len(t.Shape) || t.Shape[ax] != len(t.Scale) {
		return 0, 0, fmt.Errorf("%v: %d per-channel scales on axis %d do not match the shape", t, len(t.Scale), ax)
	}
	if len(t.ZeroPoint) > 1 && len(t.ZeroPoint) != len(t.Scale) {
		return 0, 0, fmt.Errorf("%v: %d zero points for %d scales", t, len(t.ZeroPoint), len(t.Scale))
	}
	inner = 1
	for _, d := range t.Shape[ax+1:] {
		inner *= d
	}
	return len(t.Scale), inner, nil
}

// evalDequantize: INT8/UINT8/INT16/INT32/INT4 with per-tensor or per-channel
// affine parameters, and FLOAT16, to FLOAT32.
func evalDequantize(n *node) error {
	in, out, err := qUnary(n)
	if err != nil {
		return err
	}
	if out.Type != fb.TensorTypeFLOAT32 {
		return unsupportedf("%s output", tflite.TypeName(out.Type))
	}
	count := in.NumElements()
	switch in.Type {
	case fb.TensorTypeFLOAT16:
		d := n.output(0, in.Shape).F32()
		for i, h := range in.U16()[:count] {
			d[i] = halfToF32(h)
		}
		return nil
	case fb.TensorTypeINT8, fb.TensorTypeUINT8, fb.TensorTypeINT16, fb.TensorTypeINT32, fb.TensorTypeINT4:
	default:
		return unsupportedf("%s input", tflite.TypeName(in.Type))
	}
	channels, inner, err := qChannels(in)
	if err != nil {
		return err
	}
	if in.Type == fb.TensorTypeINT4 && len(in.Data) != count && len(in.Data) != (count+1)/2 {
		return fmt.Errorf("%v: %d bytes for %d INT4 values", in, len(in.Data), count)
	}
	d := n.output(0, in.Shape).F32()
	switch in.Type {
	case fb.TensorTypeINT8:
		qDequant(d, in.I8(), in, channels, inner)
	case fb.TensorTypeUINT8:
		qDequant(d, in.U8(), in, channels, inner)
	case fb.TensorTypeINT16:
		qDequant(d, in.I16(), in, channels, inner)
	case fb.TensorTypeINT32:
		qDequant(d, in.I32(), in, channels, inner)
	case fb.TensorTypeINT4:
		vals := view[int8](n.scratch(count))
		qUnpackInt4(vals, in.Data)
		qDequant(d, vals, in, channels, inner)
	}
	return nil
}

// qUnpackInt4 sign-extends INT4 values, stored one per byte or packed two
// per byte (low nibble first).
func qUnpackInt4(d []int8, src []byte) {
	if len(src) == len(d) {
		for i, b := range src {
			d[i] = int8(b<<4) >> 4
		}
		return
	}
	for i := range d {
		b := src[i/2]
		if i%2 == 1 {
			b >>= 4
		}
		d[i] = int8(b<<4) >> 4
	}
}

// qDequant follows TensorFlow Lite: per tensor scale*(q-zp) in double
// precision, per channel (q-zp)*scale in float.
func qDequant[T ~int8 | ~uint8 | ~int16 | ~int32](d []float32, q []T, t *Tensor, channels, inner int) {
	q = q[:len(d)]
	if channels == 1 {
		s, zp := qParams(t, 0)
		scale, z := float64(s), int32(zp)
		for i, v := range q {
			d[i] = float32(scale * float64(int32(v)-z))
		}
		return
	}
	for i, v := range q {
		s, zp := qParams(t, (i/inner)%channels)
		d[i] = float32(int32(v)-int32(zp)) * s
	}
}

// evalQuantize: FLOAT32 to INT8/UINT8/INT16 (round half away from zero,
// clamp), or requantization between integer types.
func evalQuantize(n *node) error {
	in, out, err := qUnary(n)
	if err != nil {
		return err
	}
	lo, hi, ok := qRange(out.Type)
	if !ok {
		return unsupportedf("%s output", tflite.TypeName(out.Type))
	}
	channels, inner, err := qChannels(out)
	if err != nil {
		return err
	}
	if in.Type == fb.TensorTypeFLOAT32 {
		d := n.output(0, in.Shape)
		src := in.F32()
		switch {
		case out.Type == fb.TensorTypeINT8 && channels == 1:
			xnnQuantizeF32(d.I8(), src, out, lo, hi)
		case out.Type == fb.TensorTypeUINT8 && channels == 1:
			xnnQuantizeF32(d.U8(), src, out, lo, hi)
		case out.Type == fb.TensorTypeINT8:
			qQuantize(d.I8(), src, out, channels, inner, lo, hi)
		case out.Type == fb.TensorTypeUINT8:
			qQuantize(d.U8(), src, out, channels, inner, lo, hi)
		case out.Type == fb.TensorTypeINT16:
			qQuantize(d.I16(), src, out, channels, inner, lo, hi)
		}
		return nil
	}
	// Requantization (per tensor only, as TensorFlow Lite).
	if _, _, ok := qRange(in.Type); !ok {
		return unsupportedf("%s input", tflite.TypeName(in.Type))
	}
	if len(in.Scale) != 1 || channels != 1 {
		return unsupportedf("per-channel requantization")
	}
	inScale, inZP := qParams(in, 0)
	outScale, outZP := qParams(out, 0)
	if outScale == 0 {
		return fmt.Errorf("%v has scale 0", out)
	}
	mult, shift := qMultiplier(float64(inScale) / float64(outScale))
	rq := qRequant{mult: mult, shift: shift, inZP: int32(inZP), outZP: int32(outZP), lo: lo, hi: hi}
	if r := inScale / outScale; xnnRequantizes(in.Type, out.Type, r) && !xnnOff(n.it) {
		rq.xnnMult = xnnRequantMultiplier(r) // kernels_int_requant.go
	}
	d := n.output(0, in.Shape)
	switch in.Type {
	case fb.TensorTypeINT8:
		qRequantFrom(&rq, in.I8(), d)
	case fb.TensorTypeUINT8:
		qRequantFrom(&rq, in.U8(), d)
	case fb.TensorTypeINT16:
		qRequantFrom(&rq, in.I16(), d)
	}
	return nil
}

func qRange(t fb.TensorType) (lo, hi int32, ok bool) {
	switch t {
	case fb.TensorTypeINT8:
		return math.MinInt8, math.MaxInt8, true
	case fb.TensorTypeUINT8:
		return 0, math.MaxUint8, true
	case fb.TensorTypeINT16:
		return math.MinInt16, math.MaxInt16, true
	}
	return 0, 0, false
}

// qQuantize: round(x / scale) + zp, the division in double precision and
// the rounding half away from zero (TensorFlow Lite's AffineQuantize).
func qQuantize[T ~int8 | ~uint8 | ~int16](d []T, x []float32, t *Tensor, channels, inner int, lo, hi int32) {
	x = x[:len(d)]
	s, zp := qParams(t, 0)
	for i, v := range x {
		if channels > 1 {
			s, zp = qParams(t, (i/inner)%channels)
		}
		r := math.Round(float64(v) / float64(s))
		// Clamp before converting: out-of-range (and NaN) values saturate.
		var q int64
		switch {
		case r >= math.MaxInt32:
			q = math.MaxInt32
		case r <= math.MinInt32:
			q = math.MinInt32
		case r == r:
			q = int64(r)
		}
		q += zp
		if q < int64(lo) {
			q = int64(lo)
		} else if q > int64(hi) {
			q = int64(hi)
		}
		d[i] = T(q)
	}
}

// xnnQuantizeF32 is per-tensor float→8-bit QUANTIZE as the pinned runtime
// runs it: its XNNPACK delegate takes the operator (Convert F32→QS8/QU8),
// which multiplies by the reciprocal scale in float32, clamps, and rounds
// to nearest with ties to even (lrintf) — TensorFlow Lite's reference
// kernel divides and rounds ties away from zero. On mobilenet's inputs
// (pixel/127.5 − 1, scale 1/127.5: every other value a tie) the reference
// rounding differed from the runtime on 28,050 of 150,528 values.
func xnnQuantizeF32[T ~int8 | ~uint8](d []T, x []float32, t *Tensor, lo, hi int32) {
	s, zp := qParams(t, 0)
	inv := 1 / s
	minv, maxv := float32(int64(lo)-zp), float32(int64(hi)-zp)
	for i, v := range x[:len(d)] {
		v *= inv
		if v != v { // NaN: the zero point, as the runtime gives
			v = 0
		}
		if v < minv {
			v = minv
		}
		if v > maxv {
			v = maxv
		}
		d[i] = T(int64(math.RoundToEven(float64(v))) + zp)
	}
}

type qRequant struct {
	mult        int32
	shift       int
	inZP, outZP int32
	lo, hi      int32
	xnnMult     int32 // non-zero: XNNPACK's arithmetic (kernels_int_requant.go)
}

func (rq *qRequant) apply(v int32) int32 {
	if rq.xnnMult != 0 {
		return rq.applyXNN(v)
	}
	q := qMulByMultiplier(v-rq.inZP, rq.mult, rq.shift) + rq.outZP
	return min(max(q, rq.lo), rq.hi)
}

func qRequantFrom[S ~int8 | ~uint8 | ~int16](rq *qRequant, s []S, out *Tensor) {
	switch out.Type {
	case fb.TensorTypeINT8:
		d := out.I8()
		for i, v := range s {
			d[i] = int8(rq.apply(int32(v)))
		}
	case fb.TensorTypeUINT8:
		d := out.U8()
		for i, v := range s {
			d[i] = uint8(rq.apply(int32(v)))
		}
	case fb.TensorTypeINT16:
		d := out.I16()
		for i, v := range s {
			d[i] = int16(rq.apply(int32(v)))
		}
	}
}

// CAST.

type qCastNum interface {
	~int8 | ~uint8 | ~int16 | ~uint16 | ~int32 | ~uint32 | ~int64 | ~uint64 | ~float32 | ~float64
}

func qCastLoop[D, S qCastNum](d []D, s []S) {
	d = d[:len(s)]
	for i, v := range s {
		d[i] = D(v)
	}
}

// qCastFrom converts s into out's type; false when that type is not
// supported. Float to integer truncates toward zero (C++ static_cast); to
// BOOL is v != 0.
func qCastFrom[S qCastNum](s []S, out *Tensor) bool {
	switch out.Type {
	case fb.TensorTypeFLOAT32:
		qCastLoop(out.F32(), s)
	case fb.TensorTypeFLOAT64:
		qCastLoop(view[float64](out.Data), s)
	case fb.TensorTypeINT8:
		qCastLoop(out.I8(), s)
	case fb.TensorTypeUINT8:
		qCastLoop(out.U8(), s)
	case fb.TensorTypeINT16:
		qCastLoop(out.I16(), s)
	case fb.TensorTypeUINT16:
		qCastLoop(out.U16(), s)
	case fb.TensorTypeINT32:
		qCastLoop(out.I32(), s)
	case fb.TensorTypeUINT32:
		qCastLoop(view[uint32](out.Data), s)
	case fb.TensorTypeINT64:
		qCastLoop(out.I64(), s)
	case fb.TensorTypeUINT64:
		qCastLoop(view[uint64](out.Data), s)
	case fb.TensorTypeBOOL:
		d := out.U8()[:len(s)]
		for i, v := range s {
			if v != 0 {
				d[i] = 1
			} else {
				d[i] = 0
			}
		}
	case fb.TensorTypeFLOAT16:
		d := out.U16()[:len(s)]
		for i, v := range s {
			d[i] = f32ToHalf(float32(v))
		}
	default:
		return false
	}
	return true
}

func evalCast(n *node) error {
	in, out, err := qUnary(n)
	if err != nil {
		return err
	}
	if tflite.TypeBits(out.Type) < 8 || out.Type == fb.TensorTypeCOMPLEX64 || out.Type == fb.TensorTypeCOMPLEX128 || out.Type == fb.TensorTypeBFLOAT16 {
		return unsupportedf("%s output", tflite.TypeName(out.Type))
	}
	o := n.output(0, in.Shape)
	var ok bool
	switch in.Type {
	case fb.TensorTypeFLOAT32:
		ok = qCastFrom(in.F32(), o)
	case fb.TensorTypeFLOAT64:
		ok = qCastFrom(view[float64](in.Data), o)
	case fb.TensorTypeINT8:
		ok = qCastFrom(in.I8(), o)
	case fb.TensorTypeUINT8, fb.TensorTypeBOOL:
		ok = qCastFrom(in.U8(), o)
	case fb.TensorTypeINT16:
		ok = qCastFrom(in.I16(), o)
	case fb.TensorTypeUINT16:
		ok = qCastFrom(in.U16(), o)
	case fb.TensorTypeINT32:
		ok = qCastFrom(in.I32(), o)
	case fb.TensorTypeUINT32:
		ok = qCastFrom(view[uint32](in.Data), o)
	case fb.TensorTypeINT64:
		ok = qCastFrom(in.I64(), o)
	case fb.TensorTypeUINT64:
		ok = qCastFrom(view[uint64](in.Data), o)
	case fb.TensorTypeFLOAT16:
		h := in.U16()
		tmp := n.scratchF32(len(h))
		for i, v := range h {
			tmp[i] = halfToF32(v)
		}
		ok = qCastFrom(tmp, o)
	}
	if !ok {
		return unsupportedf("cast from %s to %s", tflite.TypeName(in.Type), tflite.TypeName(out.Type))
	}
	return nil
}

// DENSIFY.

// densifyState holds the dense form of the sparse constant input, built
// once in prepare.
type densifyState struct {
	dense []byte
	shape []int
}

func prepareDensify(n *node) error {
	if len(n.op.Inputs) < 1 || n.op.Inputs[0] < 0 || len(n.outputs) < 1 {
		return errors.New("needs one input and one output")
	}
	sg := n.it.model.Subgraphs[n.it.subgraph]
	idx := n.op.Inputs[0]
	mt := sg.Tensors[idx]
	if mt.Sparsity == nil {
		return nil // a dense input is copied as it is
	}
	if out := n.outputs[0]; out.Type != mt.Type {
		return fmt.Errorf("output type %s differs from input type %s", tflite.TypeName(out.Type), tflite.TypeName(mt.Type))
	}
	bits := tflite.TypeBits(mt.Type)
	if bits < 8 {
		return unsupportedf("sparse %s values", tflite.TypeName(mt.Type))
	}
	shape := make([]int, len(mt.Shape))
	for i, d := range mt.Shape {
		shape[i] = int(d)
	}
	dense, err := densify(mt.Sparsity, shape, bits/8, n.it.model.TensorData(mt))
	if err != nil {
		return fmt.Errorf("sparse tensor %d (%q): %v", idx, mt.Name, err)
	}
	n.state = &densifyState{dense: dense, shape: shape}
	return nil
}

func evalDensify(n *node) error {
	if st, ok := n.state.(*densifyState); ok {
		out := n.output(0, st.shape)
		copy(out.Data, st.dense)
		return nil
	}
	in, out, err := qUnary(n)
	if err != nil {
		return err
	}
	if out.Type != in.Type {
		return fmt.Errorf("output type %s differs from input type %s", tflite.TypeName(out.Type), tflite.TypeName(in.Type))
	}
	copy(n.output(0, in.Shape).Data, in.Data)
	return nil
}

// densify expands sparse values (esize bytes each) into a dense row-major
// tensor of the given shape, following TensorFlow Lite's sparsity format:
// the dimensions (the original ones, then one per block dimension) are
// walked in traversal order; a DENSE level enumerates dense_size indices, a
// SPARSE_CSR level the array_indices between two array_segments entries
// (selected by the position reached in the level above).
func densify(sp *fb.SparsityParametersT, shape []int, esize int, values []byte) ([]byte, error) {
	rank := len(shape)
	order := sp.TraversalOrder
	levels := len(order)
	if levels < rank {
		return nil, fmt.Errorf("traversal order %v is shorter than rank %d", order, rank)
	}
	if len(sp.DimMetadata) != levels {
		return nil, fmt.Errorf("%d dimension metadata entries for %d traversal levels", len(sp.DimMetadata), levels)
	}
	nblocks := levels - rank
	if len(sp.BlockMap) != nblocks {
		return nil, fmt.Errorf("block map %v for %d block dimensions", sp.BlockMap, nblocks)
	}
	seen := make([]bool, levels)
	for i, o := range order {
		if o < 0 || int(o) >= levels || seen[o] {
			return nil, fmt.Errorf("traversal order %v is not a permutation", order)
		}
		seen[o] = true
		if i < rank && int(o) >= rank {
			return nil, unsupportedf("traversal order %v puts a block dimension before an original one", order)
		}
	}
	type level struct {
		dense    bool
		size     int
		segments []int
		indices  []int
	}
	lv := make([]level, levels)
	for i, dm := range sp.DimMetadata {
		if dm == nil {
			return nil, fmt.Errorf("dimension metadata %d is missing", i)
		}
		switch dm.Format {
		case fb.DimensionTypeDENSE:
			if dm.DenseSize < 0 {
				return nil, fmt.Errorf("level %d: dense size %d", i, dm.DenseSize)
			}
			lv[i] = level{dense: true, size: int(dm.DenseSize)}
		case fb.DimensionTypeSPARSE_CSR:
			seg, err := sparseIndexVector(dm.ArraySegments)
			if err != nil {
				return nil, fmt.Errorf("level %d segments: %v", i, err)
			}
			ind, err := sparseIndexVector(dm.ArrayIndices)
			if err != nil {
				return nil, fmt.Errorf("level %d indices: %v", i, err)
			}
			lv[i] = level{segments: seg, indices: ind}
		default:
			return nil, fmt.Errorf("level %d: unknown dimension format %d", i, dm.Format)
		}
	}
	// A block dimension's size is the dense size recorded for it.
	blockSize := make([]int, nblocks)
	for b := range blockSize {
		if m := sp.BlockMap[b]; m < 0 || int(m) >= rank {
			return nil, fmt.Errorf("block map %v names a dimension outside rank %d", sp.BlockMap, rank)
		}
		l := lv[order[rank+b]]
		if !l.dense || l.size <= 0 {
			return nil, unsupportedf("block dimension %d is not dense", b)
		}
		blockSize[b] = l.size
	}

	total := 1
	for _, d := range shape {
		if d < 0 {
			return nil, fmt.Errorf("dense shape %v has an unknown dimension", shape)
		}
		total *= d
	}
	nvals := len(values) / esize
	dense := alignedBytes(total * esize)
	idx := make([]int, levels)
	orig := make([]int, rank)
	next := 0
	var walk func(l, prev int) error
	walk = func(l, prev int) error {
		if l == levels {
			for i := 0; i < rank; i++ {
				orig[order[i]] = idx[i]
			}
			for i := rank; i < levels; i++ {
				b := int(order[i]) - rank
				d := sp.BlockMap[b]
				orig[d] = orig[d]*blockSize[b] + idx[i]
			}
			flat := 0
			for i, d := range shape {
				if orig[i] < 0 || orig[i] >= d {
					return fmt.Errorf("index %v outside dense shape %v", orig, shape)
				}
				flat = flat*d + orig[i]
			}
			if next >= nvals {
				return fmt.Errorf("more positions than the %d values stored", nvals)
			}
			copy(dense[flat*esize:(flat+1)*esize], values[next*esize:])
			next++
			return nil
		}
		v := &lv[l]
		if v.dense {
			for i := 0; i < v.size; i++ {
				idx[l] = i
				if err := walk(l+1, prev*v.size+i); err != nil {
					return err
				}
			}
			return nil
		}
		if prev+1 >= len(v.segments) {
			return fmt.Errorf("level %d: segment %d missing (%d segments)", l, prev+1, len(v.segments))
		}
		lo, hi := v.segments[prev], v.segments[prev+1]
		if lo < 0 || hi < lo || hi > len(v.indices) {
			return fmt.Errorf("level %d: segment [%d, %d) outside %d indices", l, lo, hi, len(v.indices))
		}
		for i := lo; i < hi; i++ {
			idx[l] = v.indices[i]
			if err := walk(l+1, i); err != nil {
				return err
			}
		}
		return nil
	}
	if total > 0 {
		if err := walk(0, 0); err != nil {
			return nil, err
		}
	}
	return dense, nil
}

func sparseIndexVector(v *fb.SparseIndexVectorT) ([]int, error) {
	if v == nil {
		return nil, errors.New("missing")
	}
	var out []int
	switch x := v.Value.(type) {
	case *fb.Int32VectorT:
		if x != nil {
			for _, e := range x.Values {
				out = append(out, int(e))
			}
		}
	case *fb.Uint16VectorT:
		if x != nil {
			for _, e := range x.Values {
				out = append(out, int(e))
			}
		}
	case *fb.Uint8VectorT:
		if x != nil {
			for _, e := range x.Values {
				out = append(out, int(e))
			}
		}
	default:
		return nil, fmt.Errorf("unknown index vector type %d", v.Type)
	}
	return out, nil
}

// halfToF32 decodes IEEE binary16 bits (subnormals, infinities and NaNs
// included).
func halfToF32(h uint16) float32 { return float16.Frombits(h).Float32() }

// f32ToHalf encodes to IEEE binary16, rounding to nearest even.
func f32ToHalf(f float32) uint16 { return float16.Fromfloat32(f).Bits() }
