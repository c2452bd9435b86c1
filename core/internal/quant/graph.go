package quant

import (
	"fmt"
	"sort"

	"litequant/core/internal/opspec"
	fb "litequant/core/schema/tflitefb"
	"litequant/core/tflite"
)

// ref is one operator input: operator index and input position.
type ref struct{ op, pos int }

// tref names a tensor: subgraph and tensor index.
type tref struct{ sg, t int }

// opKey names an operator: subgraph and operator index.
type opKey struct{ sg, op int }

// sgInfo indexes one subgraph's dataflow.
type sgInfo struct {
	sg        *fb.SubGraphT
	consumers [][]ref // per tensor, in operator order
	producer  []int   // per tensor: producing operator, or -1
	io        []bool  // tensor is a subgraph input or output
}

// graph indexes a model for the passes and records their edits.
type graph struct {
	m   *tflite.Model
	sgs []*sgInfo
	// byBuffer lists the tensors referencing each buffer.
	byBuffer map[uint32][]tref

	// Edits, applied by commit.
	before   map[opKey][]*fb.OperatorT // new operators to run before an operator
	after    map[opKey][]*fb.OperatorT // ... after it
	removed  map[opKey]bool            // operators to drop
	orphaned map[tref]bool             // tensors to drop
	dequant  map[tref]int32            // constant tensor -> its DEQUANTIZE output
	// opIndex maps (subgraph, old operator index) to the index after
	// commit (-1 when removed); filled by commit.
	opIndex map[opKey]int
	// kernels records how each weight-reading operator runs (dynamic).
	kernels map[opKey]opspec.Kernel
	// float16Sources are FLOAT16 constants whose DEQUANTIZE was folded
	// into a FLOAT32 constant (dynamic), dropped when left unread.
	float16Sources []tref
}

func newGraph(m *tflite.Model) *graph {
	g := &graph{m: m, byBuffer: map[uint32][]tref{},
		before: map[opKey][]*fb.OperatorT{}, after: map[opKey][]*fb.OperatorT{},
		removed: map[opKey]bool{}, orphaned: map[tref]bool{}, dequant: map[tref]int32{}}
	for si, sg := range m.Subgraphs {
		info := &sgInfo{sg: sg, consumers: make([][]ref, len(sg.Tensors)),
			producer: make([]int, len(sg.Tensors)), io: make([]bool, len(sg.Tensors))}
		for i := range info.producer {
			info.producer[i] = -1
		}
		for oi, op := range sg.Operators {
			for k, t := range op.Inputs {
				if t >= 0 {
					info.consumers[t] = append(info.consumers[t], ref{oi, k})
				}
			}
			for _, t := range op.Outputs {
				if t >= 0 {
					info.producer[t] = oi
				}
			}
		}
		for _, t := range sg.Inputs {
			info.io[t] = true
		}
		for _, t := range sg.Outputs {
			info.io[t] = true
		}
		for ti, t := range sg.Tensors {
			if t.Buffer != 0 && int(t.Buffer) < len(m.Buffers) && len(m.Buffers[t.Buffer].Data) > 0 {
				g.byBuffer[t.Buffer] = append(g.byBuffer[t.Buffer], tref{si, ti})
			}
		}
		g.sgs = append(g.sgs, info)
	}
	return g
}

func (g *graph) tensor(r tref) *fb.TensorT { return g.m.Subgraphs[r.sg].Tensors[r.t] }

// constData returns a tensor's constant data (nil for activations).
func (g *graph) constData(t *fb.TensorT) []byte {
	if t.IsVariable {
		return nil
	}
	// An empty buffer is no data (a flatbuffer may hold it as an empty,
	// non-nil vector): such a tensor is not a constant.
	if d := g.m.TensorData(t); len(d) > 0 {
		return d
	}
	return nil
}

// opName names operator oi of subgraph si for reports.
func (g *graph) opName(si, oi int) string {
	return g.m.OpName(g.m.Subgraphs[si].Operators[oi])
}

// isDequantize reports whether operator oi of subgraph si is a DEQUANTIZE.
func (g *graph) isDequantize(si, oi int) bool {
	return oi >= 0 && g.m.Builtin(g.m.Subgraphs[si].Operators[oi]) == fb.BuiltinOperatorDEQUANTIZE
}

// opcode returns the index of the model's operator code for builtin
// operator code, adding one when there is none (its version is set by
// opversion.Update).
func (g *graph) opcode(code fb.BuiltinOperator) uint32 {
	for i, oc := range g.m.OperatorCodes {
		if oc.BuiltinCode == code {
			return uint32(i)
		}
	}
	g.m.OperatorCodes = append(g.m.OperatorCodes, &fb.OperatorCodeT{BuiltinCode: code, Version: 1})
	return uint32(len(g.m.OperatorCodes) - 1)
}

// addTensor appends a tensor without data to subgraph si.
func (g *graph) addTensor(si int, t *fb.TensorT) int32 {
	sg := g.m.Subgraphs[si]
	sg.Tensors = append(sg.Tensors, t)
	return int32(len(sg.Tensors) - 1)
}

// floatView returns a new FLOAT32 activation tensor shaped like t.
func floatView(t *fb.TensorT, name string) *fb.TensorT {
	return &fb.TensorT{Name: name, Type: fb.TensorTypeFLOAT32,
		Shape: append([]int32(nil), t.Shape...), ShapeSignature: append([]int32(nil), t.ShapeSignature...), HasRank: t.HasRank}
}

// dequantizeBefore feeds the listed consumers of constant tensor c through
// one DEQUANTIZE per subgraph, placed before the first of them, and
// returns the DEQUANTIZE's output.
func (g *graph) dequantizeBefore(c tref, consumers []ref) int32 {
	sg := g.m.Subgraphs[c.sg]
	out, ok := g.dequant[c]
	if !ok {
		out = g.addTensor(c.sg, floatView(sg.Tensors[c.t], sg.Tensors[c.t].Name+"_dequantize"))
		g.dequant[c] = out
		first := consumers[0].op
		for _, r := range consumers {
			first = min(first, r.op)
		}
		op := &fb.OperatorT{OpcodeIndex: g.opcode(fb.BuiltinOperatorDEQUANTIZE), Inputs: []int32{int32(c.t)}, Outputs: []int32{out}}
		key := opKey{c.sg, first}
		g.before[key] = append(g.before[key], op)
	}
	for _, r := range consumers {
		sg.Operators[r.op].Inputs[r.pos] = out
	}
	return out
}

// commit applies the recorded operator insertions and removals and drops
// orphaned tensors, in every subgraph.
func (g *graph) commit() {
	g.opIndex = map[opKey]int{}
	for si, sg := range g.m.Subgraphs {
		ops := make([]*fb.OperatorT, 0, len(sg.Operators))
		for oi, op := range sg.Operators {
			key := opKey{si, oi}
			ops = append(ops, g.before[key]...)
			if g.removed[key] {
				g.opIndex[key] = -1
			} else {
				g.opIndex[key] = len(ops)
				ops = append(ops, op)
			}
			ops = append(ops, g.after[key]...)
		}
		sg.Operators = ops
		g.dropTensors(si)
	}
}

// dropTensors removes subgraph si's orphaned tensors and renumbers the rest.
func (g *graph) dropTensors(si int) {
	sg := g.m.Subgraphs[si]
	remap := make([]int32, len(sg.Tensors))
	var kept []*fb.TensorT
	for ti, t := range sg.Tensors {
		if g.orphaned[tref{si, ti}] {
			remap[ti] = -1
			continue
		}
		remap[ti] = int32(len(kept))
		kept = append(kept, t)
	}
	if len(kept) == len(sg.Tensors) {
		return
	}
	fix := func(list []int32) {
		for i, t := range list {
			if t >= 0 {
				if remap[t] < 0 {
					panic(fmt.Sprintf("quant: dropped tensor %d is still referenced", t))
				}
				list[i] = remap[t]
			}
		}
	}
	for _, op := range sg.Operators {
		fix(op.Inputs)
		fix(op.Outputs)
		fix(op.Intermediates)
	}
	fix(sg.Inputs)
	fix(sg.Outputs)
	for _, sd := range g.m.SignatureDefs {
		if int(sd.SubgraphIndex) != si {
			continue
		}
		for _, list := range [][]*fb.TensorMapT{sd.Inputs, sd.Outputs} {
			for _, tm := range list {
				tm.TensorIndex = uint32(remap[tm.TensorIndex])
			}
		}
	}
	sg.Tensors = kept
}

// compactBuffers removes buffers nothing refers to (keeping the empty
// sentinel at index 0) and renumbers the rest in their original order.
func compactBuffers(m *tflite.Model) {
	used := make([]bool, len(m.Buffers))
	if len(used) > 0 {
		used[0] = true
	}
	for _, sg := range m.Subgraphs {
		for _, t := range sg.Tensors {
			used[t.Buffer] = true
		}
	}
	for _, md := range m.Metadata {
		used[md.Buffer] = true
	}
	for _, b := range m.MetadataBuffer {
		used[b] = true
	}
	remap := make([]uint32, len(m.Buffers))
	var kept []*fb.BufferT
	for i, b := range m.Buffers {
		if used[i] {
			remap[i] = uint32(len(kept))
			kept = append(kept, b)
		}
	}
	if len(kept) == len(m.Buffers) {
		return
	}
	for _, sg := range m.Subgraphs {
		for _, t := range sg.Tensors {
			t.Buffer = remap[t.Buffer]
		}
	}
	for _, md := range m.Metadata {
		md.Buffer = remap[md.Buffer]
	}
	for i, b := range m.MetadataBuffer {
		m.MetadataBuffer[i] = int32(remap[b])
	}
	m.Buffers = kept
}

// sortedBuffers returns the keys of byBuffer in increasing order.
func (g *graph) sortedBuffers() []uint32 {
	keys := make([]uint32, 0, len(g.byBuffer))
	for b := range g.byBuffer {
		keys = append(keys, b)
	}
	sort.Slice(keys, func(i, j int) bool { return keys[i] < keys[j] })
	return keys
}

// fullyQuantized reports a model whose operators compute on integers only:
// no FLOAT32 activation is read or written by anything but QUANTIZE and
// DEQUANTIZE, and some activation is INT8, UINT8 or INT16.
func fullyQuantized(m *tflite.Model) bool {
	intAct := false
	for _, sg := range m.Subgraphs {
		for _, op := range sg.Operators {
			code := m.Builtin(op)
			boundary := code == fb.BuiltinOperatorQUANTIZE || code == fb.BuiltinOperatorDEQUANTIZE
			for _, list := range [][]int32{op.Inputs, op.Outputs} {
				for _, ti := range list {
					if ti < 0 {
						continue
					}
					t := sg.Tensors[ti]
					if len(m.TensorData(t)) > 0 && !t.IsVariable {
						continue // constant
					}
					switch t.Type {
					case fb.TensorTypeFLOAT32:
						if !boundary {
							return false
						}
					case fb.TensorTypeINT8, fb.TensorTypeUINT8, fb.TensorTypeINT16:
						intAct = true
					}
				}
			}
		}
	}
	return intAct
}
