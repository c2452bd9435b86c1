// Package inspect summarizes a TensorFlow Lite model for people and scripts:
// its inputs and outputs, operators, tensors, constant data, quantization,
// signatures and metadata. The JSON form is documented in the README.
package inspect

import (
	"fmt"
	"io"
	"sort"
	"strings"

	fb "litequant/core/schema/tflitefb"
	"litequant/core/tflite"
)

// Summary is the whole-model summary; its JSON encoding is what
// `litequant inspect --json` prints.
type Summary struct {
	SizeBytes   int    `json:"size_bytes"`
	Version     uint32 `json:"version"`
	Description string `json:"description"`
	// Totals over all subgraphs.
	TensorCount          int            `json:"tensor_count"`
	QuantizedTensorCount int            `json:"quantized_tensor_count"`
	ConstantBytesByType  map[string]int `json:"constant_bytes_by_type"`
	OpCounts             map[string]int `json:"op_counts"`

	Subgraphs  []Subgraph  `json:"subgraphs"`
	Signatures []Signature `json:"signatures"`
	Metadata   []Metadata  `json:"metadata"`
}

// Subgraph summarizes one subgraph.
type Subgraph struct {
	Index     int            `json:"index"`
	Name      string         `json:"name"`
	Inputs    []IO           `json:"inputs"`
	Outputs   []IO           `json:"outputs"`
	OpCounts  map[string]int `json:"op_counts"`
	Operators []Operator     `json:"operators"`
	Tensors   []Tensor       `json:"tensors"`
}

// IO is a subgraph input or output.
type IO struct {
	Index int     `json:"index"` // tensor index in the subgraph
	Name  string  `json:"name"`
	Type  string  `json:"type"`
	Shape []int32 `json:"shape"`
	// ShapeSignature is present when some dimension is dynamic (-1).
	ShapeSignature []int32       `json:"shape_signature,omitempty"`
	Quantization   *Quantization `json:"quantization"`
}

// Operator is one operator in execution order.
type Operator struct {
	Index   int     `json:"index"`
	Op      string  `json:"op"` // BuiltinOperator name or CUSTOM:<code>
	Version int32   `json:"version"`
	Inputs  []int32 `json:"inputs"` // -1 marks an omitted optional input
	Outputs []int32 `json:"outputs"`
}

// Tensor is one tensor of a subgraph.
type Tensor struct {
	Index          int           `json:"index"`
	Name           string        `json:"name"`
	Type           string        `json:"type"`
	Shape          []int32       `json:"shape"`
	ShapeSignature []int32       `json:"shape_signature,omitempty"`
	Buffer         uint32        `json:"buffer"`
	BufferBytes    int           `json:"buffer_bytes"`
	IsVariable     bool          `json:"is_variable,omitempty"`
	Sparse         bool          `json:"sparse,omitempty"`
	Quantization   *Quantization `json:"quantization"`
}

// Quantization holds a tensor's affine quantization parameters; nil when it
// has none.
type Quantization struct {
	Scale              []float32 `json:"scale"`
	ZeroPoint          []int64   `json:"zero_point"`
	QuantizedDimension int32     `json:"quantized_dimension"`
	Min                []float32 `json:"min,omitempty"`
	Max                []float32 `json:"max,omitempty"`
	Custom             bool      `json:"custom,omitempty"`
}

// Signature is a SignatureDef: named entry points into a subgraph.
type Signature struct {
	Key           string      `json:"key"`
	SubgraphIndex uint32      `json:"subgraph_index"`
	Inputs        []TensorRef `json:"inputs"`
	Outputs       []TensorRef `json:"outputs"`
}

// TensorRef names a tensor of a signature's subgraph.
type TensorRef struct {
	Name        string `json:"name"`
	TensorIndex uint32 `json:"tensor_index"`
}

// Metadata is a named metadata buffer.
type Metadata struct {
	Name   string `json:"name"`
	Buffer uint32 `json:"buffer"`
	Bytes  int    `json:"bytes"`
}

// Summarize builds the summary of m; sizeBytes is the file's size.
func Summarize(m *tflite.Model, sizeBytes int) *Summary {
	s := &Summary{
		SizeBytes:           sizeBytes,
		Version:             m.Version,
		Description:         m.Description,
		ConstantBytesByType: map[string]int{},
		OpCounts:            map[string]int{},
		Subgraphs:           []Subgraph{},
		Signatures:          []Signature{},
		Metadata:            []Metadata{},
	}
	counted := map[uint32]bool{} // buffers shared by several tensors count once
	for si, sg := range m.Subgraphs {
		out := Subgraph{Index: si, Name: sg.Name, OpCounts: map[string]int{},
			Inputs: []IO{}, Outputs: []IO{}, Operators: []Operator{}, Tensors: []Tensor{}}
		for ti, t := range sg.Tensors {
			data := m.TensorData(t)
			q := quantization(t.Quantization)
			out.Tensors = append(out.Tensors, Tensor{
				Index: ti, Name: t.Name, Type: tflite.TypeName(t.Type), Shape: nonNil(t.Shape),
				ShapeSignature: dynamicSignature(t), Buffer: t.Buffer, BufferBytes: len(data),
				IsVariable: t.IsVariable, Sparse: t.Sparsity != nil, Quantization: q,
			})
			s.TensorCount++
			if q != nil {
				s.QuantizedTensorCount++
			}
			if len(data) > 0 && !counted[t.Buffer] {
				counted[t.Buffer] = true
				s.ConstantBytesByType[tflite.TypeName(t.Type)] += len(data)
			}
		}
		io := func(idx []int32) []IO {
			list := []IO{}
			for _, i := range idx {
				t := sg.Tensors[i]
				list = append(list, IO{Index: int(i), Name: t.Name, Type: tflite.TypeName(t.Type),
					Shape: nonNil(t.Shape), ShapeSignature: dynamicSignature(t), Quantization: quantization(t.Quantization)})
			}
			return list
		}
		out.Inputs, out.Outputs = io(sg.Inputs), io(sg.Outputs)
		for oi, op := range sg.Operators {
			name := m.OpName(op)
			out.OpCounts[name]++
			s.OpCounts[name]++
			out.Operators = append(out.Operators, Operator{Index: oi, Op: name,
				Version: m.OpCode(op).Version, Inputs: nonNil(op.Inputs), Outputs: nonNil(op.Outputs)})
		}
		s.Subgraphs = append(s.Subgraphs, out)
	}
	for _, sd := range m.SignatureDefs {
		sig := Signature{Key: sd.SignatureKey, SubgraphIndex: sd.SubgraphIndex, Inputs: []TensorRef{}, Outputs: []TensorRef{}}
		for _, tm := range sd.Inputs {
			sig.Inputs = append(sig.Inputs, TensorRef{tm.Name, tm.TensorIndex})
		}
		for _, tm := range sd.Outputs {
			sig.Outputs = append(sig.Outputs, TensorRef{tm.Name, tm.TensorIndex})
		}
		s.Signatures = append(s.Signatures, sig)
	}
	for _, md := range m.Metadata {
		s.Metadata = append(s.Metadata, Metadata{Name: md.Name, Buffer: md.Buffer, Bytes: len(m.Buffers[md.Buffer].Data)})
	}
	return s
}

func nonNil(v []int32) []int32 {
	if v == nil {
		return []int32{}
	}
	return v
}

// dynamicSignature returns the shape signature when it differs from the
// shape (some dimension unknown), else nil.
func dynamicSignature(t *fb.TensorT) []int32 {
	if len(t.ShapeSignature) == 0 {
		return nil
	}
	for i, d := range t.ShapeSignature {
		if i >= len(t.Shape) || d != t.Shape[i] {
			return t.ShapeSignature
		}
	}
	return nil
}

func quantization(q *fb.QuantizationParametersT) *Quantization {
	if q == nil || (len(q.Scale) == 0 && len(q.ZeroPoint) == 0 && len(q.Min) == 0 && len(q.Max) == 0 && q.Details == nil) {
		return nil
	}
	out := &Quantization{Scale: q.Scale, ZeroPoint: q.ZeroPoint, QuantizedDimension: q.QuantizedDimension,
		Min: q.Min, Max: q.Max, Custom: q.Details != nil && q.Details.Type != fb.QuantizationDetailsNONE}
	if out.Scale == nil {
		out.Scale = []float32{}
	}
	if out.ZeroPoint == nil {
		out.ZeroPoint = []int64{}
	}
	return out
}

// WriteText prints the summary for people.
func (s *Summary) WriteText(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "size: %s (%d bytes), schema version %d\n", humanBytes(s.SizeBytes), s.SizeBytes, s.Version)
	if s.Description != "" {
		fmt.Fprintf(&b, "description: %s\n", s.Description)
	}
	for _, sg := range s.Subgraphs {
		name := sg.Name
		if name == "" {
			name = "(unnamed)"
		}
		fmt.Fprintf(&b, "\nsubgraph %d %s: %d tensors, %d operators\n", sg.Index, name, len(sg.Tensors), len(sg.Operators))
		for _, p := range []struct {
			what string
			list []IO
		}{{"input", sg.Inputs}, {"output", sg.Outputs}} {
			for _, io := range p.list {
				fmt.Fprintf(&b, "  %-6s %-30s %-8s %s%s\n", p.what, io.Name, io.Type, shapeString(io.Shape, io.ShapeSignature), quantString(io.Quantization))
			}
		}
		fmt.Fprintf(&b, "  ops: %s\n", countsString(sg.OpCounts))
	}
	fmt.Fprintf(&b, "\ntensors: %d (%d quantized)\n", s.TensorCount, s.QuantizedTensorCount)
	fmt.Fprintf(&b, "constant data: %s\n", bytesByType(s.ConstantBytesByType))
	for _, sig := range s.Signatures {
		fmt.Fprintf(&b, "signature %q -> subgraph %d: inputs %s; outputs %s\n", sig.Key, sig.SubgraphIndex, refNames(sig.Inputs), refNames(sig.Outputs))
	}
	for _, md := range s.Metadata {
		fmt.Fprintf(&b, "metadata %q: %s\n", md.Name, humanBytes(md.Bytes))
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func shapeString(shape, sig []int32) string {
	dims := shape
	if sig != nil {
		dims = sig
	}
	parts := make([]string, len(dims))
	for i, d := range dims {
		if d < 0 {
			parts[i] = "?"
		} else {
			parts[i] = fmt.Sprint(d)
		}
	}
	return "[" + strings.Join(parts, ", ") + "]"
}

func quantString(q *Quantization) string {
	if q == nil || len(q.Scale) == 0 {
		return ""
	}
	if len(q.Scale) == 1 && len(q.ZeroPoint) == 1 {
		return fmt.Sprintf("  scale %g zero point %d", q.Scale[0], q.ZeroPoint[0])
	}
	return fmt.Sprintf("  %d scales on axis %d", len(q.Scale), q.QuantizedDimension)
}

func sortedKeys(m map[string]int) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func countsString(m map[string]int) string {
	if len(m) == 0 {
		return "none"
	}
	parts := []string{}
	for _, k := range sortedKeys(m) {
		parts = append(parts, fmt.Sprintf("%s×%d", k, m[k]))
	}
	return strings.Join(parts, ", ")
}

func bytesByType(m map[string]int) string {
	if len(m) == 0 {
		return "none"
	}
	parts := []string{}
	for _, k := range sortedKeys(m) {
		parts = append(parts, fmt.Sprintf("%s %s", k, humanBytes(m[k])))
	}
	return strings.Join(parts, ", ")
}

func refNames(refs []TensorRef) string {
	names := make([]string, len(refs))
	for i, r := range refs {
		names[i] = r.Name
	}
	return "[" + strings.Join(names, ", ") + "]"
}

func humanBytes(n int) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%.2f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}
