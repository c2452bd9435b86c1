// Package samples turns calibration files, in the forms users have them, into
// input samples for a model: the representative data set that full integer
// quantization runs the float model on.
//
// The core API works on in-memory files ([File]: a name and its bytes), so the
// browser and the CLI share it; [ReadPaths] is the thin layer that reads
// files and folders from disk for the CLI. [Load] checks every file against
// the model's inputs and returns a [Set], whose [Set.Sample] gives each
// sample as little-endian bytes per input in the input's exact type and
// shape, ready for an interpreter's SetInput.
//
// # Sources
//
// A file's kind is recognised by its content (magic bytes), falling back to
// its extension:
//
//   - .npy: one sample in the input's shape, with or without the leading batch
//     dimension of 1; or a batch of samples: an extra leading axis, or (when
//     the input's leading dimension is 1 or dynamic) a leading dimension
//     larger than 1. See "Shapes" below.
//   - .npz: its arrays are matched to the inputs by name — the input's full
//     name, or its short name without a "serving_default_" prefix and a ":N"
//     suffix — or else by numpy's default names arr_0, arr_1, ... in input
//     order; for a one-input model an archive of a single array also matches.
//     Arrays that match no input are ignored. Every matched array must hold
//     the same number of samples.
//   - PNG, JPEG, GIF (first frame), BMP: one sample each, for an image input.
//   - WAV: windows of the input's length, for an audio input.
//
// For a one-input model every file is a source of its own. For a model with
// several inputs, .npy files go to the inputs in order (the i-th .npy file
// given feeds input i, and there must be exactly one per input, each holding
// the same number of samples), and each .npz file is a source of samples for
// all inputs; images and audio need a one-input model.
//
// # Shapes
//
// Let the input's shape be S, of rank r, where -1 marks a dynamic dimension
// (it matches any size, which the sample then takes). An array of shape A
// fits when:
//
//   - rank(A) = r+1 and A[1:] matches S: A[0] samples of shape A[1:];
//   - rank(A) = r, S[0] is 1 or -1 and A[1:] matches S[1:]: A[0] samples of
//     shape [1]+A[1:] (a single sample when A[0] = 1);
//   - rank(A) = r and A matches S (S[0] > 1): one sample;
//   - rank(A) = r-1, S[0] is 1 or -1 and A matches S[1:]: one sample of shape
//     [1]+A.
//
// So a model with a leading batch of 1 is fed one sample per call, even when
// its batch dimension is dynamic.
//
// # Types
//
// Supported input types are FLOAT32, INT8, UINT8, INT16, INT32, INT64 and
// BOOL. Array values are converted when no information is lost, and refused
// otherwise with an error naming the first offending value:
//
//   - to FLOAT32: float32 and float16 as they are; float64 rounded to the
//     nearest float32 (the rounding numpy's astype(float32) does), refused
//     only when the value's magnitude is beyond float32's range; bool, 8- and
//     16-bit integers exactly; 32- and 64-bit integers when the value fits in
//     float32's 24-bit significand.
//   - to an integer type (BOOL being the range [0, 1]): integers and bools
//     within the type's range; floats when the value is a whole number within
//     the range.
//   - NaN and ±Inf are refused everywhere.
//
// Array values are used as they are, without normalisation, unless
// [Options.Uint8AsPixels] is set: then uint8 arrays fed to a FLOAT32 input
// are treated as pixels and normalised like images.
//
// # Images
//
// The input must be NHWC: [1, H, W, C] (or [-1, H, W, C]) or [H, W, C], with C
// 1 or 3 (a dynamic C means 3). The image is decoded, cropped to the largest
// centred region with the aspect ratio W:H, and resized to W×H with the
// bilinear (tent) filter of golang.org/x/image/draw, which widens to cover
// every source pixel when shrinking. When H or W is dynamic the image's own
// size is used for it (both dynamic: no resize; one dynamic: the other scaled
// to keep the image's aspect ratio). Alpha is dropped: the stored colour of
// every pixel is used as if opaque, as PIL's convert("RGB") does. One channel
// is the luma 0.299 R + 0.587 G + 0.114 B, rounded to an integer pixel value.
// Pixel values p in [0, 255] then become (p - ImageMean) / ImageStd for a
// FLOAT32 input, p for UINT8, INT16 and INT32, and p - 128 for INT8. JPEG EXIF
// orientation is not applied. Images over 64 megapixels are refused.
//
// # Audio
//
// WAV files hold PCM (8-bit unsigned; 16-, 24- or 32-bit signed) or IEEE float
// (32- or 64-bit) samples, in the plain or the extensible format. The input
// must have one non-batch dimension: [N], [1, N] or [-1, N]. Channels are
// mixed down to mono by averaging them. Values are scaled to [-1, 1] (PCM
// divided by 2^(bits-1), 8-bit centred on 128; float clamped to [-1, 1]). The
// file is cut into windows of N samples starting every N/2 samples (at least
// 1) while a whole window fits; a trailing part shorter than a window is not
// used, and a file shorter than N gives one window, zero-padded. A dynamic N
// takes the whole file as one sample. FLOAT32 inputs get the scaled values;
// INT16 inputs get them times 32768, rounded and clamped (for 16-bit PCM,
// the original samples). The sample rate is not checked or converted.
//
// # Selection
//
// By default every sample is used, up to [MaxSamples]; [Options.CalibCount]
// sets another cap. When there are more samples than the cap, the cap is
// shared evenly across the sources (the files, or the group of .npy files of
// a multi-input model): each gets an equal share, a source with fewer samples
// than its share gives them all and the remainder is shared among the others
// again, and any last few that cannot be split evenly go to the first
// sources in order. Within a source the samples taken are evenly spaced:
// sample floor(k·n/q) for k = 0..q-1 of a source of n giving q. The order is
// that of the files, then of the samples in each file; the choice is
// deterministic.
//
// # Checks and memory
//
// Load checks everything before it returns: that each file is readable and
// decodable, that its shape and type can fit the input, every array value
// (NaN, Inf, lossless conversion), every float WAV sample, and the full
// decoding of every selected image. Each error is one line naming the file
// and the expected input, such as
//
//	calib.npy: shape [3, 32, 32] does not fit input "serving_default_x:0" (FLOAT32 [1, 224, 224, 3])
//
// Samples are produced lazily, so a Set stays small: images and WAV files are
// kept as the bytes given (an image is decoded, cropped and resized again in
// each Sample call), and arrays are kept decoded in their stored type and
// converted per sample; when only some of an array's samples are selected,
// only those are kept.
package samples

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"

	fb "litequant/core/schema/tflitefb"
)

// MaxSamples is the number of samples used when Options.CalibCount is 0.
const MaxSamples = 500

// Default image normalisation: (p - 127.5) / 127.5 maps [0, 255] to [-1, 1].
const (
	DefaultImageMean = 127.5
	DefaultImageStd  = 127.5
)

// Input describes one input of the model.
type Input struct {
	Name string
	Type fb.TensorType
	// Shape includes the batch dimension; -1 marks a dynamic dimension.
	Shape []int
	// Scale and ZeroPoint, when Scale is positive, are an integer input's
	// quantization: floating-point .npy/.npz values for it are then real
	// numbers, quantized to QuantizeValue(x, Scale, ZeroPoint, Type),
	// instead of integers taken as they are. Arrays of integer dtypes are
	// still taken as they are.
	Scale     float64
	ZeroPoint int64
}

// String describes the input as in error messages:
// "x" (FLOAT32 [1, 224, 224, 3]).
func (in Input) String() string {
	return fmt.Sprintf("%q (%s %s)", in.Name, in.Type, fmtShape(in.Shape))
}

// File is one calibration file: a name for messages and kind detection, and
// its content.
type File struct {
	Name string
	Data []byte
}

// Options control sample selection and image normalisation.
type Options struct {
	// CalibCount caps the number of samples used: 0 means all of them up
	// to MaxSamples; a positive count may exceed MaxSamples.
	CalibCount int
	// ImageMean and ImageStd normalise image pixels p for FLOAT32 inputs to
	// (p - ImageMean) / ImageStd. Both zero means the defaults 127.5 and
	// 127.5; ImageStd zero alone means 127.5. ImageStd must be positive.
	ImageMean, ImageStd float32
	// ImageMeans and ImageStds, when set, take the place of ImageMean and
	// ImageStd with a value per channel (or one for all), as a model's
	// metadata (NormalizationOptions) gives them.
	ImageMeans, ImageStds []float32
	// Uint8AsPixels normalises uint8 .npy/.npz arrays fed to a FLOAT32 input
	// like image pixels, with ImageMean and ImageStd, instead of taking their
	// values as they are.
	Uint8AsPixels bool
	// MaxImagePixels refuses images whose header declares more pixels
	// (width × height), before decoding; 0 means DefaultMaxImagePixels.
	MaxImagePixels int64
	// Lazy skips decoding every image whole in Load (which otherwise
	// fails there on a damaged one): an image is then decoded only when
	// its sample is taken (Sample, SampleTo), which fails on a damaged
	// one, naming it. A calibration shard takes this, so that it decodes
	// only its own images.
	Lazy bool
}

// kind is the kind of a calibration file.
type kind int

const (
	kindUnknown kind = iota
	kindNPY
	kindNPZ
	kindImage
	kindWAV
)

var kindNames = [...]string{kindUnknown: "unknown", kindNPY: "npy", kindNPZ: "npz", kindImage: "image", kindWAV: "wav"}

func (k kind) String() string { return kindNames[k] }

// source is where a run of samples comes from: one file, or the group of
// .npy files of a multi-input model.
type source struct {
	kind  kind
	name  string // for sample labels
	files int    // files it stands for
	n     int    // samples it holds
	used  int    // samples selected

	arrays []*array   // npy, npz: one per input
	img    *imageSrc  // image
	wav    *wavSource // wav
}

// entry is one selected sample: index j of its source (and row, where that
// sample is stored for array sources).
type entry struct {
	src    *source
	j, row int
}

// Set is a loaded set of calibration samples. Its methods are safe for
// concurrent use.
type Set struct {
	inputs  []Input
	entries []entry
	sources []*source
}

// Len returns the number of samples.
func (s *Set) Len() int { return len(s.entries) }

// Inputs returns the inputs the samples are for.
func (s *Set) Inputs() []Input {
	out := make([]Input, len(s.inputs))
	for i, in := range s.inputs {
		out[i] = in
		out[i].Shape = append([]int(nil), in.Shape...)
	}
	return out
}

// Shapes returns the shape of each input for sample i: the input's shape
// with dynamic dimensions resolved.
func (s *Set) Shapes(i int) [][]int {
	e := s.entries[i]
	out := make([][]int, len(s.inputs))
	for k := range out {
		out[k] = append([]int(nil), e.src.shape(k)...)
	}
	return out
}

// Source names where sample i comes from: "cat.jpg", "batch.npy[3]",
// "speech.wav[8000:24000]".
func (s *Set) Source(i int) string {
	e := s.entries[i]
	src := e.src
	switch src.kind {
	case kindImage:
		return src.name
	case kindWAV:
		start := e.j * src.wav.hop
		return fmt.Sprintf("%s[%d:%d]", src.name, start, start+src.wav.n)
	}
	if src.n == 1 {
		return src.name
	}
	return fmt.Sprintf("%s[%d]", src.name, e.j)
}

// Sample returns sample i: for each input, its data as little-endian bytes
// in the input's type, in the shape Shapes(i) gives. The slices are new.
func (s *Set) Sample(i int) ([][]byte, error) {
	return s.SampleTo(i, nil)
}

// SampleTo is Sample reusing the buffers in dst (one per input, as a
// previous call returned) where their capacity allows.
func (s *Set) SampleTo(i int, dst [][]byte) ([][]byte, error) {
	if i < 0 || i >= len(s.entries) {
		return nil, fmt.Errorf("sample %d out of range (the set has %d)", i, len(s.entries))
	}
	if len(dst) != len(s.inputs) {
		dst = make([][]byte, len(s.inputs))
	}
	e := s.entries[i]
	for k, in := range s.inputs {
		n := numElements(e.src.shape(k)) * typeSize(in.Type)
		if cap(dst[k]) < n {
			dst[k] = make([]byte, n)
		}
		dst[k] = dst[k][:n]
	}
	var err error
	switch e.src.kind {
	case kindImage:
		err = e.src.img.render(dst[0])
	case kindWAV:
		e.src.wav.window(e.j, dst[0])
	default:
		for k, a := range e.src.arrays {
			a.sample(e.row, dst[k])
		}
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %s", s.Source(i), oneLine(err.Error()))
	}
	return dst, nil
}

// shape returns the shape of input k's samples from this source.
func (src *source) shape(k int) []int {
	switch src.kind {
	case kindImage:
		return src.img.shape
	case kindWAV:
		return src.wav.shape
	}
	return src.arrays[k].shape
}

// KindSummary counts the files and samples of one kind of source.
type KindSummary struct {
	Kind    string // "npy", "npz", "image" or "wav"
	Files   int
	Samples int // samples the files hold (WAV: windows)
	Used    int // samples selected
}

// Split divides the set: held gets a share frac (0 < frac < 1) of the
// samples, spread evenly over the set (sample i is held when
// ⌊(i+1)·frac⌋ > ⌊i·frac⌋), kept the rest; both keep the order. held is
// empty when the set is too small to give any.
func (s *Set) Split(frac float64) (kept, held *Set) {
	kept = &Set{inputs: s.inputs, sources: s.sources}
	held = &Set{inputs: s.inputs, sources: s.sources}
	for i, e := range s.entries {
		if math.Floor(float64(i+1)*frac) > math.Floor(float64(i)*frac) {
			held.entries = append(held.entries, e)
		} else {
			kept.entries = append(kept.entries, e)
		}
	}
	return kept, held
}

// Summary counts a Set's files and samples, per kind of source.
type Summary struct {
	Files   int
	Samples int
	Used    int
	Kinds   []KindSummary // kinds present, in the order npy, npz, image, wav
}

// Summary counts the set's files and samples.
func (s *Set) Summary() Summary {
	var sum Summary
	used := map[*source]int{}
	for _, e := range s.entries {
		used[e.src]++
	}
	for k := kindNPY; k <= kindWAV; k++ {
		ks := KindSummary{Kind: k.String()}
		for _, src := range s.sources {
			if src.kind == k {
				ks.Files += src.files
				ks.Samples += src.n
				ks.Used += used[src]
			}
		}
		if ks.Files > 0 {
			sum.Files += ks.Files
			sum.Samples += ks.Samples
			sum.Used += ks.Used
			sum.Kinds = append(sum.Kinds, ks)
		}
	}
	return sum
}

// Describe summarises the set in one line for reports, such as
// "48 of 120 samples from 3 files (image: 2 files, 2 samples, 2 used; npy: 1 file, 118 samples, 46 used)".
func (s *Set) Describe() string {
	sum := s.Summary()
	var b strings.Builder
	fmt.Fprintf(&b, "%d of %d samples from %s (", sum.Used, sum.Samples, plural(sum.Files, "file"))
	for i, k := range sum.Kinds {
		if i > 0 {
			b.WriteString("; ")
		}
		unit := "sample"
		if k.Kind == "wav" {
			unit = "window"
		}
		fmt.Fprintf(&b, "%s: %s, %s, %d used", k.Kind, plural(k.Files, "file"), plural(k.Samples, unit), k.Used)
	}
	b.WriteString(")")
	return b.String()
}

func plural(n int, unit string) string {
	if n == 1 {
		return "1 " + unit
	}
	return strconv.Itoa(n) + " " + unit + "s"
}

// Load checks the files against the model's inputs and returns the samples
// selected from them. See the package documentation for the rules.
func Load(inputs []Input, files []File, opts Options) (*Set, error) {
	ins, err := checkInputs(inputs)
	if err != nil {
		return nil, err
	}
	o, err := opts.resolve()
	if err != nil {
		return nil, err
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("no calibration files given for %s", describeInputs(ins))
	}

	set := &Set{inputs: ins}
	var npyFiles []File
	npyPos := -1 // where the multi-input .npy group goes among the sources
	for _, f := range files {
		k, err := detect(f)
		if err != nil {
			return nil, fileErr(f.Name, ins, "%v", err)
		}
		var src *source
		switch k {
		case kindNPY:
			if len(ins) > 1 {
				if npyPos < 0 {
					npyPos = len(set.sources)
				}
				npyFiles = append(npyFiles, f)
				continue
			}
			src, err = loadNPY(ins, []File{f}, o)
		case kindNPZ:
			src, err = loadNPZ(ins, f, o)
		case kindImage:
			src, err = loadImage(ins, f, o)
		case kindWAV:
			src, err = loadWAV(ins, f)
		}
		if err != nil {
			return nil, err
		}
		set.sources = append(set.sources, src)
	}
	if len(npyFiles) > 0 {
		src, err := loadNPY(ins, npyFiles, o)
		if err != nil {
			return nil, err
		}
		set.sources = append(set.sources[:npyPos], append([]*source{src}, set.sources[npyPos:]...)...)
	}

	counts := make([]int, len(set.sources))
	for i, src := range set.sources {
		counts[i] = src.n
	}
	limit := o.CalibCount
	if limit == 0 {
		limit = MaxSamples
	}
	picks := selectSamples(counts, limit)
	for i, src := range set.sources {
		src.used = len(picks[i])
		if src.arrays != nil && src.used < src.n {
			for _, a := range src.arrays {
				a.keep(picks[i])
			}
		}
		for r, j := range picks[i] {
			row := j
			if src.arrays != nil && src.used < src.n {
				row = r
			}
			set.entries = append(set.entries, entry{src: src, j: j, row: row})
		}
		if src.kind == kindImage && src.used > 0 && !o.Lazy {
			if err := src.img.verify(); err != nil {
				return nil, fileErr(src.name, ins, "%v", err)
			}
		}
	}
	return set, nil
}

// resolve applies the defaults and checks the options.
func (o Options) resolve() (Options, error) {
	if o.CalibCount < 0 {
		return o, fmt.Errorf("calibration sample count %d is negative", o.CalibCount)
	}
	if o.ImageStd == 0 {
		if o.ImageMean == 0 {
			o.ImageMean = DefaultImageMean
		}
		o.ImageStd = DefaultImageStd
	}
	if err := checkPerChannel(o); err != nil {
		return o, err
	}
	if !finite(float64(o.ImageMean)) {
		return o, fmt.Errorf("image mean %v is not a finite number", o.ImageMean)
	}
	if !(o.ImageStd > 0) || !finite(float64(o.ImageStd)) {
		return o, fmt.Errorf("image std %v is not a positive finite number", o.ImageStd)
	}
	return o, nil
}

// checkInputs validates the input descriptions and returns a copy.
func checkInputs(inputs []Input) ([]Input, error) {
	if len(inputs) == 0 {
		return nil, errors.New("the model has no inputs to calibrate")
	}
	out := make([]Input, len(inputs))
	for i, in := range inputs {
		if typeSize(in.Type) == 0 {
			return nil, fmt.Errorf("input %v: type %s is not supported for calibration samples (want FLOAT32, INT8, UINT8, INT16, INT32, INT64 or BOOL)", in, in.Type)
		}
		for _, d := range in.Shape {
			if d < -1 || d == 0 {
				return nil, fmt.Errorf("input %v: dimension %d is invalid", in, d)
			}
		}
		if in.Scale < 0 || math.IsNaN(in.Scale) || math.IsInf(in.Scale, 0) {
			return nil, fmt.Errorf("input %v: quantization scale %v is not a positive number", in, in.Scale)
		}
		out[i] = in
		out[i].Shape = append([]int(nil), in.Shape...)
	}
	return out, nil
}

// selectSamples picks at most limit of the samples of sources holding
// counts[i] samples each, shared evenly across the sources and evenly
// spaced within each. It returns the indices picked in each source.
func selectSamples(counts []int, limit int) [][]int {
	total := 0
	for _, n := range counts {
		total += n
	}
	quota := make([]int, len(counts))
	if total <= limit {
		copy(quota, counts)
	} else {
		left := limit
		for left > 0 {
			var open []int
			for i, n := range counts {
				if quota[i] < n {
					open = append(open, i)
				}
			}
			share := left / len(open)
			if share == 0 {
				for _, i := range open[:left] {
					quota[i]++
				}
				break
			}
			for _, i := range open {
				give := min(share, counts[i]-quota[i])
				quota[i] += give
				left -= give
			}
		}
	}
	picks := make([][]int, len(counts))
	for i, q := range quota {
		n := counts[i]
		picks[i] = make([]int, q)
		for k := range picks[i] {
			picks[i][k] = int(int64(k) * int64(n) / int64(q))
		}
	}
	return picks
}

// ---------------------------------------------------------------------------
// Helpers

// typeSize returns the size of one element of a supported input type, or 0
// for a type samples cannot be given in.
func typeSize(t fb.TensorType) int {
	switch t {
	case fb.TensorTypeFLOAT32, fb.TensorTypeINT32:
		return 4
	case fb.TensorTypeINT8, fb.TensorTypeUINT8, fb.TensorTypeBOOL:
		return 1
	case fb.TensorTypeINT16:
		return 2
	case fb.TensorTypeINT64:
		return 8
	}
	return 0
}

// numElements returns the product of a shape with no dynamic dimensions.
func numElements(shape []int) int {
	n := 1
	for _, d := range shape {
		n *= d
	}
	return n
}

// fmtShape formats a shape as [1, 224, 224, 3].
func fmtShape(shape []int) string {
	var b strings.Builder
	b.WriteByte('[')
	for i, d := range shape {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(strconv.Itoa(d))
	}
	b.WriteByte(']')
	return b.String()
}

func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

// describeInputs names the model's inputs: input "x" (FLOAT32 [1, 4]), or
// inputs "a" (...), "b" (...).
func describeInputs(ins []Input) string {
	if len(ins) == 1 {
		return "input " + ins[0].String()
	}
	parts := make([]string, len(ins))
	for i, in := range ins {
		parts[i] = in.String()
	}
	return "inputs " + strings.Join(parts, ", ")
}

// fileErr returns the one-line error "file: message (for input ...)". The
// message may already name the input, in which case it is not repeated.
func fileErr(file string, ins []Input, format string, args ...any) error {
	msg := fmt.Sprintf(format, args...)
	if !strings.Contains(msg, "input \"") && !strings.Contains(msg, "inputs \"") {
		msg += " (for " + describeInputs(ins) + ")"
	}
	return errors.New(oneLine(file + ": " + msg))
}

// oneLine joins the lines of a message.
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

// npyErr returns an error of package npy without its "npy: " prefix.
func npyErr(err error) string {
	return strings.TrimPrefix(err.Error(), "npy: ")
}
