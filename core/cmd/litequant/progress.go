package main

import (
	"fmt"
	"io"
	"os"
	"time"

	"litequant/core/convert"
)

// progressOut is where quantize shows its progress line: standard error
// when it is a terminal, nowhere otherwise (scripts and CI logs get the
// report only).
var progressOut = func() io.Writer {
	if fi, err := os.Stderr.Stat(); err == nil && fi.Mode()&os.ModeCharDevice != 0 {
		return os.Stderr
	}
	return nil
}

// progressLine returns a convert.Progress callback that keeps one line up
// to date on w ("calibrating 120/500 samples"), at most every 100 ms, and
// a function that clears it when the conversion ends. With a nil w both do
// nothing.
func progressLine(w io.Writer) (update func(convert.Progress), done func()) {
	if w == nil {
		return nil, func() {}
	}
	var last time.Time
	shown := false
	update = func(p convert.Progress) {
		counted := p.Phase == "calibrating" || p.Phase == "comparing" || p.Phase == "verifying"
		final := counted && p.Done == p.Total
		if !final && time.Since(last) < 100*time.Millisecond {
			return
		}
		last = time.Now()
		msg := p.Phase + "..."
		if counted {
			msg = fmt.Sprintf("%s %d/%d samples", p.Phase, p.Done, p.Total)
		} else if p.Phase == "fallback" {
			msg = fmt.Sprintf("fallback: re-quantization %d (at most %d)", p.Done, p.Total)
		}
		fmt.Fprintf(w, "\r\033[K%s", msg)
		shown = true
	}
	done = func() {
		if shown {
			fmt.Fprint(w, "\r\033[K")
		}
	}
	return update, done
}
