package tflite

import (
	"errors"
	"fmt"
	"math"

	"litequant/core/schema"
	fb "litequant/core/schema/tflitefb"
)

// Model is a TensorFlow Lite model held in memory. Its fields are the
// format's own (the FlatBuffers object API generated from
// core/schema/tflite.fbs), so every table, union and enum is represented.
//
// After Load, OperatorCodes[i].BuiltinCode always holds the real builtin code
// (older files keep codes below 128 only in DeprecatedBuiltinCode); Save
// writes both fields again as the converter does.
type Model struct {
	fb.ModelT

	// ExternalData reports that the file kept buffer data (and large custom
	// options) after the FlatBuffer, at Buffer.Offset/Size, as the converter
	// does for models over 2 GB. Load brings that data into Buffer.Data (and
	// Operator.CustomOptions); Save writes it outside the FlatBuffer again
	// when this is set.
	ExternalData bool
}

// ErrNotModel is wrapped by errors for inputs that are not TensorFlow Lite
// model files at all (too short, wrong file identifier).
var ErrNotModel = errors.New("not a TensorFlow Lite model")

// FileIdentifier is the FlatBuffers file identifier of TensorFlow Lite models.
const FileIdentifier = "TFL3"

// maxFlatBufferBytes bounds what Load accepts: the FlatBuffer itself must stay
// under 2 GiB; external data after it is bounded by what was passed in.
const maxFlatBufferBytes = math.MaxInt32

// Load parses a .tflite file. The returned Model does not share memory with
// data.
func Load(data []byte) (m *Model, err error) {
	if err := notModel(data); err != nil {
		return nil, err
	}
	if err := schema.Verify(data); err != nil {
		return nil, verifyFailed(data, err)
	}
	// The object API aliases byte vectors into its input; give it a private
	// copy so the caller's bytes and the Model stay independent.
	own := append([]byte(nil), data...)
	defer func() {
		// Verify has checked every offset and length, so this is a last line
		// of defence against a verifier gap, not a code path.
		if r := recover(); r != nil {
			m, err = nil, fmt.Errorf("malformed model: reading it failed: %v", r)
		}
	}()
	m = &Model{}
	fb.GetRootAsModel(own, 0).UnPackTo(&m.ModelT)
	if err := m.loadExternal(own); err != nil {
		return nil, err
	}
	m.normalizeOpcodes()
	if err := m.Validate(); err != nil {
		return nil, err
	}
	if err := m.CheckGraph(); err != nil {
		return nil, err
	}
	return m, nil
}

// loadExternal brings data kept after the FlatBuffer into the model.
func (m *Model) loadExternal(file []byte) error {
	in := func(off, size uint64) bool {
		return off <= uint64(len(file)) && size <= uint64(len(file))-off
	}
	for i, b := range m.Buffers {
		if b == nil || b.Offset <= 1 {
			continue
		}
		if !in(b.Offset, b.Size) {
			return fmt.Errorf("malformed model: buffer %d: external data at offset %d, size %d runs past the end of the %d-byte file", i, b.Offset, b.Size, len(file))
		}
		if len(b.Data) > 0 {
			return fmt.Errorf("malformed model: buffer %d has both inline data and external data at offset %d", i, b.Offset)
		}
		b.Data = file[b.Offset : b.Offset+b.Size]
		b.Offset, b.Size = 0, 0
		m.ExternalData = true
	}
	for si, sg := range m.Subgraphs {
		for oi, op := range sg.Operators {
			if op == nil || op.LargeCustomOptionsOffset <= 1 {
				continue
			}
			if !in(op.LargeCustomOptionsOffset, op.LargeCustomOptionsSize) {
				return fmt.Errorf("malformed model: subgraph %d, operator %d: external custom options at offset %d, size %d run past the end of the %d-byte file", si, oi, op.LargeCustomOptionsOffset, op.LargeCustomOptionsSize, len(file))
			}
			op.CustomOptions = file[op.LargeCustomOptionsOffset : op.LargeCustomOptionsOffset+op.LargeCustomOptionsSize]
			op.LargeCustomOptionsOffset, op.LargeCustomOptionsSize = 0, 0
			m.ExternalData = true
		}
	}
	return nil
}

// normalizeOpcodes puts the real builtin code into BuiltinCode. Files written
// before the 32-bit field existed have 0 (ADD) there and the code in
// DeprecatedBuiltinCode; the runtime takes the larger of the two. The
// deprecated byte is then set as Save writes it, so a loaded model equals
// its saved and reloaded self.
func (m *Model) normalizeOpcodes() {
	for _, oc := range m.OperatorCodes {
		if oc == nil {
			continue
		}
		if d := fb.BuiltinOperator(oc.DeprecatedBuiltinCode); d > oc.BuiltinCode {
			oc.BuiltinCode = d
		}
		oc.DeprecatedBuiltinCode = deprecatedCode(oc.BuiltinCode)
	}
}

// deprecatedCode is the byte-sized code the converter writes next to the
// real one: the code itself below 127, the placeholder 127 above.
func deprecatedCode(c fb.BuiltinOperator) int8 {
	return int8(min(c, fb.BuiltinOperatorPLACEHOLDER_FOR_GREATER_OP_CODES))
}

// Validate checks what the structure alone cannot: that every index points
// at something that exists and that constant tensors hold as many bytes as
// their shape and type need. Errors name the subgraph, tensor, operator or
// buffer concerned.
func (m *Model) Validate() error {
	nbuf := len(m.Buffers)
	for i, b := range m.Buffers {
		if b == nil {
			return fmt.Errorf("buffer %d is missing", i)
		}
	}
	for i, oc := range m.OperatorCodes {
		if oc == nil {
			return fmt.Errorf("operator code %d is missing", i)
		}
	}
	if len(m.Subgraphs) == 0 {
		return errors.New("model has no subgraphs")
	}
	for si, sg := range m.Subgraphs {
		if sg == nil {
			return fmt.Errorf("subgraph %d is missing", si)
		}
		nt := len(sg.Tensors)
		for ti, t := range sg.Tensors {
			if t == nil {
				return fmt.Errorf("subgraph %d, tensor %d is missing", si, ti)
			}
			if int64(t.Buffer) >= int64(nbuf) && !(t.Buffer == 0 && nbuf == 0) {
				return fmt.Errorf("subgraph %d, tensor %d (%q): buffer index %d out of range (model has %d buffers)", si, ti, t.Name, t.Buffer, nbuf)
			}
			if err := checkConstantSize(m, t); err != nil {
				return fmt.Errorf("subgraph %d, tensor %d (%q): %w", si, ti, t.Name, err)
			}
		}
		for k, idx := range sg.Inputs {
			if idx < 0 || int(idx) >= nt {
				return fmt.Errorf("subgraph %d: input %d is tensor %d, out of range (subgraph has %d tensors)", si, k, idx, nt)
			}
		}
		for k, idx := range sg.Outputs {
			if idx < 0 || int(idx) >= nt {
				return fmt.Errorf("subgraph %d: output %d is tensor %d, out of range (subgraph has %d tensors)", si, k, idx, nt)
			}
		}
		for oi, op := range sg.Operators {
			if op == nil {
				return fmt.Errorf("subgraph %d, operator %d is missing", si, oi)
			}
			if int64(op.OpcodeIndex) >= int64(len(m.OperatorCodes)) {
				return fmt.Errorf("subgraph %d, operator %d: opcode index %d out of range (model has %d operator codes)", si, oi, op.OpcodeIndex, len(m.OperatorCodes))
			}
			where := func() string { return fmt.Sprintf("subgraph %d, operator %d (%s)", si, oi, m.OpName(op)) }
			for _, list := range []struct {
				what string
				idx  []int32
			}{{"input", op.Inputs}, {"output", op.Outputs}, {"intermediate", op.Intermediates}} {
				for k, idx := range list.idx {
					if idx < -1 || int(idx) >= nt || (idx == -1 && list.what == "output") {
						return fmt.Errorf("%s: %s %d is tensor %d, out of range (subgraph has %d tensors)", where(), list.what, k, idx, nt)
					}
				}
			}
			for _, ref := range subgraphRefs(op) {
				if ref < 0 || ref >= len(m.Subgraphs) {
					return fmt.Errorf("%s: refers to subgraph %d, out of range (model has %d subgraphs)", where(), ref, len(m.Subgraphs))
				}
			}
		}
	}
	for i, md := range m.Metadata {
		if md == nil {
			return fmt.Errorf("metadata %d is missing", i)
		}
		if int64(md.Buffer) >= int64(nbuf) {
			return fmt.Errorf("metadata %d (%q): buffer index %d out of range (model has %d buffers)", i, md.Name, md.Buffer, nbuf)
		}
	}
	for i, b := range m.MetadataBuffer {
		if b < 0 || int(b) >= nbuf {
			return fmt.Errorf("metadata_buffer %d: buffer index %d out of range (model has %d buffers)", i, b, nbuf)
		}
	}
	for i, sd := range m.SignatureDefs {
		if sd == nil {
			return fmt.Errorf("signature %d is missing", i)
		}
		if int64(sd.SubgraphIndex) >= int64(len(m.Subgraphs)) {
			return fmt.Errorf("signature %d (%q): subgraph index %d out of range (model has %d subgraphs)", i, sd.SignatureKey, sd.SubgraphIndex, len(m.Subgraphs))
		}
		nt := len(m.Subgraphs[sd.SubgraphIndex].Tensors)
		for _, list := range []struct {
			what string
			maps []*fb.TensorMapT
		}{{"input", sd.Inputs}, {"output", sd.Outputs}} {
			for k, tm := range list.maps {
				if tm == nil {
					return fmt.Errorf("signature %d (%q): %s %d is missing", i, sd.SignatureKey, list.what, k)
				}
				if int64(tm.TensorIndex) >= int64(nt) {
					return fmt.Errorf("signature %d (%q): %s %q is tensor %d, out of range (subgraph %d has %d tensors)", i, sd.SignatureKey, list.what, tm.Name, tm.TensorIndex, sd.SubgraphIndex, nt)
				}
			}
		}
	}
	return nil
}

// checkConstantSize compares a constant tensor's buffer length with what its
// shape and type need. Tensors without data, sparse tensors and
// variable-length types (STRING, RESOURCE, VARIANT) are not checked.
func checkConstantSize(m *Model, t *fb.TensorT) error {
	if t.Buffer == 0 || int(t.Buffer) >= len(m.Buffers) {
		return nil
	}
	data := m.Buffers[t.Buffer].Data
	if len(data) == 0 || t.Sparsity != nil {
		return nil
	}
	bits := TypeBits(t.Type)
	if bits == 0 {
		return nil
	}
	n := int64(1)
	for _, d := range t.Shape {
		if d < 0 {
			return fmt.Errorf("constant tensor has a negative dimension in shape %v", t.Shape)
		}
		n *= int64(d)
		if n > int64(len(data))*8 {
			break // already too many elements; avoid overflow
		}
	}
	want := (n*int64(bits) + 7) / 8
	if int64(len(data)) == want {
		return nil
	}
	// INT4 constants are stored either packed two to a byte or one per byte.
	if t.Type == fb.TensorTypeINT4 && int64(len(data)) == n {
		return nil
	}
	return fmt.Errorf("buffer %d holds %d bytes, but shape %v of %s needs %d", t.Buffer, len(data), t.Shape, TypeName(t.Type), want)
}

// subgraphRefs lists the subgraph indices an operator's options name
// (control flow and StableHLO regions).
func subgraphRefs(op *fb.OperatorT) []int {
	var refs []int
	if op.BuiltinOptions != nil {
		switch o := op.BuiltinOptions.Value.(type) {
		case *fb.IfOptionsT:
			refs = append(refs, int(o.ThenSubgraphIndex), int(o.ElseSubgraphIndex))
		case *fb.WhileOptionsT:
			refs = append(refs, int(o.CondSubgraphIndex), int(o.BodySubgraphIndex))
		case *fb.CallOnceOptionsT:
			refs = append(refs, int(o.InitSubgraphIndex))
		case *fb.CallOptionsT:
			refs = append(refs, int(o.Subgraph))
		}
	}
	if op.BuiltinOptions2 != nil {
		switch o := op.BuiltinOptions2.Value.(type) {
		case *fb.StableHLOCompositeOptionsT:
			refs = append(refs, int(o.DecompositionSubgraphIndex))
		case *fb.StablehloWhileOptionsT:
			refs = append(refs, int(o.CondSubgraphIndex), int(o.BodySubgraphIndex))
		}
	}
	return refs
}
