package main

import (
	"strings"
	"testing"

	"litequant/core/convert"
)

func TestProgressLine(t *testing.T) {
	var b strings.Builder
	update, done := progressLine(&b)
	update(convert.Progress{Phase: "reading", Done: 0, Total: 1})
	update(convert.Progress{Phase: "calibrating", Done: 1, Total: 8}) // within 100 ms: skipped
	update(convert.Progress{Phase: "calibrating", Done: 8, Total: 8}) // the last sample: always shown
	done()
	want := "\r\033[Kreading...\r\033[Kcalibrating 8/8 samples\r\033[K"
	if b.String() != want {
		t.Errorf("progress output %q, want %q", b.String(), want)
	}
	// Without a terminal nothing is written and nothing is called.
	update, done = progressLine(nil)
	if update != nil {
		t.Error("a progress callback without a terminal")
	}
	done()
}
