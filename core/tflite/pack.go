package tflite

import (
	"encoding/binary"
	"math"

	flatbuffers "github.com/google/flatbuffers/go"

	fb "litequant/core/schema/tflitefb"
)

// vectorCache writes each distinct small scalar vector once and points every
// table that holds an equal one at it. Quantized models repeat the same
// vectors many times (per-channel zero points are all zeros; shapes and
// scales recur), so sharing keeps files smaller than the object API's
// one-copy-per-table packing. Sharing is ordinary FlatBuffers: readers
// cannot tell.
type vectorCache struct {
	b    *flatbuffers.Builder
	seen map[string]flatbuffers.UOffsetT
	key  []byte
}

func newVectorCache(b *flatbuffers.Builder) *vectorCache {
	return &vectorCache{b: b, seen: map[string]flatbuffers.UOffsetT{}}
}

// cachedVector writes v (elements of size bytes, given to prepend) unless
// an equal vector of the same kind was written already, and returns its
// offset; nil stays absent.
func cachedVector[T int32 | int64 | float32](c *vectorCache, kind byte, v []T, size int, bits func(T) uint64, prepend func(T)) flatbuffers.UOffsetT {
	if v == nil {
		return 0
	}
	c.key = append(c.key[:0], kind)
	for _, x := range v {
		c.key = binary.LittleEndian.AppendUint64(c.key, bits(x))
	}
	if off, ok := c.seen[string(c.key)]; ok {
		return off
	}
	c.b.StartVector(size, len(v), size)
	for j := len(v) - 1; j >= 0; j-- {
		prepend(v[j])
	}
	off := c.b.EndVector(len(v))
	c.seen[string(c.key)] = off
	return off
}

func (c *vectorCache) int32s(v []int32) flatbuffers.UOffsetT {
	return cachedVector(c, 'i', v, 4, func(x int32) uint64 { return uint64(uint32(x)) }, c.b.PrependInt32)
}

func (c *vectorCache) int64s(v []int64) flatbuffers.UOffsetT {
	return cachedVector(c, 'l', v, 8, func(x int64) uint64 { return uint64(x) }, c.b.PrependInt64)
}

func (c *vectorCache) float32s(v []float32) flatbuffers.UOffsetT {
	return cachedVector(c, 'f', v, 4, func(x float32) uint64 { return uint64(math.Float32bits(x)) }, c.b.PrependFloat32)
}

// packSubGraph is SubGraphT.Pack with tensors packed by packTensor and
// operators by the object API (or ops, when given: the external-data
// layout passes copies).
func packSubGraph(b *flatbuffers.Builder, c *vectorCache, sg *fb.SubGraphT, ops []*fb.OperatorT) flatbuffers.UOffsetT {
	tensors := make([]flatbuffers.UOffsetT, len(sg.Tensors))
	for i, t := range sg.Tensors {
		tensors[i] = packTensor(b, c, t)
	}
	tensorsVec := offsetVector(b, tensors)
	inputs := c.int32s(sg.Inputs)
	outputs := c.int32s(sg.Outputs)
	opOffs := make([]flatbuffers.UOffsetT, len(ops))
	for i, op := range ops {
		opOffs[i] = op.Pack(b)
	}
	opsVec := offsetVector(b, opOffs)
	name := b.CreateString(sg.Name)
	fb.SubGraphStart(b)
	fb.SubGraphAddTensors(b, tensorsVec)
	fb.SubGraphAddInputs(b, inputs)
	fb.SubGraphAddOutputs(b, outputs)
	fb.SubGraphAddOperators(b, opsVec)
	fb.SubGraphAddName(b, name)
	return fb.SubGraphEnd(b)
}

// packTensor is TensorT.Pack with shared scalar vectors.
func packTensor(b *flatbuffers.Builder, c *vectorCache, t *fb.TensorT) flatbuffers.UOffsetT {
	shape := c.int32s(t.Shape)
	name := b.CreateString(t.Name)
	quant := packQuantization(b, c, t.Quantization)
	sparsity := t.Sparsity.Pack(b)
	signature := c.int32s(t.ShapeSignature)
	var variants flatbuffers.UOffsetT
	if t.VariantTensors != nil {
		offs := make([]flatbuffers.UOffsetT, len(t.VariantTensors))
		for i, v := range t.VariantTensors {
			offs[i] = v.Pack(b)
		}
		variants = offsetVector(b, offs)
	}
	fb.TensorStart(b)
	fb.TensorAddShape(b, shape)
	fb.TensorAddType(b, t.Type)
	fb.TensorAddBuffer(b, t.Buffer)
	fb.TensorAddName(b, name)
	fb.TensorAddQuantization(b, quant)
	fb.TensorAddIsVariable(b, t.IsVariable)
	fb.TensorAddSparsity(b, sparsity)
	fb.TensorAddShapeSignature(b, signature)
	fb.TensorAddHasRank(b, t.HasRank)
	fb.TensorAddVariantTensors(b, variants)
	return fb.TensorEnd(b)
}

// packQuantization is QuantizationParametersT.Pack with shared vectors.
func packQuantization(b *flatbuffers.Builder, c *vectorCache, q *fb.QuantizationParametersT) flatbuffers.UOffsetT {
	if q == nil {
		return 0
	}
	minV, maxV := c.float32s(q.Min), c.float32s(q.Max)
	scale, zp := c.float32s(q.Scale), c.int64s(q.ZeroPoint)
	details := q.Details.Pack(b)
	fb.QuantizationParametersStart(b)
	fb.QuantizationParametersAddMin(b, minV)
	fb.QuantizationParametersAddMax(b, maxV)
	fb.QuantizationParametersAddScale(b, scale)
	fb.QuantizationParametersAddZeroPoint(b, zp)
	if q.Details != nil {
		fb.QuantizationParametersAddDetailsType(b, q.Details.Type)
	}
	fb.QuantizationParametersAddDetails(b, details)
	fb.QuantizationParametersAddQuantizedDimension(b, q.QuantizedDimension)
	return fb.QuantizationParametersEnd(b)
}
