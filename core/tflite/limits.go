package tflite

import (
	"fmt"
	"math"
	"slices"
	"strings"

	fb "litequant/core/schema/tflitefb"
)

// maxTensorBytes bounds the size a tensor's shape may declare (2^48 bytes,
// 256 TiB): beyond it the element count times the element size is no size
// any machine has, and products of further dimensions would overflow.
const maxTensorBytes = 1 << 48

// CheckGraph checks what running the model relies on and Validate does not:
// every tensor's shape has a size that can be computed without overflow,
// each subgraph's operators read only tensors written before them (an
// operator reading what it or a later operator writes means the list is out
// of order or cyclic), and no subgraph calls itself, directly or through
// others (WHILE, IF, CALL_ONCE, CALL or StableHLO regions). Load calls it
// after Validate; it assumes a valid model.
func (m *Model) CheckGraph() error {
	for si, sg := range m.Subgraphs {
		for ti, t := range sg.Tensors {
			if err := checkShapeSize(t); err != nil {
				return fmt.Errorf("subgraph %d, tensor %d (%q): %w", si, ti, t.Name, err)
			}
		}
		if err := m.checkOrder(si); err != nil {
			return err
		}
		if err := m.checkDequantize(si); err != nil {
			return err
		}
	}
	return m.checkRecursion()
}

// checkShapeSize refuses a shape whose byte size overflows or exceeds
// maxTensorBytes. Dimensions below zero (unknown) count as 1.
func checkShapeSize(t *fb.TensorT) error {
	bits := int64(TypeBits(t.Type))
	if bits == 0 {
		bits = 8
	}
	n := int64(1)
	for _, d := range t.Shape {
		if d <= 0 {
			continue
		}
		if n > math.MaxInt64/int64(d) || n*int64(d) > maxTensorBytes*8/bits {
			return fmt.Errorf("shape %v of %s is too large: more than %d bytes (the element count overflows or exceeds any memory)", t.Shape, TypeName(t.Type), int64(maxTensorBytes))
		}
		n *= int64(d)
	}
	return nil
}

// checkOrder refuses an operator that reads a tensor written by itself or a
// later operator of subgraph si. Constants, subgraph inputs and variable
// tensors are exempt (variables are read and updated in place).
func (m *Model) checkOrder(si int) error {
	sg := m.Subgraphs[si]
	writer := make([]int, len(sg.Tensors))
	for i := range writer {
		writer[i] = -1
	}
	for oi, op := range sg.Operators {
		for _, t := range op.Outputs {
			if t >= 0 && writer[t] < 0 {
				writer[t] = oi
			}
		}
	}
	isInput := make([]bool, len(sg.Tensors))
	for _, t := range sg.Inputs {
		isInput[t] = true
	}
	for oi, op := range sg.Operators {
		for k, t := range op.Inputs {
			if t < 0 {
				continue
			}
			// Reading what it writes itself is refused whatever the
			// tensor: a kernel would overwrite its operand as it reads.
			if !slices.Contains(op.Outputs, t) && (writer[t] < oi || isInput[t] || sg.Tensors[t].IsVariable || len(m.TensorData(sg.Tensors[t])) > 0) {
				continue
			}
			w, how := writer[t], "a later operator"
			if slices.Contains(op.Outputs, t) {
				w, how = oi, "the operator itself"
			}
			return fmt.Errorf("subgraph %d, operator %d (%s): input %d is tensor %d (%q), which %s writes (operator %d, %s): the operators are out of order or form a cycle", si, oi, m.OpName(op), k, t, sg.Tensors[t].Name, how, w, m.OpName(sg.Operators[w]))
		}
	}
	return nil
}

// checkDequantize refuses a DEQUANTIZE of a constant whose output shape
// is not its input's: the weights behind it are read in the output's shape
// (a damaged shape there broke quantization; found by the sweep).
func (m *Model) checkDequantize(si int) error {
	sg := m.Subgraphs[si]
	for oi, op := range sg.Operators {
		if m.Builtin(op) != fb.BuiltinOperatorDEQUANTIZE || len(op.Inputs) != 1 || len(op.Outputs) != 1 || op.Inputs[0] < 0 {
			continue
		}
		in, out := sg.Tensors[op.Inputs[0]], sg.Tensors[op.Outputs[0]]
		if len(m.TensorData(in)) > 0 && !slices.Equal(in.Shape, out.Shape) {
			return fmt.Errorf("subgraph %d, operator %d (DEQUANTIZE): output %q has shape %v, its constant input %q has %v", si, oi, out.Name, out.Shape, in.Name, in.Shape)
		}
	}
	return nil
}

// checkRecursion refuses subgraphs that call themselves, naming the cycle.
func (m *Model) checkRecursion() error {
	const (
		unseen = iota
		active
		done
	)
	state := make([]int, len(m.Subgraphs))
	var stack []int
	var visit func(si int) error
	visit = func(si int) error {
		state[si] = active
		stack = append(stack, si)
		for oi, op := range m.Subgraphs[si].Operators {
			for _, ref := range subgraphRefs(op) {
				switch state[ref] {
				case active:
					var path []string
					for i := len(stack) - 1; i >= 0; i-- {
						if stack[i] == ref {
							for _, s := range stack[i:] {
								path = append(path, fmt.Sprint(s))
							}
							break
						}
					}
					path = append(path, fmt.Sprint(ref))
					return fmt.Errorf("subgraph %d, operator %d (%s) calls subgraph %d, which is already running: subgraphs call themselves (%s)", si, oi, m.OpName(op), ref, strings.Join(path, " → "))
				case unseen:
					if err := visit(ref); err != nil {
						return err
					}
				}
			}
		}
		stack = stack[:len(stack)-1]
		state[si] = done
		return nil
	}
	for si := range m.Subgraphs {
		if state[si] == unseen {
			if err := visit(si); err != nil {
				return err
			}
		}
	}
	return nil
}
