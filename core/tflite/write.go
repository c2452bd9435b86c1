package tflite

import (
	"fmt"
	"math"

	flatbuffers "github.com/google/flatbuffers/go"

	fb "litequant/core/schema/tflitefb"
)

// bufferAlign is the alignment of constant data in written files, as
// TensorFlow's converter writes them (the schema's force_align: 16), so the
// runtime can map the data in place.
const bufferAlign = 16

// Save serializes the model. The same Model always gives the same bytes.
func (m *Model) Save() ([]byte, error) {
	if err := m.Validate(); err != nil {
		return nil, fmt.Errorf("cannot save an invalid model: %w", err)
	}
	if !m.ExternalData {
		out := m.pack(nil)
		if len(out) > maxFlatBufferBytes {
			return nil, fmt.Errorf("model is %d bytes, over the FlatBuffer limit of 2 GiB; set ExternalData to keep constant data outside it", len(out))
		}
		return out, nil
	}
	// External layout: the FlatBuffer records where each blob lives in the
	// file, which depends on the FlatBuffer's own length. Every offset is
	// non-zero and so always stored, so the length does not depend on the
	// offsets' values: pack once with placeholders, then with the real ones.
	blobs := m.externalBlobs()
	placeholder := make([]uint64, len(blobs))
	for i := range placeholder {
		placeholder[i] = math.MaxUint32 + 1
	}
	first := m.pack(placeholder)
	offsets := make([]uint64, len(blobs))
	pos := uint64(len(first))
	for i, b := range blobs {
		offsets[i] = alignUp(pos, bufferAlign)
		pos = offsets[i] + uint64(len(b))
	}
	fbBytes := m.pack(offsets)
	if len(fbBytes) != len(first) {
		return nil, fmt.Errorf("internal error: external-data layout changed size between passes (%d, then %d bytes)", len(first), len(fbBytes))
	}
	out := make([]byte, pos)
	copy(out, fbBytes)
	for i, b := range blobs {
		copy(out[offsets[i]:], b)
	}
	return out, nil
}

func alignUp(n, a uint64) uint64 { return (n + a - 1) / a * a }

// externalBlobs lists, in file order, the data an external-layout file keeps
// after the FlatBuffer: non-empty buffers first, then large custom options.
func (m *Model) externalBlobs() [][]byte {
	var blobs [][]byte
	for _, b := range m.Buffers {
		if len(b.Data) > 0 {
			blobs = append(blobs, b.Data)
		}
	}
	for _, sg := range m.Subgraphs {
		for _, op := range sg.Operators {
			if len(op.CustomOptions) > 0 {
				blobs = append(blobs, op.CustomOptions)
			}
		}
	}
	return blobs
}

// pack builds the FlatBuffer. With ext == nil all data is inline; otherwise
// ext[i] is the file offset of externalBlobs()[i].
func (m *Model) pack(ext []uint64) []byte {
	size := 1 << 16
	for _, b := range m.Buffers {
		size += len(b.Data) + bufferAlign
	}
	if ext != nil {
		size = 1 << 16
	}
	b := flatbuffers.NewBuilder(size)

	// Operator codes: write both code fields as the converter does.
	codes := make([]flatbuffers.UOffsetT, len(m.OperatorCodes))
	for i, oc := range m.OperatorCodes {
		c := *oc
		c.DeprecatedBuiltinCode = deprecatedCode(c.BuiltinCode)
		codes[i] = c.Pack(b)
	}
	codesVec := offsetVector(b, codes)

	next := 0 // index into ext
	nextExt := func(data []byte) (uint64, uint64) {
		off := ext[next]
		next++
		return off, uint64(len(data))
	}

	buffers := make([]flatbuffers.UOffsetT, len(m.Buffers))
	for i, buf := range m.Buffers {
		var dataOff flatbuffers.UOffsetT
		var off, sz uint64
		switch {
		case ext != nil && len(buf.Data) > 0:
			off, sz = nextExt(buf.Data)
		case buf.Data != nil:
			// Align the vector's first byte (flatbuffers aligns from the end
			// of the buffer, and the finished buffer's size is a multiple of
			// its largest alignment, so this is alignment in the file too).
			b.Prep(bufferAlign, len(buf.Data))
			dataOff = b.CreateByteVector(buf.Data)
		}
		fb.BufferStart(b)
		fb.BufferAddData(b, dataOff)
		fb.BufferAddOffset(b, off)
		fb.BufferAddSize(b, sz)
		buffers[i] = fb.BufferEnd(b)
	}
	buffersVec := offsetVector(b, buffers)

	cache := newVectorCache(b)
	subgraphs := make([]flatbuffers.UOffsetT, len(m.Subgraphs))
	for i, sg := range m.Subgraphs {
		ops := sg.Operators
		if ext != nil {
			// Move custom options out of line for this pack only.
			ops = make([]*fb.OperatorT, len(sg.Operators))
			for j, op := range sg.Operators {
				o := *op
				if len(op.CustomOptions) > 0 {
					o.LargeCustomOptionsOffset, o.LargeCustomOptionsSize = nextExt(op.CustomOptions)
					o.CustomOptions = nil
				}
				ops[j] = &o
			}
		}
		subgraphs[i] = packSubGraph(b, cache, sg, ops)
	}
	subgraphsVec := offsetVector(b, subgraphs)

	description := b.CreateString(m.Description)

	var metadataBufferVec flatbuffers.UOffsetT
	if m.MetadataBuffer != nil {
		fb.ModelStartMetadataBufferVector(b, len(m.MetadataBuffer))
		for j := len(m.MetadataBuffer) - 1; j >= 0; j-- {
			b.PrependInt32(m.MetadataBuffer[j])
		}
		metadataBufferVec = b.EndVector(len(m.MetadataBuffer))
	}
	var metadataVec, signaturesVec flatbuffers.UOffsetT
	if m.Metadata != nil {
		offs := make([]flatbuffers.UOffsetT, len(m.Metadata))
		for i, md := range m.Metadata {
			offs[i] = md.Pack(b)
		}
		metadataVec = offsetVector(b, offs)
	}
	if m.SignatureDefs != nil {
		offs := make([]flatbuffers.UOffsetT, len(m.SignatureDefs))
		for i, sd := range m.SignatureDefs {
			offs[i] = sd.Pack(b)
		}
		signaturesVec = offsetVector(b, offs)
	}

	fb.ModelStart(b)
	fb.ModelAddVersion(b, m.Version)
	fb.ModelAddOperatorCodes(b, codesVec)
	fb.ModelAddSubgraphs(b, subgraphsVec)
	fb.ModelAddDescription(b, description)
	fb.ModelAddBuffers(b, buffersVec)
	fb.ModelAddMetadataBuffer(b, metadataBufferVec)
	fb.ModelAddMetadata(b, metadataVec)
	fb.ModelAddSignatureDefs(b, signaturesVec)
	b.FinishWithFileIdentifier(fb.ModelEnd(b), []byte(FileIdentifier))
	return b.FinishedBytes()
}

// offsetVector writes a vector of table offsets (always, even when empty,
// matching what the object API writes for a present field).
func offsetVector(b *flatbuffers.Builder, offs []flatbuffers.UOffsetT) flatbuffers.UOffsetT {
	b.StartVector(4, len(offs), 4)
	for j := len(offs) - 1; j >= 0; j-- {
		b.PrependUOffsetT(offs[j])
	}
	return b.EndVector(len(offs))
}
