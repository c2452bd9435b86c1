package metadata

import (
	"archive/zip"
	"bytes"
	"fmt"
	"sort"

	mfb "litequant/core/schema/metadatafb"
	fb "litequant/core/schema/tflitefb"
	"litequant/core/tflite"
)

// Attach returns the model file with md as its TFLITE_METADATA (replacing
// any) and files packed as a zip after it, as TensorFlow Lite's metadata
// populator writes them. Tests build models with metadata with it.
func Attach(model []byte, md *mfb.ModelMetadataT, files map[string][]byte) ([]byte, error) {
	m, err := tflite.Load(model)
	if err != nil {
		return nil, err
	}
	data := pack(md)
	found := false
	for _, e := range m.Metadata {
		if e != nil && e.Name == Name {
			m.Buffers[e.Buffer].Data, found = data, true
		}
	}
	if !found {
		m.Buffers = append(m.Buffers, &fb.BufferT{Data: data})
		m.Metadata = append(m.Metadata, &fb.MetadataT{Name: Name, Buffer: uint32(len(m.Buffers) - 1)})
	}
	out, err := m.Save()
	if err != nil {
		return nil, err
	}
	if len(files) == 0 {
		return out, nil
	}
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	var buf bytes.Buffer
	w := zip.NewWriter(&buf)
	for _, n := range names {
		f, err := w.CreateHeader(&zip.FileHeader{Name: n, Method: zip.Store})
		if err != nil {
			return nil, err
		}
		if _, err := f.Write(files[n]); err != nil {
			return nil, err
		}
	}
	if err := w.Close(); err != nil {
		return nil, fmt.Errorf("packing the associated files: %w", err)
	}
	return append(out, buf.Bytes()...), nil
}

// ImageClassifier is the metadata of an image classifier as Model Maker
// writes it: the input's normalization and image properties, the output's
// label file.
func ImageClassifier(name string, mean, std []float32, width, height uint32, labelsFile string) *mfb.ModelMetadataT {
	return &mfb.ModelMetadataT{
		Name: name, Version: "v1", MinParserVersion: "1.0.0",
		SubgraphMetadata: []*mfb.SubGraphMetadataT{{
			InputTensorMetadata: []*mfb.TensorMetadataT{{
				Name: "image",
				Content: &mfb.ContentT{ContentProperties: &mfb.ContentPropertiesT{Type: mfb.ContentPropertiesImageProperties,
					Value: &mfb.ImagePropertiesT{ColorSpace: mfb.ColorSpaceTypeRGB, DefaultSize: &mfb.ImageSizeT{Width: width, Height: height}}}},
				ProcessUnits: []*mfb.ProcessUnitT{{Options: &mfb.ProcessUnitOptionsT{Type: mfb.ProcessUnitOptionsNormalizationOptions,
					Value: &mfb.NormalizationOptionsT{Mean: mean, Std: std}}}},
				Stats: &mfb.StatsT{Min: []float32{(0 - mean[0]) / std[0]}, Max: []float32{(255 - mean[0]) / std[0]}},
			}},
			OutputTensorMetadata: []*mfb.TensorMetadataT{{
				Name:            "probability",
				Content:         &mfb.ContentT{ContentProperties: &mfb.ContentPropertiesT{Type: mfb.ContentPropertiesFeatureProperties, Value: &mfb.FeaturePropertiesT{}}},
				Stats:           &mfb.StatsT{Min: []float32{0}, Max: []float32{1}},
				AssociatedFiles: []*mfb.AssociatedFileT{{Name: labelsFile, Description: "Labels for objects that the model can recognize.", Type: mfb.AssociatedFileTypeTENSOR_AXIS_LABELS}},
			}},
		}},
	}
}
