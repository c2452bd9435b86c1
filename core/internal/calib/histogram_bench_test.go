package calib

import (
	"os"
	"testing"

	"litequant/core/fixtures"
	"litequant/core/tflite"
)

// BenchmarkCalibrateMobilenet times calibration as convert runs it (patch
// statistics and channel ranges) on 8 of mobilenet_v1_0.25_224_float's
// image crops, with histograms off and on; the metric is ms/sample.
func BenchmarkCalibrateMobilenet(b *testing.B) {
	data, err := os.ReadFile(fixtures.Model(b, "mobilenet_v1_0.25_224_float.tflite"))
	if err != nil {
		b.Fatal(err)
	}
	m, err := tflite.Load(data)
	if err != nil {
		b.Fatal(err)
	}
	s, err := fixtures.Samples(m, "mobilenet_v1_0.25_224_float.tflite", 8)
	if err != nil {
		b.Fatal(err)
	}
	src := floats{shape: s[0][0].Shape}
	for _, x := range s {
		v, err := x[0].Float32s()
		if err != nil {
			b.Fatal(err)
		}
		src.data = append(src.data, v)
	}
	for _, hist := range []bool{false, true} {
		name := "histograms=off"
		if hist {
			name = "histograms=on"
		}
		b.Run(name, func(b *testing.B) {
			n := 0
			for b.Loop() {
				if _, err := Run(b.Context(), m, src, Options{Patches: true, Channels: true, Histograms: hist}); err != nil {
					b.Fatal(err)
				}
				n += src.Len()
			}
			b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(n), "ms/sample")
		})
	}
}
