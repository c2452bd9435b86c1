package interp

import (
	"fmt"
	"unsafe"

	fb "litequant/core/schema/tflitefb"
	"litequant/core/tflite"
)

// Tensor is a tensor at run time. Data holds the elements little-endian in
// row-major order; the typed accessors view it without copying.
type Tensor struct {
	Index int // index in the subgraph
	Name  string
	Type  fb.TensorType
	Shape []int
	Data  []byte

	// Affine quantization from the model, if any (used by DEQUANTIZE and
	// QUANTIZE, and by integer kernels).
	Scale     []float32
	ZeroPoint []int64
	QuantAxis int

	isConst bool
}

// IsConst reports whether the tensor is a model constant (or folded from
// constants at construction).
func (t *Tensor) IsConst() bool { return t.isConst }

// NumElements is the product of the shape's dimensions.
func (t *Tensor) NumElements() int { return numElements(t.Shape) }

func numElements(shape []int) int {
	n := 1
	for _, d := range shape {
		if d < 0 {
			return 0 // unknown dimension: no data until resized
		}
		n *= d
	}
	return n
}

// ElemSize is the storage size of one element in bytes.
func (t *Tensor) ElemSize() int { return elemSize(t.Type) }

func elemSize(t fb.TensorType) int {
	b := tflite.TypeBits(t)
	if b < 8 {
		return 1
	}
	return b / 8
}

func view[T any](b []byte) []T {
	if len(b) == 0 {
		return nil
	}
	var z T
	return unsafe.Slice((*T)(unsafe.Pointer(&b[0])), len(b)/int(unsafe.Sizeof(z)))
}

// F32 views the data as float32.
func (t *Tensor) F32() []float32 { return view[float32](t.Data) }

// I32 views the data as int32.
func (t *Tensor) I32() []int32 { return view[int32](t.Data) }

// I64 views the data as int64.
func (t *Tensor) I64() []int64 { return view[int64](t.Data) }

// I16 views the data as int16.
func (t *Tensor) I16() []int16 { return view[int16](t.Data) }

// U16 views the data as uint16 (also the bits of FLOAT16 data).
func (t *Tensor) U16() []uint16 { return view[uint16](t.Data) }

// I8 views the data as int8.
func (t *Tensor) I8() []int8 { return view[int8](t.Data) }

// U8 views the data as uint8.
func (t *Tensor) U8() []uint8 { return t.Data }

// Bool views the data as bool (one byte each, 0 or 1).
func (t *Tensor) Bool() []bool { return view[bool](t.Data) }

// String describes the tensor for error messages.
func (t *Tensor) String() string {
	return fmt.Sprintf("tensor %d (%q, %s%v)", t.Index, t.Name, tflite.TypeName(t.Type), t.Shape)
}

// alignedBytes allocates n bytes aligned for any element type.
func alignedBytes(n int) []byte {
	if n == 0 {
		return []byte{}
	}
	words := make([]uint64, (n+7)/8)
	return unsafe.Slice((*byte)(unsafe.Pointer(&words[0])), n)[:n:n]
}

// ints converts an int32 or int64 tensor's values to []int (shape and index
// operands).
func (t *Tensor) ints() ([]int, error) {
	switch t.Type {
	case fb.TensorTypeINT32:
		v := t.I32()
		out := make([]int, len(v))
		for i, x := range v {
			out[i] = int(x)
		}
		return out, nil
	case fb.TensorTypeINT64:
		v := t.I64()
		out := make([]int, len(v))
		for i, x := range v {
			out[i] = int(x)
		}
		return out, nil
	}
	return nil, fmt.Errorf("%v: want INT32 or INT64 values", t)
}
