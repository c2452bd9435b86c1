package interp

import (
	"bytes"
	"math"
	"strings"
	"testing"

	"litequant/core/modelbuild"
	"litequant/core/npy"
	"litequant/core/runtimetest"
	fb "litequant/core/schema/tflitefb"
	"litequant/core/tflite"
)

func ktI8(r interface{ IntN(int) int }, lo, hi int, shape ...int) *npy.Array {
	v := make([]int8, ktCount(shape))
	for i := range v {
		v[i] = int8(lo + r.IntN(hi-lo+1))
	}
	return npy.FromInt8(shape, v)
}

func ktU8(r interface{ IntN(int) int }, lo, hi int, shape ...int) *npy.Array {
	v := make([]uint8, ktCount(shape))
	for i := range v {
		v[i] = uint8(lo + r.IntN(hi-lo+1))
	}
	return npy.FromUint8(shape, v)
}

func ktI16(r interface{ IntN(int) int }, lo, hi int, shape ...int) *npy.Array {
	v := make([]int16, ktCount(shape))
	for i := range v {
		v[i] = int16(lo + r.IntN(hi-lo+1))
	}
	return npy.FromInt16(shape, v)
}

// ktHalfArray builds a FLOAT16 array from raw bits.
func ktHalfArray(shape []int, bits []uint16) *npy.Array {
	data := make([]byte, 2*len(bits))
	for i, b := range bits {
		data[2*i], data[2*i+1] = byte(b), byte(b>>8)
	}
	return &npy.Array{DType: npy.Float16, Shape: shape, Data: data}
}

func TestDequantize(t *testing.T) {
	r := ktRand(50)
	F := fb.TensorTypeFLOAT32
	var cases []ktCase
	q := func(typ fb.TensorType, scale float32, zp int64, shape ...int) ktT {
		return ktQuant(ktIn(typ, shape...), []float32{scale}, []int64{zp}, 0)
	}
	cases = append(cases,
		ktCase{name: "INT8", op: ktSpec(fb.BuiltinOperatorDEQUANTIZE, nil, []ktT{q(fb.TensorTypeINT8, 0.05, -3, 2, 3, 4)}, ktIn(F, 2, 3, 4)),
			inputs: []*npy.Array{ktI8(r, -128, 127, 2, 3, 4)}},
		ktCase{name: "UINT8", op: ktSpec(fb.BuiltinOperatorDEQUANTIZE, nil, []ktT{q(fb.TensorTypeUINT8, 0.1, 128, 5, 7)}, ktIn(F, 5, 7)),
			inputs: []*npy.Array{ktU8(r, 0, 255, 5, 7)}},
		ktCase{name: "INT16", op: ktSpec(fb.BuiltinOperatorDEQUANTIZE, nil, []ktT{q(fb.TensorTypeINT16, 0.001, 0, 3, 11)}, ktIn(F, 3, 11)),
			inputs: []*npy.Array{ktI16(r, -32768, 32767, 3, 11)}},
	)
	// Per-channel constant weights on axis 0 and axis 1.
	for _, pc := range []struct {
		shape []int
		axis  int32
	}{{[]int{4, 3, 3, 2}, 0}, {[]int{2, 5, 3}, 1}, {[]int{3, 6}, 1}} {
		nch := pc.shape[pc.axis]
		scales := make([]float32, nch)
		zps := make([]int64, nch)
		for i := range scales {
			scales[i] = 0.01 + 0.02*float32(i)
		}
		w := ktQuant(ktConst(ktI8(r, -127, 127, pc.shape...)), scales, zps, pc.axis)
		// Add a graph input so that the runtime has something to feed.
		b := ktModelB(fb.BuiltinOperatorDEQUANTIZE, 2, nil, []ktT{w}, []ktT{ktIn(F, pc.shape...)})
		ktAddInput(b, pc.shape)
		cases = append(cases, ktCase{name: "per_channel_" + ktShapeName(pc.shape) + "_axis" + string(rune('0'+pc.axis)), model: b.Bytes(),
			inputs: []*npy.Array{npy.FromFloat32(pc.shape, make([]float32, ktCount(pc.shape)))}})
	}
	// FLOAT16 constants: normals, subnormals, zeros, the largest finite.
	bits := []uint16{0x3c00, 0xbc00, 0x0001, 0x8001, 0x03ff, 0x0400, 0x0000, 0x8000, 0x7bff, 0xfbff, 0x3555, 0x4248}
	for i := 0; i < 36; i++ {
		bits = append(bits, uint16(r.IntN(0x7c00))|uint16(r.IntN(2))<<15)
	}
	b := ktModelB(fb.BuiltinOperatorDEQUANTIZE, 3, nil, []ktT{ktConst(ktHalfArray([]int{4, 12}, bits))}, []ktT{ktIn(F, 4, 12)})
	ktAddInput(b, []int{4, 12})
	cases = append(cases, ktCase{name: "FLOAT16", model: b.Bytes(), inputs: []*npy.Array{npy.FromFloat32([]int{4, 12}, make([]float32, 48))}})
	ktCompare(t, cases)
}

// ktAddInput appends out[0] = ADD(out[0]', x) with x a new graph input of
// the given shape (fed zeros), so that a model whose operator reads only
// constants has an input.
func ktAddInput(b *modelbuild.Builder, shape []int) {
	m := b.Model()
	sg := m.Subgraphs[0]
	out := sg.Outputs[0]
	x := b.Tensor("x", fb.TensorTypeFLOAT32, ktShape32(shape)...)
	sum := b.Tensor("sum", fb.TensorTypeFLOAT32, ktShape32(shape)...)
	b.Op(fb.BuiltinOperatorADD, &fb.AddOptionsT{}, []int32{out, x}, []int32{sum})
	b.Inputs(x)
	b.Outputs(sum)
}

func TestQuantize(t *testing.T) {
	r := ktRand(51)
	F := fb.TensorTypeFLOAT32
	var cases []ktCase
	q := func(typ fb.TensorType, scale float32, zp int64, shape ...int) ktT {
		return ktQuant(ktIn(typ, shape...), []float32{scale}, []int64{zp}, 0)
	}
	for _, c := range []struct {
		name  string
		out   ktT
		input *npy.Array
	}{
		{"INT8_ties", q(fb.TensorTypeINT8, 0.5, 3, 4, 25), ktF32Grid(r, -40, 40, 4, 25)},
		{"INT8_clamp", q(fb.TensorTypeINT8, 0.037, -10, 3, 50), ktF32(r, -8, 8, 3, 50)},
		{"UINT8_ties", q(fb.TensorTypeUINT8, 0.25, 128, 4, 25), ktF32Grid(r, -50, 50, 4, 25)},
		{"UINT8", q(fb.TensorTypeUINT8, 0.0123, 37, 2, 3, 17), ktF32(r, -1, 3.5, 2, 3, 17)},
		{"INT16", q(fb.TensorTypeINT16, 0.0005, 0, 4, 30), ktF32(r, -20, 20, 4, 30)},
		{"INT16_ties", q(fb.TensorTypeINT16, 0.5, 0, 4, 25), ktF32Grid(r, -40, 40, 4, 25)},
	} {
		cases = append(cases, ktCase{name: c.name, op: ktSpec(fb.BuiltinOperatorQUANTIZE, nil, []ktT{ktIn(F, c.input.Shape...)}, c.out),
			inputs: []*npy.Array{c.input}})
	}
	// Requantization. Rescaling 8-bit cases are in TestRequantizeScan
	// (kernels_int_requant_test.go): this runtime hands int8/uint8
	// requantization to XNNPACK, whose 8-bit fixed-point multiplier differs
	// from TensorFlow Lite's kernel in the last unit.
	for _, c := range []struct {
		name    string
		in, out ktT
		input   *npy.Array
	}{
		{"INT8_to_UINT8", q(fb.TensorTypeINT8, 0.1, -5, 4, 8), q(fb.TensorTypeUINT8, 0.1, 123, 4, 8), ktI8(r, -128, 127, 4, 8)},
		{"UINT8_to_INT8", q(fb.TensorTypeUINT8, 0.07, 128, 4, 8), q(fb.TensorTypeINT8, 0.07, 0, 4, 8), ktU8(r, 0, 255, 4, 8)},
		{"INT16_rescale", q(fb.TensorTypeINT16, 0.001, 0, 4, 8), q(fb.TensorTypeINT16, 0.0007, 0, 4, 8), ktI16(r, -32768, 32767, 4, 8)},
		{"INT16_to_INT8", q(fb.TensorTypeINT16, 0.001, 0, 4, 8), q(fb.TensorTypeINT8, 0.2, 5, 4, 8), ktI16(r, -32768, 32767, 4, 8)},
	} {
		cases = append(cases, ktCase{name: c.name, op: ktSpec(fb.BuiltinOperatorQUANTIZE, nil, []ktT{c.in}, c.out),
			inputs: []*npy.Array{c.input}})
	}
	ktCompare(t, cases)
}

func TestCast(t *testing.T) {
	r := ktRand(52)
	F, I, B, U8 := fb.TensorTypeFLOAT32, fb.TensorTypeINT32, fb.TensorTypeBOOL, fb.TensorTypeUINT8
	var cases []ktCase
	for _, c := range []struct {
		out   fb.TensorType
		input *npy.Array
	}{
		{I, ktF32(r, -100, 100, 3, 20)},
		{U8, ktF32(r, 0, 255, 3, 20)},
		{B, ktF32Grid(r, -2, 2, 3, 20)},
		{F, ktI32(r, -100000, 100000, 3, 20)},
		{B, ktI32(r, -2, 2, 3, 20)},
		{F, ktBool(r, 3, 20)},
		{I, ktBool(r, 3, 20)},
		{F, ktU8(r, 0, 255, 3, 20)},
		{I, ktU8(r, 0, 255, 3, 20)},
		{F, ktI8(r, -128, 127, 3, 20)},
		{F, ktI16(r, -32768, 32767, 3, 20)},
	} {
		in := ktTypeOf(c.input.DType)
		m := ktSpec(fb.BuiltinOperatorCAST, &fb.CastOptionsT{InDataType: in, OutDataType: c.out}, []ktT{ktIn(in, c.input.Shape...)}, ktIn(c.out, c.input.Shape...))
		cases = append(cases, ktCase{name: tflite.TypeName(in) + "_to_" + tflite.TypeName(c.out), op: m, inputs: []*npy.Array{c.input}})
	}
	ktCompare(t, cases)
}

func TestQuantHand(t *testing.T) {
	F := fb.TensorTypeFLOAT32
	q := func(typ fb.TensorType, scale float32, zp int64, shape ...int) ktT {
		return ktQuant(ktIn(typ, shape...), []float32{scale}, []int64{zp}, 0)
	}
	// Float to int8 QUANTIZE as the runtime's XNNPACK runs it: ties to
	// even (0.25/0.5 = 0.5 → 0, plus the zero point 1), clamped; checked
	// against the runtime. (NaN inputs are left out: litequant gives the
	// zero point, the runtime another value not yet pinned down.)
	m := ktModel(fb.BuiltinOperatorQUANTIZE, nil, []ktT{ktIn(F, 8)}, q(fb.TensorTypeINT8, 0.5, 1, 8))
	in := npy.FromFloat32([]int{8}, []float32{0.25, -0.25, 0.75, -0.75, 100, -100, 1.25, 0})
	o := ktRun(t, m, in)[0].I8()
	if want := []int8{1, 1, 3, -1, 127, -128, 3, 1}; !bytes.Equal(ktBytes(o), ktBytes(want)) {
		t.Errorf("QUANTIZE: %v, want %v", o, want)
	}
	ktCompare(t, []ktCase{{name: "quantize_ties_nan", model: m, inputs: []*npy.Array{in}}})
	// Requantization with TensorFlow Lite's fixed-point multiplier and its
	// two roundings (mixed uint8 -> int8, which XNNPACK does not take):
	// float32(0.02)/float32(0.3) is 1145324541 * 2^-34, and x - zp = -97,
	// 7, 142 give -6.47 -> -7, 0.47 -> 1 (the doubling multiply rounds to
	// 4/8, then the shift rounds half away from zero) and 9.47 -> 10.
	m = ktModel(fb.BuiltinOperatorQUANTIZE, nil, []ktT{q(fb.TensorTypeUINT8, 0.02, 100, 3)}, q(fb.TensorTypeINT8, 0.3, -118, 3))
	if o := ktRun(t, m, npy.FromUint8([]int{3}, []uint8{3, 107, 242}))[0].I8(); o[0] != -125 || o[1] != -117 || o[2] != -108 {
		t.Fatalf("UINT8 to INT8 requantize: %v, want [-125 -117 -108]", o)
	}
	ktCompare(t, []ktCase{{name: "requantize_u8_i8", model: m, inputs: []*npy.Array{npy.FromUint8([]int{3}, []uint8{3, 107, 242})}}})
	// uint8 -> uint8 goes to XNNPACK (kernels_int_requant.go): multiplier
	// lrintf(256 · 0.0667) = 17, ((x - zp)·17 + 128) >> 8 gives -6, 0, 9.
	m = ktModel(fb.BuiltinOperatorQUANTIZE, nil, []ktT{q(fb.TensorTypeUINT8, 0.02, 100, 3)}, q(fb.TensorTypeUINT8, 0.3, 10, 3))
	if o := ktRun(t, m, npy.FromUint8([]int{3}, []uint8{3, 107, 242}))[0].U8(); o[0] != 4 || o[1] != 10 || o[2] != 19 {
		t.Fatalf("UINT8 requantize: %v, want [4 10 19]", o)
	}
	ktCompare(t, []ktCase{{name: "requantize_u8_u8", model: m, inputs: []*npy.Array{npy.FromUint8([]int{3}, []uint8{3, 107, 242})}}})
	if mult, shift := qMultiplier(float64(float32(0.02)) / float64(float32(0.3))); mult != 1145324541 || shift != -3 {
		t.Fatalf("qMultiplier: %d, %d", mult, shift)
	}
	// int8 -> int8 with a scale above 1 (left shift) and clamping.
	m = ktModel(fb.BuiltinOperatorQUANTIZE, nil, []ktT{q(fb.TensorTypeINT8, 0.5, 0, 4)}, q(fb.TensorTypeINT8, 0.25, -1, 4))
	o = ktRun(t, m, npy.FromInt8([]int{4}, []int8{3, -3, 100, -100}))[0].I8()
	if want := []int8{5, -7, 127, -128}; !bytes.Equal(ktBytes(o), ktBytes(want)) {
		t.Fatalf("INT8 requantize: %v, want %v", o, want)
	}
	// Per-channel QUANTIZE (an extension over TensorFlow Lite).
	m = ktModel(fb.BuiltinOperatorQUANTIZE, nil, []ktT{ktIn(F, 2, 2)},
		ktQuant(ktIn(fb.TensorTypeINT8, 2, 2), []float32{1, 0.1}, []int64{0, 0}, 1))
	o = ktRun(t, m, npy.FromFloat32([]int{2, 2}, []float32{1, 1, -2, 0.5}))[0].I8()
	if want := []int8{1, 10, -2, 5}; !bytes.Equal(ktBytes(o), ktBytes(want)) {
		t.Fatalf("per-channel QUANTIZE: %v, want %v", o, want)
	}
	// DEQUANTIZE FLOAT16 specials: infinities, NaN, subnormals.
	h := ktHalfArray([]int{6}, []uint16{0x7c00, 0xfc00, 0x7e00, 0x0001, 0x8200, 0x3c01})
	b := ktModelB(fb.BuiltinOperatorDEQUANTIZE, 3, nil, []ktT{ktIn(fb.TensorTypeFLOAT16, 6)}, []ktT{ktIn(F, 6)})
	got := ktRun(t, b.Bytes(), h)[0]
	inf := float32(math.Inf(1))
	ktCheckF32(t, got, []int{6}, []float32{inf, -inf, float32(math.NaN()), 0x1p-24, -0x1p-15, 1 + 0x1p-10})
	// Round trip of every half value through qF32ToHalf.
	for v := 0; v < 1<<16; v++ {
		f := halfToF32(uint16(v))
		back := f32ToHalf(f)
		if f == f && back != uint16(v) {
			t.Fatalf("half %#04x -> %v -> %#04x", v, f, back)
		}
	}
	// Rounding to nearest even in the encoder.
	for _, c := range []struct {
		f    float32
		want uint16
	}{{1 + 0x1p-11, 0x3c00}, {1 + 3*0x1p-11, 0x3c02}, {65520, 0x7c00}, {65519, 0x7bff}, {0x1p-25, 0}, {0x1.8p-25, 1}, {0x1p-24 * 1.5, 2}} {
		if got := f32ToHalf(c.f); got != c.want {
			t.Errorf("f32ToHalf(%v) = %#04x, want %#04x", c.f, got, c.want)
		}
	}
	// INT4 dequantization, packed two per byte.
	b = ktModelB(fb.BuiltinOperatorDEQUANTIZE, 1, nil,
		[]ktT{{typ: fb.TensorTypeINT4, shape: []int{3}, data: []byte{0x8f, 0x07}, scale: []float32{0.5}, zp: []int64{0}}}, []ktT{ktIn(F, 3)})
	ktAddInput(b, []int{3})
	ktCheckF32(t, ktRun(t, b.Bytes(), npy.FromFloat32([]int{3}, make([]float32, 3)))[0], []int{3}, []float32{-0.5, -4, 3.5})
	// CAST to and from types the runtime cannot exchange.
	m = ktModel(fb.BuiltinOperatorCAST, nil, []ktT{ktIn(F, 4)}, ktIn(fb.TensorTypeINT64, 4))
	o64 := ktRun(t, m, npy.FromFloat32([]int{4}, []float32{-2.7, 2.7, 1e10, 0}))[0].I64()
	if o64[0] != -2 || o64[1] != 2 || o64[2] != 1e10 || o64[3] != 0 {
		t.Fatalf("CAST to INT64: %v", o64)
	}
	m = ktModel(fb.BuiltinOperatorCAST, nil, []ktT{ktIn(F, 3)}, ktIn(fb.TensorTypeFLOAT16, 3))
	o16 := ktRun(t, m, npy.FromFloat32([]int{3}, []float32{1, -2, 70000}))[0].U16()
	if o16[0] != 0x3c00 || o16[1] != 0xc000 || o16[2] != 0x7c00 {
		t.Fatalf("CAST to FLOAT16: %#x", o16)
	}
	m = ktModel(fb.BuiltinOperatorCAST, nil, []ktT{ktIn(fb.TensorTypeINT64, 2)}, ktIn(fb.TensorTypeINT32, 2))
	ktCheckI32(t, ktRun(t, m, npy.FromInt64([]int{2}, []int64{1<<32 + 5, -1}))[0], []int{2}, []int32{5, -1})
}

func ktBytes(v []int8) []byte {
	out := make([]byte, len(v))
	for i, x := range v {
		out[i] = byte(x)
	}
	return out
}

func TestQuantErrors(t *testing.T) {
	F := fb.TensorTypeFLOAT32
	x := npy.FromFloat32([]int{2}, []float32{1, 2})
	// QUANTIZE to a tensor without quantization parameters.
	m := ktModel(fb.BuiltinOperatorQUANTIZE, nil, []ktT{ktIn(F, 2)}, ktIn(fb.TensorTypeINT8, 2))
	ktWantErr(t, "no quantization scale", m, x)
	m = ktModel(fb.BuiltinOperatorQUANTIZE, nil, []ktT{ktIn(F, 2)}, ktQuant(ktIn(fb.TensorTypeINT32, 2), []float32{1}, []int64{0}, 0))
	ktWantErr(t, "unsupported", m, x)
	// Per-channel parameters that do not fit the shape.
	m = ktModel(fb.BuiltinOperatorDEQUANTIZE, nil, []ktT{ktQuant(ktIn(fb.TensorTypeINT8, 2, 3), []float32{1, 2}, []int64{0, 0}, 1)}, ktIn(F, 2, 3))
	ktWantErr(t, "do not match", m, npy.FromInt8([]int{2, 3}, make([]int8, 6)))
	m = ktModel(fb.BuiltinOperatorDEQUANTIZE, nil, []ktT{ktIn(fb.TensorTypeINT8, 2)}, ktIn(F, 2))
	ktWantErr(t, "no quantization scale", m, npy.FromInt8([]int{2}, make([]int8, 2)))
	m = ktModel(fb.BuiltinOperatorCAST, nil, []ktT{ktIn(F, 2)}, ktIn(fb.TensorTypeSTRING, 2))
	ktWantErr(t, "unsupported", m, x)
}

// Sparse constants and DENSIFY.

// ktSparse is a sparse constant in TensorFlow Lite's format.
type ktSparse struct {
	name   string
	shape  []int
	sp     *fb.SparsityParametersT
	values []float32
	want   []float32 // dense
}

func ktDense(size int32) *fb.DimensionMetadataT {
	return &fb.DimensionMetadataT{Format: fb.DimensionTypeDENSE, DenseSize: size}
}

func ktCSR(seg, idx []int32, kind fb.SparseIndexVector) *fb.DimensionMetadataT {
	vec := func(v []int32) *fb.SparseIndexVectorT {
		switch kind {
		case fb.SparseIndexVectorUint8Vector:
			b := make([]byte, len(v))
			for i, x := range v {
				b[i] = byte(x)
			}
			return &fb.SparseIndexVectorT{Type: kind, Value: &fb.Uint8VectorT{Values: b}}
		case fb.SparseIndexVectorUint16Vector:
			b := make([]uint16, len(v))
			for i, x := range v {
				b[i] = uint16(x)
			}
			return &fb.SparseIndexVectorT{Type: kind, Value: &fb.Uint16VectorT{Values: b}}
		}
		return &fb.SparseIndexVectorT{Type: fb.SparseIndexVectorInt32Vector, Value: &fb.Int32VectorT{Values: v}}
	}
	return &fb.DimensionMetadataT{Format: fb.DimensionTypeSPARSE_CSR, ArraySegments: vec(seg), ArrayIndices: vec(idx)}
}

var ktSparseCases = []ktSparse{
	{
		// CSR: rows dense, columns compressed.
		name:  "csr",
		shape: []int{4, 4},
		sp: &fb.SparsityParametersT{TraversalOrder: []int32{0, 1},
			DimMetadata: []*fb.DimensionMetadataT{ktDense(4), ktCSR([]int32{0, 3, 3, 4, 6}, []int32{0, 2, 3, 0, 2, 3}, fb.SparseIndexVectorInt32Vector)}},
		values: []float32{6, 9, 8, 5, 3, 7},
		want:   []float32{6, 0, 9, 8, 0, 0, 0, 0, 5, 0, 0, 0, 0, 0, 3, 7},
	},
	{
		// CSC: traversal order [1, 0], uint8 indices.
		name:  "csc_uint8",
		shape: []int{3, 4},
		sp: &fb.SparsityParametersT{TraversalOrder: []int32{1, 0},
			DimMetadata: []*fb.DimensionMetadataT{ktDense(4), ktCSR([]int32{0, 1, 1, 3, 4}, []int32{2, 0, 1, 2}, fb.SparseIndexVectorUint8Vector)}},
		values: []float32{1, 2, 3, 4},
		// column 0: row 2; column 2: rows 0, 1; column 3: row 2.
		want: []float32{0, 0, 2, 0, 0, 0, 3, 0, 1, 0, 0, 4},
	},
	{
		// 2x2 blocks: a [4, 4] tensor as a 2x2 grid of dense blocks, the
		// grid's columns compressed (uint16 indices).
		name:  "block2x2",
		shape: []int{4, 4},
		sp: &fb.SparsityParametersT{TraversalOrder: []int32{0, 1, 2, 3}, BlockMap: []int32{0, 1},
			DimMetadata: []*fb.DimensionMetadataT{ktDense(2), ktCSR([]int32{0, 2, 3}, []int32{0, 1, 1}, fb.SparseIndexVectorUint16Vector), ktDense(2), ktDense(2)}},
		values: []float32{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12},
		want: []float32{
			1, 2, 5, 6,
			3, 4, 7, 8,
			0, 0, 9, 10,
			0, 0, 11, 12,
		},
	},
	{
		// 1x4 blocks on the second dimension of [2, 8].
		name:  "block1x4",
		shape: []int{2, 8},
		sp: &fb.SparsityParametersT{TraversalOrder: []int32{0, 1, 2}, BlockMap: []int32{1},
			DimMetadata: []*fb.DimensionMetadataT{ktDense(2), ktCSR([]int32{0, 1, 2}, []int32{1, 0}, fb.SparseIndexVectorInt32Vector), ktDense(4)}},
		values: []float32{1, 2, 3, 4, 5, 6, 7, 8},
		want:   []float32{0, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 0, 0, 0, 0},
	},
	{
		// Both dimensions compressed (doubly sparse).
		name:  "dcsr",
		shape: []int{3, 3},
		sp: &fb.SparsityParametersT{TraversalOrder: []int32{0, 1},
			DimMetadata: []*fb.DimensionMetadataT{ktCSR([]int32{0, 2}, []int32{0, 2}, fb.SparseIndexVectorInt32Vector), ktCSR([]int32{0, 1, 3}, []int32{1, 0, 2}, fb.SparseIndexVectorInt32Vector)}},
		values: []float32{1, 2, 3},
		want:   []float32{0, 1, 0, 0, 0, 0, 2, 0, 3},
	},
}

// ktSparseModel is out = DENSIFY(sparse) + x, x a graph input (zeros).
func ktSparseModel(c ktSparse) []byte {
	b := modelbuild.New()
	s := b.ConstFloat32("sparse", ktShape32(c.shape), c.values)
	b.TensorT(s).Sparsity = c.sp
	d := b.Tensor("dense", fb.TensorTypeFLOAT32, ktShape32(c.shape)...)
	b.Op(fb.BuiltinOperatorDENSIFY, nil, []int32{s}, []int32{d})
	b.Outputs(d)
	ktAddInput(b, c.shape)
	return b.Bytes()
}

func TestDensifyFormat(t *testing.T) {
	for _, c := range ktSparseCases {
		got, err := densify(c.sp, c.shape, 4, modelbuild.Float32Bytes(c.values))
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if !bytes.Equal(got, modelbuild.Float32Bytes(c.want)) {
			t.Errorf("%s: got %v, want %v", c.name, view[float32](got), c.want)
		}
	}
	// Bad metadata gives errors.
	bad := []*fb.SparsityParametersT{
		{TraversalOrder: []int32{0, 0}, DimMetadata: []*fb.DimensionMetadataT{ktDense(4), ktDense(4)}},
		{TraversalOrder: []int32{0, 1}, DimMetadata: []*fb.DimensionMetadataT{ktDense(4)}},
		{TraversalOrder: []int32{0, 1}, DimMetadata: []*fb.DimensionMetadataT{ktDense(4), ktCSR([]int32{0, 9}, []int32{0}, fb.SparseIndexVectorInt32Vector)}},
		{TraversalOrder: []int32{0, 1}, DimMetadata: []*fb.DimensionMetadataT{ktDense(1), ktCSR([]int32{0, 1}, []int32{7}, fb.SparseIndexVectorInt32Vector)}},
		{TraversalOrder: []int32{0, 1}, DimMetadata: []*fb.DimensionMetadataT{ktDense(4), ktDense(4)}}, // too few values
		{TraversalOrder: []int32{0, 1, 2}, BlockMap: []int32{5}, DimMetadata: []*fb.DimensionMetadataT{ktDense(4), ktDense(1), ktDense(4)}},
	}
	for i, sp := range bad {
		if _, err := densify(sp, []int{4, 4}, 4, make([]byte, 4*4)); err == nil {
			t.Errorf("bad sparsity %d: no error", i)
		}
	}
}

// TestDensifyRuntime checks the format against the real runtime's DENSIFY.
func TestDensifyRuntime(t *testing.T) {
	for _, c := range ktSparseCases {
		t.Run(c.name, func(t *testing.T) {
			model := ktSparseModel(c)
			zeros := npy.FromFloat32(c.shape, make([]float32, ktCount(c.shape)))
			out := runtimetest.RunBytes(t, model, zeros)
			got, err := out[0].Float32s()
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(modelbuild.Float32Bytes(got), modelbuild.Float32Bytes(c.want)) {
				t.Fatalf("runtime: %v, want %v", got, c.want)
			}
		})
	}
}

// TestDensifyInterp runs DENSIFY in the interpreter; it is skipped while
// the interpreter refuses sparse constants.
func TestDensifyInterp(t *testing.T) {
	for _, c := range ktSparseCases {
		t.Run(c.name, func(t *testing.T) {
			zeros := npy.FromFloat32(c.shape, make([]float32, ktCount(c.shape)))
			outs, err := ktTry(ktSparseModel(c), zeros)
			if err != nil && strings.Contains(err.Error(), "sparse constants are not supported") {
				t.Skip("interpreter refuses sparse constants: ", err)
			}
			if err != nil {
				t.Fatal(err)
			}
			ktCheckF32(t, outs[0], c.shape, c.want)
		})
	}
}
