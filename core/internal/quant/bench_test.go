package quant

import (
	"os"
	"strings"
	"testing"

	"litequant/core/fixtures"
	"litequant/core/tflite"
)

// BenchmarkDynamic times load, Dynamic and save in memory on the largest
// shared float models (iris_landmark is the largest, 2.6 MB).
func BenchmarkDynamic(b *testing.B) {
	for _, name := range []string{"iris_landmark.tflite", "mobilenet_v1_0.25_224_float.tflite"} {
		b.Run(strings.TrimSuffix(name, ".tflite"), func(b *testing.B) {
			data, err := os.ReadFile(fixtures.Model(b, name))
			if err != nil {
				b.Fatal(err)
			}
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				m, err := tflite.Load(data)
				if err != nil {
					b.Fatal(err)
				}
				if _, err := Dynamic(m, Options{}); err != nil {
					b.Fatal(err)
				}
				if _, err := m.Save(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
