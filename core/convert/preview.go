package convert

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"sort"

	"litequant/core/interp"
	"litequant/core/metadata"
	"litequant/core/samples"
	fb "litequant/core/schema/tflitefb"
	"litequant/core/tflite"
)

// Preview is a classifier's top labels, or a segmenter's masks, on one
// sample, float against quantized, run with litequant's interpreter.
type Preview struct {
	// Kind is "classifier" (Float and Quantized are the top classes) or
	// "segmenter" (Segmentation holds the masks).
	Kind string `json:"kind"`
	// Source is the sample: one the conversion held back when it held
	// some back (VerifySplit), else the last one.
	Source    string  `json:"source"`
	HeldBack  bool    `json:"held_back"`
	Float     []Score `json:"float,omitempty"`
	Quantized []Score `json:"quantized,omitempty"`
	// Labels says the labels came from the model's metadata.
	Labels       string        `json:"labels,omitempty"`
	Segmentation *Segmentation `json:"segmentation,omitempty"`
}

// Score is one class.
type Score struct {
	Index int     `json:"index"`
	Label string  `json:"label"`
	Score float32 `json:"score"`
}

// ErrNoPreview is returned for models a preview does not fit: not a
// classifier (one output of shape [1, classes]) nor an image segmenter
// (one output [1, h, w, classes]) with labels in its metadata.
var ErrNoPreview = errors.New("no preview: the model is not an image classifier or segmenter with labels in its metadata")

// ClassifierPreview runs the float model and the quantized one on one
// sample (of files, chosen as the conversion with options o would hold it
// back) and returns each one's top k classes.
func ClassifierPreview(ctx context.Context, float, quantized []byte, files []samples.File, o Options, k int) (*Preview, error) {
	fm, err := tflite.Load(float)
	if err != nil {
		return nil, err
	}
	info, err := metadata.Read(fm, float)
	if err != nil || info == nil || len(info.Labels) == 0 || len(fm.Subgraphs) == 0 || len(fm.Subgraphs[0].Outputs) != 1 {
		return nil, ErrNoPreview
	}
	qm, err := tflite.Load(quantized)
	if err != nil {
		return nil, fmt.Errorf("the quantized model: %w", err)
	}
	p := &Preview{Kind: "classifier", Labels: info.LabelsFile}
	fo, _, qo, _, err := previewRun(ctx, fm, qm, files, o, p)
	if err != nil {
		return nil, err
	}
	p.Float, p.Quantized = top(fo, info.Labels, k), top(qo, info.Labels, k)
	return p, nil
}

// previewRun picks the preview's sample of files (held back as the
// conversion with options o would, else the last), sets p.Source and
// p.HeldBack, and runs the float and the quantized model on it: output 0
// of each as float32, and its shape.
func previewRun(ctx context.Context, fm, qm *tflite.Model, files []samples.File, o Options, p *Preview) (fo []float32, fshape []int, qo []float32, qshape []int, err error) {
	inputs, pixels := ModelInputs(fm)
	so, _ := sampleOptions(fm, o, pixels)
	set, err := samples.Load(inputs, files, so)
	if err != nil {
		return nil, nil, nil, nil, err
	}
	idx := set.Len() - 1
	if o.VerifySplit > 0 {
		if _, held := set.Split(o.VerifySplit); held.Len() > 0 {
			set, idx, p.HeldBack = held, 0, true
		}
	}
	if idx < 0 {
		return nil, nil, nil, nil, errors.New("no sample to preview on")
	}
	p.Source = set.Source(idx)
	in, err := set.Sample(idx)
	if err != nil {
		return nil, nil, nil, nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, nil, nil, nil, err
	}
	if fo, fshape, err = runOnce(fm, in, set.Shapes(idx)); err != nil {
		return nil, nil, nil, nil, fmt.Errorf("the float model: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return nil, nil, nil, nil, err
	}
	if qo, qshape, err = runOnce(qm, in, set.Shapes(idx)); err != nil {
		return nil, nil, nil, nil, fmt.Errorf("the quantized model: %w", err)
	}
	return fo, fshape, qo, qshape, nil
}

// runOnce runs m's first subgraph on float32 inputs (quantizing them for
// integer inputs) and returns output 0 as float32, and its shape.
func runOnce(m *tflite.Model, in [][]byte, shapes [][]int) ([]float32, []int, error) {
	it, err := interp.New(m, interp.Options{})
	if err != nil {
		return nil, nil, err
	}
	for i, data := range in {
		t := it.Input(i)
		if t.Type != fb.TensorTypeFLOAT32 {
			if data, err = quantizeInput(data, t); err != nil {
				return nil, nil, err
			}
		}
		if err := it.SetInput(i, shapes[i], data); err != nil {
			return nil, nil, err
		}
	}
	if err := it.Invoke(); err != nil {
		return nil, nil, err
	}
	out := it.Output(0)
	v, err := dequantized(out)
	return v, append([]int{}, out.Shape...), err
}

// quantizeInput turns float32 values into t's integer type with t's
// scale and zero point.
func quantizeInput(data []byte, t *interp.Tensor) ([]byte, error) {
	if len(t.Scale) != 1 || len(t.ZeroPoint) != 1 {
		return nil, fmt.Errorf("input %q is %s without one scale", t.Name, tflite.TypeName(t.Type))
	}
	lo, hi := tflite.IntRange(t.Type)
	n := len(data) / 4
	out := make([]byte, n*elemBytes(t.Type))
	for i := 0; i < n; i++ {
		v := math.Float32frombits(binary.LittleEndian.Uint32(data[4*i:]))
		q := int64(math.Round(float64(v)/float64(t.Scale[0]))) + t.ZeroPoint[0]
		q = max(lo, min(hi, q))
		switch t.Type {
		case fb.TensorTypeINT8, fb.TensorTypeUINT8:
			out[i] = byte(q)
		case fb.TensorTypeINT16:
			binary.LittleEndian.PutUint16(out[2*i:], uint16(int16(q)))
		default:
			return nil, fmt.Errorf("input %q: %s inputs are not previewed", t.Name, tflite.TypeName(t.Type))
		}
	}
	return out, nil
}

func elemBytes(t fb.TensorType) int {
	if t == fb.TensorTypeINT16 {
		return 2
	}
	return 1
}

// dequantized returns an output's values as float32.
func dequantized(t *interp.Tensor) ([]float32, error) {
	n := t.NumElements()
	out := make([]float32, n)
	var scale float32 = 1
	var zp int64
	if len(t.Scale) == 1 && len(t.ZeroPoint) == 1 {
		scale, zp = t.Scale[0], t.ZeroPoint[0]
	}
	switch t.Type {
	case fb.TensorTypeFLOAT32:
		copy(out, t.F32())
	case fb.TensorTypeINT8:
		for i, v := range t.I8() {
			out[i] = float32(int64(v)-zp) * scale
		}
	case fb.TensorTypeUINT8:
		for i, v := range t.U8() {
			out[i] = float32(int64(v)-zp) * scale
		}
	case fb.TensorTypeINT16:
		for i, v := range t.I16() {
			out[i] = float32(int64(v)-zp) * scale
		}
	default:
		return nil, fmt.Errorf("output %q is %s", t.Name, tflite.TypeName(t.Type))
	}
	return out, nil
}

// top returns the k best classes.
func top(v []float32, labels []string, k int) []Score {
	idx := make([]int, len(v))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return v[idx[a]] > v[idx[b]] })
	var out []Score
	for _, i := range idx[:min(k, len(idx))] {
		label := fmt.Sprintf("class %d", i)
		if i < len(labels) {
			label = labels[i]
		}
		out = append(out, Score{Index: i, Label: label, Score: v[i]})
	}
	return out
}
