package convert

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"litequant/core/interp"
	"litequant/core/samples"
	"litequant/core/tflite"
)

// Limits are the options that bound the work on untrusted files and fix
// dynamic input shapes. They are part of Options (embedded), with the
// CLI's flag names.
type Limits struct {
	// MaxMemory bounds the interpreter's activation memory, as a size:
	// "4GiB", "1500MB", "2G" or a number of bytes; empty means the
	// default (4 GiB natively, 1.5 GiB in the page).
	MaxMemory string `json:"max_memory,omitempty"`
	// MaxImagePixels refuses calibration or verification images whose
	// header declares more pixels; 0 means 64 megapixels.
	MaxImagePixels int64 `json:"max_image_pixels,omitempty"`
	// InputShapes fix the dynamic dimensions (shape_signature -1) of
	// inputs for calibration and verification: "NAME=1,224,224,3" each.
	// Without one, the samples' shapes decide when they agree.
	InputShapes []string `json:"input_shapes,omitempty"`
}

// validate checks the limits' syntax.
func (l Limits) validate() error {
	if _, err := l.maxMemory(); err != nil {
		return err
	}
	if l.MaxImagePixels < 0 {
		return fmt.Errorf("--max-image-pixels must be positive, got %d", l.MaxImagePixels)
	}
	_, err := parseInputShapes(l.InputShapes)
	return err
}

// maxMemory is MaxMemory in bytes (0: the interpreter's default).
func (l Limits) maxMemory() (int64, error) {
	if strings.TrimSpace(l.MaxMemory) == "" {
		return 0, nil
	}
	n, err := ParseSize(l.MaxMemory)
	if err != nil {
		return 0, fmt.Errorf("--max-memory: %w", err)
	}
	return n, nil
}

// ParseSize reads a size such as "4GiB", "1.5G", "800MB", "300M", "64KiB"
// or "123456" (bytes); K, M, G and T are powers of 1024 with or without
// "iB", as are KB, MB, GB and TB.
func ParseSize(s string) (int64, error) {
	t := strings.ToUpper(strings.TrimSpace(s))
	mult := int64(1)
	for _, u := range []struct {
		suffix string
		mult   int64
	}{{"TIB", 1 << 40}, {"GIB", 1 << 30}, {"MIB", 1 << 20}, {"KIB", 1 << 10},
		{"TB", 1 << 40}, {"GB", 1 << 30}, {"MB", 1 << 20}, {"KB", 1 << 10},
		{"T", 1 << 40}, {"G", 1 << 30}, {"M", 1 << 20}, {"K", 1 << 10}, {"B", 1}} {
		if strings.HasSuffix(t, u.suffix) {
			t, mult = strings.TrimSpace(strings.TrimSuffix(t, u.suffix)), u.mult
			break
		}
	}
	v, err := strconv.ParseFloat(t, 64)
	if err != nil || math.IsNaN(v) || v <= 0 || v*float64(mult) >= math.MaxInt64 {
		return 0, fmt.Errorf("%q is not a size (want e.g. 4GiB, 1500MB or a number of bytes)", s)
	}
	return int64(v * float64(mult)), nil
}

// parseInputShapes parses --input-shape values, NAME=D1,D2,... each.
func parseInputShapes(list []string) (map[string][]int, error) {
	out := map[string][]int{}
	for _, item := range list {
		i := strings.LastIndex(item, "=")
		if i <= 0 {
			return nil, fmt.Errorf("--input-shape %q: want NAME=1,224,224,3", item)
		}
		name := strings.TrimSpace(item[:i])
		var dims []int
		for _, f := range strings.Split(item[i+1:], ",") {
			d, err := strconv.Atoi(strings.TrimSpace(f))
			if err != nil || d < 1 || d > 1<<24 {
				return nil, fmt.Errorf("--input-shape %q: %q is not a dimension (want positive integers, NAME=1,224,224,3)", item, strings.TrimSpace(f))
			}
			dims = append(dims, d)
		}
		if _, dup := out[name]; dup {
			return nil, fmt.Errorf("--input-shape: input %q given twice", name)
		}
		out[name] = dims
	}
	return out, nil
}

// modelInputs is ModelInputs with --input-shape applied: each named input's
// dynamic dimensions take the given values. A name that is no input, a
// rank that differs or a fixed dimension given another value is an error.
func (o Options) modelInputs(m *tflite.Model) ([]samples.Input, bool, error) {
	inputs, pixels := ModelInputs(m)
	shapes, err := parseInputShapes(o.InputShapes)
	if err != nil {
		return nil, false, err
	}
	for name, dims := range shapes {
		k := -1
		for i, in := range inputs {
			if in.Name == name {
				k = i
			}
		}
		if k < 0 {
			var names []string
			for _, in := range inputs {
				names = append(names, strconv.Quote(in.Name))
			}
			return nil, false, fmt.Errorf("--input-shape: the model has no input %q (its inputs: %s)", name, strings.Join(names, ", "))
		}
		in := &inputs[k]
		if len(dims) != len(in.Shape) {
			return nil, false, fmt.Errorf("--input-shape %s: %d dimensions given, input %v has %d", name, len(dims), *in, len(in.Shape))
		}
		fixed := append([]int(nil), in.Shape...)
		for i, d := range dims {
			if fixed[i] >= 0 && fixed[i] != d {
				return nil, false, fmt.Errorf("--input-shape %s: dimension %d is %d in the model, not %d (only dynamic dimensions, shown as -1 in %v, can be set)", name, i, fixed[i], d, *in)
			}
			fixed[i] = d
		}
		in.Shape = fixed
	}
	return inputs, pixels, nil
}

// checkAgree requires the samples of each input with dynamic dimensions
// to share one shape: the model runs with the shape they give. Differing
// shapes are an error naming the input, two samples and the fix.
func checkAgree(inputs []samples.Input, set *samples.Set) error {
	if set == nil || set.Len() == 0 {
		return nil
	}
	first := set.Shapes(0)
	for k, in := range inputs {
		dynamic := false
		for _, d := range in.Shape {
			dynamic = dynamic || d < 0
		}
		if !dynamic || k >= len(first) {
			continue
		}
		for i := 1; i < set.Len(); i++ {
			s := set.Shapes(i)[k]
			if !sameShape(s, first[k]) {
				return fmt.Errorf("input %q has dynamic dimensions %v and the samples give it different shapes: %v (%s) and %v (%s); fix them with --input-shape %s=%s",
					in.Name, in.Shape, first[k], set.Source(0), s, set.Source(i), in.Name, joinDims(first[k]))
			}
		}
	}
	return nil
}

func sameShape(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func joinDims(s []int) string {
	parts := make([]string, len(s))
	for i, d := range s {
		parts[i] = strconv.Itoa(d)
	}
	return strings.Join(parts, ",")
}

// interpOptions are the interpreter limits o sets.
func (o Options) memoryLimit() int64 {
	n, _ := o.maxMemory() // validated before any work
	if n == 0 {
		return interp.DefaultMaxMemory
	}
	return n
}
