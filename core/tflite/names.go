package tflite

import (
	"fmt"
	"math"

	fb "litequant/core/schema/tflitefb"
)

// TypeName returns the schema's name for a tensor type ("FLOAT32", "INT8",
// ...), or "TensorType(N)" for a code the schema does not define.
func TypeName(t fb.TensorType) string {
	if s, ok := fb.EnumNamesTensorType[t]; ok {
		return s
	}
	return fmt.Sprintf("TensorType(%d)", int(t))
}

// TypeBits returns the storage size of one element of t in bits, or 0 for
// types without a fixed size (STRING, RESOURCE, VARIANT) and unknown codes.
func TypeBits(t fb.TensorType) int {
	switch t {
	case fb.TensorTypeBOOL, fb.TensorTypeINT8, fb.TensorTypeUINT8:
		return 8
	case fb.TensorTypeINT4:
		return 4
	case fb.TensorTypeFLOAT16, fb.TensorTypeBFLOAT16, fb.TensorTypeINT16, fb.TensorTypeUINT16:
		return 16
	case fb.TensorTypeFLOAT32, fb.TensorTypeINT32, fb.TensorTypeUINT32:
		return 32
	case fb.TensorTypeFLOAT64, fb.TensorTypeINT64, fb.TensorTypeUINT64, fb.TensorTypeCOMPLEX64:
		return 64
	case fb.TensorTypeCOMPLEX128:
		return 128
	}
	return 0
}

// OpName returns an operator code's builtin name ("CONV_2D"), or
// "CUSTOM:<custom_code>" for a custom op.
func OpCodeName(oc *fb.OperatorCodeT) string {
	if oc == nil {
		return "?"
	}
	if oc.BuiltinCode == fb.BuiltinOperatorCUSTOM {
		return "CUSTOM:" + oc.CustomCode
	}
	if s, ok := fb.EnumNamesBuiltinOperator[oc.BuiltinCode]; ok {
		return s
	}
	return fmt.Sprintf("BuiltinOperator(%d)", int(oc.BuiltinCode))
}

// OpName returns the name of the operator's code, as OpCodeName does, or
// "?" when its opcode index is out of range.
func (m *Model) OpName(op *fb.OperatorT) string {
	if oc := m.OpCode(op); oc != nil {
		return OpCodeName(oc)
	}
	return "?"
}

// OpCode returns the operator's code table, or nil when its index is out of
// range.
func (m *Model) OpCode(op *fb.OperatorT) *fb.OperatorCodeT {
	if op == nil || int64(op.OpcodeIndex) >= int64(len(m.OperatorCodes)) {
		return nil
	}
	return m.OperatorCodes[op.OpcodeIndex]
}

// Builtin returns the operator's builtin code (CUSTOM for custom ops).
func (m *Model) Builtin(op *fb.OperatorT) fb.BuiltinOperator {
	if oc := m.OpCode(op); oc != nil {
		return oc.BuiltinCode
	}
	return fb.BuiltinOperatorCUSTOM
}

// TensorData returns the constant data of tensor t, or nil when it has none.
func (m *Model) TensorData(t *fb.TensorT) []byte {
	if t == nil || t.Buffer == 0 || int(t.Buffer) >= len(m.Buffers) {
		return nil
	}
	return m.Buffers[t.Buffer].Data
}

// NumElements returns the product of shape's dimensions (1 for a scalar),
// or -1 if a dimension is negative (unknown).
func NumElements(shape []int32) int {
	n := 1
	for _, d := range shape {
		if d < 0 {
			return -1
		}
		n *= int(d)
	}
	return n
}

// IntRange returns the values an integer tensor type holds (BOOL is
// [0, 1]); other types get the int64 range.
func IntRange(t fb.TensorType) (lo, hi int64) {
	switch t {
	case fb.TensorTypeINT8:
		return math.MinInt8, math.MaxInt8
	case fb.TensorTypeUINT8:
		return 0, math.MaxUint8
	case fb.TensorTypeINT16:
		return math.MinInt16, math.MaxInt16
	case fb.TensorTypeINT32:
		return math.MinInt32, math.MaxInt32
	case fb.TensorTypeBOOL:
		return 0, 1
	}
	return math.MinInt64, math.MaxInt64
}
