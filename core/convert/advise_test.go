package convert

import (
	"context"
	"os"
	"testing"

	"litequant/core/fixtures"
)

// TestAdvise: every mode is tried; the sizes and float operators each
// advertises are those of a real conversion in that mode.
func TestAdvise(t *testing.T) {
	fixtures.RequireShared(t)
	model, err := os.ReadFile(fixtures.Path(t, "models", "conv_fc_mnist.tflite"))
	if err != nil {
		t.Fatal(err)
	}
	adv, err := Advise(context.Background(), model, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(adv) != len(ModeInfos) {
		t.Fatalf("%d pieces of advice for %d modes", len(adv), len(ModeInfos))
	}
	for _, a := range adv {
		t.Logf("%s: %d → %d bytes, %d float ops, error %q", a.Mode, a.SizeBefore, a.SizeAfter, len(a.FloatOps), a.Error)
		if a.Error != "" {
			continue
		}
		o := Options{Mode: a.Mode}
		if a.Calibrates {
			o.DefaultRange = adviceRange
		}
		res, err := Convert(context.Background(), Request{Model: model, Options: o})
		if err != nil {
			t.Fatalf("%s: %v", a.Mode, err)
		}
		if res.Report.SizeAfter != a.SizeAfter || len(res.Report.Quantize.FloatOps) != len(a.FloatOps) {
			t.Errorf("%s: advice says %d bytes, %d float ops; the conversion gives %d, %d",
				a.Mode, a.SizeAfter, len(a.FloatOps), res.Report.SizeAfter, len(res.Report.Quantize.FloatOps))
		}
		if a.SizeAfter >= a.SizeBefore {
			t.Errorf("%s: %d bytes after, not smaller than %d", a.Mode, a.SizeAfter, a.SizeBefore)
		}
	}
	if adv[2].Mode != Int8 || adv[2].Error != "" {
		t.Errorf("int8 advice: %+v", adv[2])
	}
}
