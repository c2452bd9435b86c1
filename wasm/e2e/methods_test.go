//go:build !js

package e2e

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"litequant/core/convert"
)

// TestCalibrationMethod: the page's Calibration select and Percentile
// field reach the converter; changing the method reuses the calibration
// statistics in IndexedDB (no recalibration) and gives the native
// converter's bytes; the report says the method.
func TestCalibrationMethod(t *testing.T) {
	modelPath := shared(t, "models", "face_detection_short_range.tflite")
	images := imagePaths(t, 8)
	srv := startServer(t)
	b := newBrowser(t)
	b.open(srv.URL)
	b.pickModel(modelPath)
	b.set("#mode", "int8")
	b.upload("#samples", images...)
	b.set("#verify", false)
	if !eval[bool](b, `document.querySelector("#percentile").disabled`) {
		t.Error("the percentile field is enabled for min/max")
	}
	st, _ := b.quantize(5 * time.Minute)
	if st.Kind != "done" {
		t.Fatalf("status %q (%s)", st.Text, st.Kind)
	}
	b.set("#calibration", "percentile")
	b.set("#percentile", 99.9)
	if eval[bool](b, `document.querySelector("#percentile").disabled`) {
		t.Error("the percentile field is disabled for percentile")
	}
	st, _ = b.quantize(5 * time.Minute)
	if st.Kind != "done" || !strings.Contains(st.Text, "calibration statistics reused from the cache") {
		t.Errorf("percentile: status %q (%s), want the cached calibration", st.Text, st.Kind)
	}
	got, _ := b.download()
	want, _ := nativeConvert(t, modelPath, images, convert.Options{Mode: "int8", Calibration: "percentile", Percentile: 99.9})
	if !bytes.Equal(got, want) {
		t.Error("the page's percentile model differs from the native converter's")
	}
	report := eval[string](b, `document.querySelector("#report").textContent`)
	if !strings.Contains(report, "percentile 99.9") {
		t.Errorf("the report does not name the method: %.400s", report)
	}
}
