package quant

import (
	"encoding/binary"
	"fmt"
	"math"
	"strings"

	"litequant/core/internal/opspec"
	fb "litequant/core/schema/tflitefb"
	"litequant/core/tflite"
)

// Float16 stores m's constant FLOAT32 weights as FLOAT16, in place, as
// TensorFlow's converter does with supported_types=[tf.float16]: every
// FLOAT32 constant read by an operator, with at least
// opts.MinWeightElements elements and not a bias (opspec), becomes FLOAT16
// and reaches its readers through a DEQUANTIZE (one per tensor, placed
// before its first reader). Activations, inputs, outputs and biases stay
// FLOAT32. Values beyond float16's range keep the tensor FLOAT32.
//
// Errors, ErrNothingToDo, AllowNoop and ErrFullyQuantized behave as in
// Dynamic.
func Float16(m *tflite.Model, opts Options) (*Report, error) {
	return run(m, opts, "float16", planFloat16)
}

// f16unit is one FLOAT32 buffer considered for float16.
type f16unit struct {
	buf     uint32
	tensors []tref
	readers []opKey // every reader, for the report
	inputs  []int   // input position of each reader
	reason  string
	halves  []byte
}

func planFloat16(g *graph, opts Options, r *Report) (func(), string) {
	m := g.m
	var todo, left []*f16unit
	already := 0
	for _, b := range g.sortedBuffers() {
		tensors := g.byBuffer[b]
		first := g.tensor(tensors[0])
		if first.Type == fb.TensorTypeFLOAT16 {
			already++
			continue
		}
		u := &f16unit{buf: b, tensors: tensors}
		candidate := true
		for _, c := range tensors {
			t := g.tensor(c)
			if t.Type != fb.TensorTypeFLOAT32 || t.IsVariable {
				candidate = false
				break
			}
			for _, rd := range g.sgs[c.sg].consumers[c.t] {
				u.readers = append(u.readers, opKey{c.sg, rd.op})
				u.inputs = append(u.inputs, rd.pos)
				op := m.Subgraphs[c.sg].Operators[rd.op]
				code := m.Builtin(op)
				switch {
				case opspec.Lookup(code).IsBias(rd.pos):
					candidate = false // biases stay FLOAT32 by design
				case code == fb.BuiltinOperatorDEQUANTIZE:
					candidate = false
				case u.reason == "" && opts.skipsOp(code):
					u.reason = fmt.Sprintf("%s is in the skip list (--skip-ops)", tflite.OpCodeName(m.OpCode(op)))
				}
			}
			if g.sgs[c.sg].io[c.t] && u.reason == "" {
				u.reason = fmt.Sprintf("tensor %q is a subgraph input or output", t.Name)
			}
		}
		if !candidate || len(u.readers) == 0 {
			continue
		}
		if u.reason == "" && opts.SkipTensors != nil {
			for _, c := range tensors {
				if name := g.tensor(c).Name; opts.SkipTensors.MatchString(name) {
					u.reason = fmt.Sprintf("tensor name %q matches the skip pattern (--skip-tensors)", name)
					break
				}
			}
		}
		if n := tflite.NumElements(first.Shape); u.reason == "" && n < opts.minElements() {
			u.reason = fmt.Sprintf("%d elements, fewer than %d", n, opts.minElements())
		}
		if u.reason == "" && first.Sparsity != nil {
			u.reason = "sparse tensor"
		}
		if u.reason == "" {
			u.halves, u.reason = toHalves(m.Buffers[b].Data)
		}
		if u.reason == "" {
			todo = append(todo, u)
		} else {
			left = append(left, u)
		}
	}
	for _, u := range left {
		for i, key := range u.readers {
			op := m.Subgraphs[key.sg].Operators[key.op]
			if len(opspec.Lookup(m.Builtin(op)).WeightsOrNil()) == 0 && strings.Contains(u.reason, "fewer than") {
				continue // small constants of weightless operators: not worth a line each
			}
			r.floatOps = append(r.floatOps, pendingFloatOp{key: key, name: m.OpName(op),
				why: []string{fmt.Sprintf("input %d (%q) stays FLOAT32: %s", u.inputs[i], g.tensor(u.tensors[0]).Name, u.reason)}})
		}
	}
	if len(todo) == 0 {
		var parts []string
		if already > 0 {
			parts = append(parts, fmt.Sprintf("%d constant(s) already FLOAT16", already))
		}
		small := 0
		for _, u := range left {
			if strings.Contains(u.reason, "fewer than") {
				small++
			}
		}
		if small > 0 {
			parts = append(parts, fmt.Sprintf("%d with fewer than %d elements", small, opts.minElements()))
		}
		if other := len(left) - small; other > 0 {
			parts = append(parts, fmt.Sprintf("%d left FLOAT32 for other reasons", other))
		}
		if len(parts) == 0 {
			return nil, "the model has no FLOAT32 weights"
		}
		return nil, "no FLOAT32 weights to store as float16: " + strings.Join(parts, ", ")
	}
	return func() {
		for _, u := range todo {
			m.Buffers[u.buf].Data = u.halves
			for _, c := range u.tensors {
				t := g.tensor(c)
				t.Type = fb.TensorTypeFLOAT16
				t.Quantization = nil
			}
			first := g.tensor(u.tensors[0])
			w := Weight{Tensor: first.Name, Subgraph: u.tensors[0].sg, Shape: append([]int32(nil), first.Shape...),
				Elements: tflite.NumElements(first.Shape), From: "FLOAT32", Type: "FLOAT16"}
			for _, c := range u.tensors[1:] {
				w.SharedWith = append(w.SharedWith, g.tensor(c).Name)
			}
			p := pendingWeight{w: w}
			for i, key := range u.readers {
				p.consumers = append(p.consumers, pendingConsumer{key: key, input: u.inputs[i], kernel: "dequantize"})
			}
			r.pending = append(r.pending, p)
			for _, c := range u.tensors {
				if readers := g.sgs[c.sg].consumers[c.t]; len(readers) > 0 {
					g.dequantizeBefore(c, readers)
				}
			}
		}
	}, ""
}

// toHalves converts little-endian float32 data to float16, or says why it
// cannot.
func toHalves(data []byte) ([]byte, string) {
	out := make([]byte, len(data)/2)
	for i := 0; i < len(data)/4; i++ {
		h, ok := float32ToHalf(math.Float32frombits(binary.LittleEndian.Uint32(data[4*i:])))
		if !ok {
			return nil, "holds values outside float16's range (or NaN)"
		}
		binary.LittleEndian.PutUint16(out[2*i:], h)
	}
	return out, ""
}
