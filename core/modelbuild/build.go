// Package modelbuild assembles small TensorFlow Lite models in code: the
// project's own test models (single operators, tiny networks, models with
// FAKE_QUANT ranges), so tests stay meaningful without external fixtures.
package modelbuild

import (
	"encoding/binary"
	"math"

	fb "litequant/core/schema/tflitefb"
	"litequant/core/tflite"
)

// Builder accumulates one subgraph's tensors and operators. The zero value
// is not usable; call New.
type Builder struct {
	m     *tflite.Model
	sg    *fb.SubGraphT
	codes map[opKey]uint32
}

type opKey struct {
	code    fb.BuiltinOperator
	custom  string
	version int32
}

// New starts a model with one subgraph and the empty sentinel buffer.
func New() *Builder {
	sg := &fb.SubGraphT{Name: "main", Tensors: []*fb.TensorT{}, Inputs: []int32{}, Outputs: []int32{}, Operators: []*fb.OperatorT{}}
	m := &tflite.Model{}
	m.Version = 3
	m.Description = "litequant modelbuild"
	m.Buffers = []*fb.BufferT{{}}
	m.Subgraphs = []*fb.SubGraphT{sg}
	m.OperatorCodes = []*fb.OperatorCodeT{}
	return &Builder{m: m, sg: sg, codes: map[opKey]uint32{}}
}

// Tensor adds a tensor without data (an activation) and returns its index.
func (b *Builder) Tensor(name string, typ fb.TensorType, shape ...int32) int32 {
	b.sg.Tensors = append(b.sg.Tensors, &fb.TensorT{Name: name, Type: typ, Shape: append([]int32{}, shape...)})
	return int32(len(b.sg.Tensors) - 1)
}

// Const adds a constant tensor holding raw little-endian data.
func (b *Builder) Const(name string, typ fb.TensorType, shape []int32, data []byte) int32 {
	b.m.Buffers = append(b.m.Buffers, &fb.BufferT{Data: append([]byte{}, data...)})
	t := b.Tensor(name, typ, shape...)
	b.sg.Tensors[t].Buffer = uint32(len(b.m.Buffers) - 1)
	return t
}

// ConstFloat32 adds a FLOAT32 constant.
func (b *Builder) ConstFloat32(name string, shape []int32, v []float32) int32 {
	return b.Const(name, fb.TensorTypeFLOAT32, shape, Float32Bytes(v))
}

// ConstInt32 adds an INT32 constant.
func (b *Builder) ConstInt32(name string, shape []int32, v []int32) int32 {
	data := make([]byte, 4*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint32(data[4*i:], uint32(x))
	}
	return b.Const(name, fb.TensorTypeINT32, shape, data)
}

// Quantize sets affine quantization parameters on tensor t.
func (b *Builder) Quantize(t int32, scale []float32, zeroPoint []int64, axis int32) {
	b.sg.Tensors[t].Quantization = &fb.QuantizationParametersT{Scale: scale, ZeroPoint: zeroPoint, QuantizedDimension: axis}
}

// TensorT returns tensor t for further editing.
func (b *Builder) TensorT(t int32) *fb.TensorT { return b.sg.Tensors[t] }

// Op appends a builtin operator. options may be nil or one of the schema's
// *XxxOptionsT values; its union type is inferred.
func (b *Builder) Op(code fb.BuiltinOperator, options any, inputs, outputs []int32) *fb.OperatorT {
	return b.OpVersion(code, 1, options, inputs, outputs)
}

// OpVersion is Op with an explicit operator version.
func (b *Builder) OpVersion(code fb.BuiltinOperator, version int32, options any, inputs, outputs []int32) *fb.OperatorT {
	op := &fb.OperatorT{OpcodeIndex: b.opcode(opKey{code: code, version: version}),
		Inputs: append([]int32{}, inputs...), Outputs: append([]int32{}, outputs...)}
	if options != nil {
		op.BuiltinOptions = &fb.BuiltinOptionsT{Type: OptionsType(options), Value: options}
	}
	b.sg.Operators = append(b.sg.Operators, op)
	return op
}

// Custom appends a custom operator with raw options.
func (b *Builder) Custom(name string, options []byte, inputs, outputs []int32) *fb.OperatorT {
	op := &fb.OperatorT{OpcodeIndex: b.opcode(opKey{code: fb.BuiltinOperatorCUSTOM, custom: name, version: 1}),
		Inputs: inputs, Outputs: outputs, CustomOptions: options}
	b.sg.Operators = append(b.sg.Operators, op)
	return op
}

func (b *Builder) opcode(k opKey) uint32 {
	if i, ok := b.codes[k]; ok {
		return i
	}
	b.m.OperatorCodes = append(b.m.OperatorCodes, &fb.OperatorCodeT{BuiltinCode: k.code,
		DeprecatedBuiltinCode: int8(min(k.code, fb.BuiltinOperatorPLACEHOLDER_FOR_GREATER_OP_CODES)), CustomCode: k.custom, Version: k.version})
	i := uint32(len(b.m.OperatorCodes) - 1)
	b.codes[k] = i
	return i
}

// Inputs sets the subgraph's inputs.
func (b *Builder) Inputs(t ...int32) { b.sg.Inputs = append([]int32{}, t...) }

// Outputs sets the subgraph's outputs.
func (b *Builder) Outputs(t ...int32) { b.sg.Outputs = append([]int32{}, t...) }

// Model returns the model built so far (shared, not copied).
func (b *Builder) Model() *tflite.Model { return b.m }

// Bytes serializes the model; it panics on an invalid model, which in a
// builder is a bug in the calling test.
func (b *Builder) Bytes() []byte {
	out, err := b.m.Save()
	if err != nil {
		panic("modelbuild: " + err.Error())
	}
	return out
}

// Float32Bytes encodes v little-endian.
func Float32Bytes(v []float32) []byte {
	out := make([]byte, 4*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint32(out[4*i:], math.Float32bits(x))
	}
	return out
}
