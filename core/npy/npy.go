// Package npy reads and writes NumPy .npy files and .npz archives.
//
// An [Array] holds the raw element bytes in little-endian, C (row-major)
// order, together with the element type and the shape. Read accepts format
// versions 1.0, 2.0 and 3.0, converts big-endian data to little-endian, and
// rejects what cannot be represented: Fortran-order, object and structured
// arrays, strings, complex numbers and dates. Write produces version 1.0
// files (2.0 when the header does not fit), laid out as numpy.save does.
//
// The decoder never trusts the sizes it reads: a header's declared data size
// is checked for overflow and, when the input's length is known, against the
// bytes available; from a plain [io.Reader] the buffer grows only as data
// actually arrives.
//
// The format is described at
// https://numpy.org/doc/stable/reference/generated/numpy.lib.format.html.
package npy

import (
	"encoding/binary"
	"errors"
	"fmt"
	"github.com/x448/float16"
	"math"
	"math/bits"
)

// DType is the type of an array's elements.
type DType uint8

// The supported element types.
const (
	InvalidDType DType = iota
	Bool
	Int8
	Uint8
	Int16
	Uint16
	Int32
	Uint32
	Int64
	Uint64
	Float16
	Float32
	Float64
)

var dtypeInfo = [...]struct {
	name string
	code byte // numpy type character: b, i, u or f
	size int
}{
	InvalidDType: {"invalid", 0, 0},
	Bool:         {"bool", 'b', 1},
	Int8:         {"int8", 'i', 1},
	Uint8:        {"uint8", 'u', 1},
	Int16:        {"int16", 'i', 2},
	Uint16:       {"uint16", 'u', 2},
	Int32:        {"int32", 'i', 4},
	Uint32:       {"uint32", 'u', 4},
	Int64:        {"int64", 'i', 8},
	Uint64:       {"uint64", 'u', 8},
	Float16:      {"float16", 'f', 2},
	Float32:      {"float32", 'f', 4},
	Float64:      {"float64", 'f', 8},
}

func (d DType) valid() bool { return d > InvalidDType && int(d) < len(dtypeInfo) }

// String returns numpy's name for the type, such as "float32" or "bool".
func (d DType) String() string {
	if !d.valid() {
		return fmt.Sprintf("DType(%d)", uint8(d))
	}
	return dtypeInfo[d].name
}

// Size returns the size of one element in bytes, or 0 for an invalid DType.
func (d DType) Size() int {
	if !d.valid() {
		return 0
	}
	return dtypeInfo[d].size
}

// IsFloat reports whether d is a floating-point type.
func (d DType) IsFloat() bool { return d.valid() && dtypeInfo[d].code == 'f' }

// IsInteger reports whether d is a signed or unsigned integer type.
func (d DType) IsInteger() bool {
	return d.valid() && (dtypeInfo[d].code == 'i' || dtypeInfo[d].code == 'u')
}

// Descr returns the little-endian numpy type string for d, such as "<f4" or
// "|u1", as written in .npy headers.
func (d DType) Descr() string {
	if !d.valid() {
		return ""
	}
	order := byte('<')
	if d.Size() == 1 {
		order = '|'
	}
	return fmt.Sprintf("%c%c%d", order, dtypeInfo[d].code, d.Size())
}

// ParseDType returns the DType with numpy's name s, such as "float32".
func ParseDType(s string) (DType, error) {
	for d := Bool; d.valid(); d++ {
		if dtypeInfo[d].name == s {
			return d, nil
		}
	}
	return InvalidDType, fmt.Errorf("npy: unknown dtype %q", s)
}

// Array is an n-dimensional array. Data holds the elements in little-endian
// byte order and C order (the last index varies fastest); its length is
// NumElements()*DType.Size(). An empty Shape is a scalar with one element.
type Array struct {
	DType DType
	Shape []int
	Data  []byte
}

// NumElements returns the number of elements the shape describes (1 for a
// scalar), or -1 if a dimension is negative or the product overflows an int.
func (a *Array) NumElements() int {
	n, ok := numElements(a.Shape)
	if !ok {
		return -1
	}
	return n
}

// numElements returns the product of shape and whether it is valid: no
// negative dimension and no overflow of int.
func numElements(shape []int) (int, bool) {
	n := uint64(1)
	for _, d := range shape {
		if d < 0 {
			return 0, false
		}
		hi, lo := bits.Mul64(n, uint64(d))
		if hi != 0 || lo > math.MaxInt {
			return 0, false
		}
		n = lo
	}
	return int(n), true
}

// byteSize returns the size in bytes of the data of an array with this type
// and shape, checking for overflow.
func byteSize(d DType, shape []int) (int, error) {
	n, ok := numElements(shape)
	if !ok {
		return 0, fmt.Errorf("invalid shape %v: negative dimension or too many elements", shape)
	}
	hi, lo := bits.Mul64(uint64(n), uint64(d.Size()))
	if hi != 0 || lo > math.MaxInt {
		return 0, fmt.Errorf("shape %v of %v is too large", shape, d)
	}
	return int(lo), nil
}

// Validate checks that the DType is valid and that Data has exactly the
// length the shape and type call for.
func (a *Array) Validate() error {
	if a == nil {
		return errors.New("npy: nil array")
	}
	if !a.DType.valid() {
		return fmt.Errorf("npy: invalid dtype %v", a.DType)
	}
	size, err := byteSize(a.DType, a.Shape)
	if err != nil {
		return fmt.Errorf("npy: %w", err)
	}
	if len(a.Data) != size {
		return fmt.Errorf("npy: %v array of shape %v needs %d data bytes, has %d", a.DType, a.Shape, size, len(a.Data))
	}
	return nil
}

// String describes the array's type and shape, such as "float32[200 1]".
func (a *Array) String() string {
	if a == nil {
		return "<nil>"
	}
	return fmt.Sprintf("%v%v", a.DType, a.Shape)
}

// ---------------------------------------------------------------------------
// Constructors

func newArray[T any](d DType, shape []int, v []T, put func(b []byte, x T)) *Array {
	n, ok := numElements(shape)
	if !ok || n != len(v) {
		panic(fmt.Sprintf("npy: %d values do not fill shape %v", len(v), shape))
	}
	size := d.Size()
	data := make([]byte, len(v)*size)
	for i, x := range v {
		put(data[i*size:], x)
	}
	return &Array{DType: d, Shape: append([]int(nil), shape...), Data: data}
}

// FromFloat32 returns a float32 array of the given shape holding a copy of v.
// It panics if len(v) does not match the shape.
func FromFloat32(shape []int, v []float32) *Array {
	return newArray(Float32, shape, v, func(b []byte, x float32) {
		binary.LittleEndian.PutUint32(b, math.Float32bits(x))
	})
}

// FromFloat64 returns a float64 array; see [FromFloat32].
func FromFloat64(shape []int, v []float64) *Array {
	return newArray(Float64, shape, v, func(b []byte, x float64) {
		binary.LittleEndian.PutUint64(b, math.Float64bits(x))
	})
}

// FromInt8 returns an int8 array; see [FromFloat32].
func FromInt8(shape []int, v []int8) *Array {
	return newArray(Int8, shape, v, func(b []byte, x int8) { b[0] = byte(x) })
}

// FromUint8 returns a uint8 array; see [FromFloat32].
func FromUint8(shape []int, v []uint8) *Array {
	return newArray(Uint8, shape, v, func(b []byte, x uint8) { b[0] = x })
}

// FromInt16 returns an int16 array; see [FromFloat32].
func FromInt16(shape []int, v []int16) *Array {
	return newArray(Int16, shape, v, func(b []byte, x int16) {
		binary.LittleEndian.PutUint16(b, uint16(x))
	})
}

// FromInt32 returns an int32 array; see [FromFloat32].
func FromInt32(shape []int, v []int32) *Array {
	return newArray(Int32, shape, v, func(b []byte, x int32) {
		binary.LittleEndian.PutUint32(b, uint32(x))
	})
}

// FromInt64 returns an int64 array; see [FromFloat32].
func FromInt64(shape []int, v []int64) *Array {
	return newArray(Int64, shape, v, func(b []byte, x int64) {
		binary.LittleEndian.PutUint64(b, uint64(x))
	})
}

// FromBool returns a bool array; see [FromFloat32].
func FromBool(shape []int, v []bool) *Array {
	return newArray(Bool, shape, v, func(b []byte, x bool) {
		if x {
			b[0] = 1
		} else {
			b[0] = 0
		}
	})
}

// ---------------------------------------------------------------------------
// Accessors

// float reads element i of a floating-point array.
func (a *Array) float(i int) float64 {
	switch a.DType {
	case Float16:
		return float64(halfToFloat32(binary.LittleEndian.Uint16(a.Data[2*i:])))
	case Float32:
		return float64(math.Float32frombits(binary.LittleEndian.Uint32(a.Data[4*i:])))
	default: // Float64
		return math.Float64frombits(binary.LittleEndian.Uint64(a.Data[8*i:]))
	}
}

// integer reads element i of a bool or integer array. For uint64 values
// above math.MaxInt64, big is true and v holds the value's low 64 bits.
func (a *Array) integer(i int) (v int64, big bool) {
	switch a.DType {
	case Bool:
		if a.Data[i] != 0 {
			return 1, false
		}
		return 0, false
	case Uint8:
		return int64(a.Data[i]), false
	case Int8:
		return int64(int8(a.Data[i])), false
	case Int16:
		return int64(int16(binary.LittleEndian.Uint16(a.Data[2*i:]))), false
	case Uint16:
		return int64(binary.LittleEndian.Uint16(a.Data[2*i:])), false
	case Int32:
		return int64(int32(binary.LittleEndian.Uint32(a.Data[4*i:]))), false
	case Uint32:
		return int64(binary.LittleEndian.Uint32(a.Data[4*i:])), false
	case Int64:
		return int64(binary.LittleEndian.Uint64(a.Data[8*i:])), false
	default: // Uint64
		u := binary.LittleEndian.Uint64(a.Data[8*i:])
		return int64(u), u > math.MaxInt64
	}
}

// intString formats element i of an integer array for error messages.
func (a *Array) intString(i int) string {
	v, big := a.integer(i)
	if big {
		return fmt.Sprint(uint64(v))
	}
	return fmt.Sprint(v)
}

// exactIn reports whether the integer element i has at most mantissa
// significant bits, that is, whether a float with that mantissa holds it exactly.
func (a *Array) exactIn(i int, mantissa int) bool {
	v, big := a.integer(i)
	u := uint64(v)
	if v < 0 && !big {
		u = -u
	}
	if u == 0 {
		return true
	}
	u >>= bits.TrailingZeros64(u)
	return bits.Len64(u) <= mantissa
}

// Float32s returns the elements converted to float32. Bool (as 0 and 1),
// 8- and 16-bit integer and float16 elements convert exactly; wider integers
// convert when every value is exactly representable, and otherwise an error
// names the first one that is not; float64 elements are rounded to the
// nearest float32.
func (a *Array) Float32s() ([]float32, error) {
	if err := a.Validate(); err != nil {
		return nil, err
	}
	n := a.NumElements()
	out := make([]float32, n)
	switch {
	case a.DType == Float32:
		for i := range out {
			out[i] = math.Float32frombits(binary.LittleEndian.Uint32(a.Data[4*i:]))
		}
	case a.DType.IsFloat():
		for i := range out {
			out[i] = float32(a.float(i))
		}
	default:
		wide := a.DType.Size() >= 4
		for i := range out {
			if wide && !a.exactIn(i, 24) {
				return nil, fmt.Errorf("npy: %v value %s at index %d is not exactly representable as float32", a.DType, a.intString(i), i)
			}
			v, big := a.integer(i)
			if big {
				out[i] = float32(uint64(v))
			} else {
				out[i] = float32(v)
			}
		}
	}
	return out, nil
}

// Float64s returns the elements converted to float64. Everything converts
// exactly except 64-bit integers needing more than 53 significant bits, which
// are an error.
func (a *Array) Float64s() ([]float64, error) {
	if err := a.Validate(); err != nil {
		return nil, err
	}
	out := make([]float64, a.NumElements())
	if a.DType.IsFloat() {
		for i := range out {
			out[i] = a.float(i)
		}
		return out, nil
	}
	wide := a.DType.Size() == 8
	for i := range out {
		if wide && !a.exactIn(i, 53) {
			return nil, fmt.Errorf("npy: %v value %s at index %d is not exactly representable as float64", a.DType, a.intString(i), i)
		}
		v, big := a.integer(i)
		if big {
			out[i] = float64(uint64(v))
		} else {
			out[i] = float64(v)
		}
	}
	return out, nil
}

type integer interface {
	~int8 | ~uint8 | ~int16 | ~uint16 | ~int32 | ~uint32 | ~int64
}

// integers converts the elements of a bool or integer array to T, failing on
// the first value outside [lo, hi] and on any floating-point array.
func integers[T integer](a *Array, target DType, lo, hi int64) ([]T, error) {
	if err := a.Validate(); err != nil {
		return nil, err
	}
	if a.DType.IsFloat() {
		return nil, fmt.Errorf("npy: cannot convert %v to %v without rounding", a.DType, target)
	}
	out := make([]T, a.NumElements())
	for i := range out {
		v, big := a.integer(i)
		if big || v < lo || v > hi {
			return nil, fmt.Errorf("npy: %v value %s at index %d is out of range for %v", a.DType, a.intString(i), i, target)
		}
		out[i] = T(v)
	}
	return out, nil
}

// Int8s returns the elements of a bool or integer array as int8, or an error
// if the array is floating-point or a value is out of range.
func (a *Array) Int8s() ([]int8, error) {
	return integers[int8](a, Int8, math.MinInt8, math.MaxInt8)
}

// Uint8s returns the elements as uint8; see [Array.Int8s].
func (a *Array) Uint8s() ([]uint8, error) {
	return integers[uint8](a, Uint8, 0, math.MaxUint8)
}

// Int16s returns the elements as int16; see [Array.Int8s].
func (a *Array) Int16s() ([]int16, error) {
	return integers[int16](a, Int16, math.MinInt16, math.MaxInt16)
}

// Int32s returns the elements as int32; see [Array.Int8s].
func (a *Array) Int32s() ([]int32, error) {
	return integers[int32](a, Int32, math.MinInt32, math.MaxInt32)
}

// Int64s returns the elements as int64; see [Array.Int8s].
func (a *Array) Int64s() ([]int64, error) {
	return integers[int64](a, Int64, math.MinInt64, math.MaxInt64)
}

// Bools returns the elements of a bool array. Other types are an error.
func (a *Array) Bools() ([]bool, error) {
	if err := a.Validate(); err != nil {
		return nil, err
	}
	if a.DType != Bool {
		return nil, fmt.Errorf("npy: Bools called on a %v array", a.DType)
	}
	out := make([]bool, len(a.Data))
	for i, b := range a.Data {
		out[i] = b != 0
	}
	return out, nil
}

// halfToFloat32 converts IEEE binary16 bits to float32 (exactly).
func halfToFloat32(h uint16) float32 { return float16.Frombits(h).Float32() }
