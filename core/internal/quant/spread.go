package quant

import (
	"fmt"
	"slices"
	"strings"
)

// SampleSpread is implemented by Ranges that recorded, per tensor, the
// largest magnitude it reached on each calibration sample (*calib.Stats).
// With it the 8-bit modes warn when a few samples set a calibrated range
// far beyond all the others: min/max calibration (TensorFlow's) then
// spreads the 256 steps over values most inputs never reach.
type SampleSpread interface {
	SampleMax(subgraph, tensor int) []float32
	SampleName(i int) string
}

// spreadFactor is how many times the median sample's magnitude a range
// may reach before the 8-bit modes warn: a range 8 times wider leaves a
// typical sample at most 32 of int8's 256 steps.
const spreadFactor = 8

// outlierSpread is one calibrated activation whose range a few samples
// set.
type outlierSpread struct {
	tensor      string
	top, median float32
	samples     []int   // the samples beyond spreadFactor × median
	peak        float32 // the magnitude the range given it reaches
	// Where the value is: its subgraph, tensor and producing operator
	// (-1 for a subgraph input).
	subgraph int
	t        int32
	producer int
}

// rangeSpread checks one tensor's per-sample magnitudes v: ok when the
// largest is at least spreadFactor times the median (of at least 4
// samples), with the samples that reach that far.
func rangeSpread(v []float32) (top, median float32, samples []int, ok bool) {
	if len(v) < 4 {
		return 0, 0, nil, false
	}
	c := slices.Clone(v)
	slices.Sort(c)
	median, top = c[len(c)/2], c[len(c)-1]
	if !(median > 0) || top < spreadFactor*median {
		return 0, 0, nil, false
	}
	for i, x := range v {
		if x >= spreadFactor*median {
			samples = append(samples, i)
		}
	}
	return top, median, samples, true
}

// spreadWarning describes the outliers found, naming the first (the
// caller sorts them in operator order: where the outlying values start)
// and its samples.
func spreadWarning(found []outlierSpread, names SampleSpread) string {
	if len(found) == 0 {
		return ""
	}
	f := found[0]
	var who []string
	for _, i := range f.samples[:min(3, len(f.samples))] {
		name := names.SampleName(i)
		if name == "" {
			name = fmt.Sprintf("sample %d", i)
		}
		who = append(who, name)
	}
	list := strings.Join(who, ", ")
	if n := len(f.samples) - len(who); n > 0 {
		list += fmt.Sprintf(" and %d more", n)
	}
	method, remedy := "", ", use --calibration percentile, entropy or auto (which clip such values), or --mode int16x8"
	if m, ok := names.(interface{ Method() string }); ok && m.Method() != "minmax" {
		method = fmt.Sprintf(" --calibration %s kept a range reaching %.3g.", m.Method(), f.peak)
		remedy = ", or use --mode int16x8"
	}
	return fmt.Sprintf("%d calibrated activation range(s) are set by a few samples far beyond the others: %q reaches %.3g on %s, "+
		"while half the samples stay within %.3g (%.0f×).%s 8-bit steps spread over such a range leave the other samples few of them: "+
		"leave those samples out if they are not representative%s",
		len(found), f.tensor, f.top, list, f.median, f.top/f.median, method, remedy)
}
