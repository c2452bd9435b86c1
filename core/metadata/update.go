package metadata

import (
	"fmt"

	mfb "litequant/core/schema/metadatafb"
	fb "litequant/core/schema/tflitefb"
	"litequant/core/tflite"
)

// Update rewrites m's metadata for a quantized model whose first
// subgraph's input and output types were in and out before: where a
// tensor's type changed, its metadata Stats become what TensorFlow Lite's
// metadata writer gives a tensor of the new type (uint8: min 0, max 255;
// int8 and int16: none, the quantization parameters in the model say it).
// NormalizationOptions stay: the quantized model takes the same
// normalized values, quantized. It returns the tensors updated.
func Update(m *tflite.Model, in, out []fb.TensorType) ([]string, error) {
	raw := Raw(m)
	if raw == nil || len(m.Subgraphs) == 0 {
		return nil, nil
	}
	md, err := parse(raw)
	if err != nil {
		return nil, err
	}
	if len(md.SubgraphMetadata) == 0 || md.SubgraphMetadata[0] == nil {
		return nil, nil
	}
	sg, smd := m.Subgraphs[0], md.SubgraphMetadata[0]
	var updated []string
	fix := func(kind string, tensors []int32, before []fb.TensorType, mds []*mfb.TensorMetadataT) {
		for i, tm := range mds {
			if tm == nil || i >= len(tensors) || i >= len(before) {
				continue
			}
			now := sg.Tensors[tensors[i]].Type
			if now == before[i] {
				continue
			}
			switch now {
			case fb.TensorTypeUINT8:
				tm.Stats = &mfb.StatsT{Min: []float32{0}, Max: []float32{255}}
			default:
				tm.Stats = nil
			}
			name := tm.Name
			if name == "" {
				name = sg.Tensors[tensors[i]].Name
			}
			updated = append(updated, fmt.Sprintf("%s %d (%s): %s → %s", kind, i, name, tflite.TypeName(before[i]), tflite.TypeName(now)))
		}
	}
	fix("input", sg.Inputs, in, smd.InputTensorMetadata)
	fix("output", sg.Outputs, out, smd.OutputTensorMetadata)
	if len(updated) == 0 {
		return nil, nil
	}
	for _, e := range m.Metadata {
		if e != nil && e.Name == Name {
			m.Buffers[e.Buffer].Data = pack(md)
		}
	}
	return updated, nil
}
