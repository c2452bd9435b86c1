package quant

import (
	"slices"
	"strings"
	"testing"
)

type names []string

func (n names) SampleMax(int, int) []float32 { return nil }
func (n names) SampleName(i int) string {
	if i < len(n) {
		return n[i]
	}
	return ""
}

func TestRangeSpread(t *testing.T) {
	for _, tc := range []struct {
		name    string
		v       []float32
		ok      bool
		samples []int
	}{
		{"too few samples", []float32{1, 1, 100}, false, nil},
		{"even", []float32{1, 2, 1.5, 3, 2}, false, nil},
		{"just under 8×", []float32{1, 1, 1, 7.9}, false, nil},
		{"one far", []float32{1, 1, 1, 8}, true, []int{3}},
		{"two far", []float32{20, 1, 1.2, 30, 1, 0.9}, true, []int{0, 3}},
		{"median 0", []float32{0, 0, 0, 0, 5}, false, nil},
		{"half far: the median moves", []float32{1, 1, 100, 100}, false, nil},
	} {
		_, _, samples, ok := rangeSpread(tc.v)
		if ok != tc.ok || !slices.Equal(samples, tc.samples) {
			t.Errorf("%s: ok %v samples %v, want %v %v", tc.name, ok, samples, tc.ok, tc.samples)
		}
	}
	w := spreadWarning([]outlierSpread{
		{tensor: "conv", top: 354, median: 21.5, samples: []int{0, 4, 5, 6, 7}},
		{tensor: "later", top: 10, median: 1, samples: []int{0}},
	}, names{"a.png", "", "", "", "e.png", "f.png"})
	for _, want := range []string{`2 calibrated activation range(s)`, `"conv" reaches 354 on a.png, e.png, f.png and 2 more`, "within 21.5 (16×)", "--mode int16x8"} {
		if !strings.Contains(w, want) {
			t.Errorf("warning %q lacks %q", w, want)
		}
	}
	if !strings.Contains(w, "--calibration percentile, entropy or auto") {
		t.Errorf("min/max warning %q does not suggest a method", w)
	}
	w = spreadWarning([]outlierSpread{{tensor: "conv", top: 354, median: 21.5, peak: 300, samples: []int{0}}}, methodNames{names{"a.png"}, "mse"})
	if !strings.Contains(w, "--calibration mse kept a range reaching 300") || strings.Contains(w, "use --calibration") {
		t.Errorf("mse warning %q", w)
	}
	if spreadWarning(nil, names{}) != "" {
		t.Error("a warning without outliers")
	}
}

// methodNames are sample names from ranges a calibration method chose.
type methodNames struct {
	names
	method string
}

func (m methodNames) Method() string { return m.method }
