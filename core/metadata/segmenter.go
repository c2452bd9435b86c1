package metadata

import mfb "litequant/core/schema/metadatafb"

// ImageSegmenter is the metadata of an image segmenter as TF Hub's
// DeepLab models carry it: the input's normalization and image
// properties, the output (a grayscale image of class scores per pixel)
// with its label file.
func ImageSegmenter(name string, mean, std []float32, width, height uint32, labelsFile string) *mfb.ModelMetadataT {
	md := ImageClassifier(name, mean, std, width, height, labelsFile)
	out := md.SubgraphMetadata[0].OutputTensorMetadata[0]
	out.Name = "segmentation_masks"
	out.Content = &mfb.ContentT{ContentProperties: &mfb.ContentPropertiesT{Type: mfb.ContentPropertiesImageProperties,
		Value: &mfb.ImagePropertiesT{ColorSpace: mfb.ColorSpaceTypeGRAYSCALE}}}
	out.Stats = nil
	out.AssociatedFiles[0].Description = "Labels for categories that the model can segment."
	return md
}
