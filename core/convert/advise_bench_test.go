package convert

import (
	"context"
	"os"
	"testing"

	"litequant/core/fixtures"
)

// BenchmarkAdviseMobilenet: the mode advice of a MobileNet (five
// conversions, no calibration).
func BenchmarkAdviseMobilenet(b *testing.B) {
	fixtures.RequireShared(b)
	model, err := os.ReadFile(fixtures.Path(b, "models", "mobilenet_v1_0.25_224_float.tflite"))
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := Advise(context.Background(), model, Options{}); err != nil {
			b.Fatal(err)
		}
	}
}
