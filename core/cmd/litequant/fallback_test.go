package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"litequant/core/convert"
)

// TestQuantizeFallbackFlags: --float-ops and --target-sqnr on the
// FULLY_CONNECTED "h" -> DIV "y" model (DIV has no int8 kernel).
func TestQuantizeFallbackFlags(t *testing.T) {
	dir := t.TempDir()
	in := divModelFile(t, dir)
	cal := calibFile(t, dir, 24)
	out := filepath.Join(dir, "out.tflite")
	rep := filepath.Join(dir, "r.json")
	cases := []struct {
		name   string
		args   []string
		status int
		stdout []string // substrings
		stderr string   // one line
		report func(t *testing.T, r map[string]json.RawMessage)
	}{
		{name: "float ops leave nothing integer", args: []string{"--float-ops", "h"}, status: 1, stderr: "nothing to quantize: no operator of the model has an int8 kernel (2 left float)"},
		{name: "unknown float op", args: []string{"--float-ops", "h,nope"}, status: 1, stderr: `--float-ops: no operator writes "nope" first`},
		{name: "target without samples", args: []string{"--target-sqnr", "30"}, status: 1, stderr: "--target-sqnr 30 needs verification samples to measure on: give --verify PATH or --verify-split F"},
		{name: "unknown int16 op", args: []string{"--int16-ops", "nope"}, status: 1, stderr: `--int16-ops: no operator writes "nope" first`},
		{name: "int16 op without kernel", args: []string{"--int16-ops", "y"}, status: 1, stderr: `--int16-ops: "y" (DIV) has no int16x8 kernel in the runtime`},
		{name: "int16 ops", args: []string{"--int16-ops", "h"}, report: func(t *testing.T, r map[string]json.RawMessage) {
			var acts []struct {
				Tensor string `json:"tensor"`
				Type   string `json:"type"`
			}
			if err := json.Unmarshal(r["activations"], &acts); err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, a := range acts {
				got = append(got, a.Tensor+":"+a.Type)
			}
			if !strings.Contains(strings.Join(got, " "), "h:INT16") {
				t.Errorf("activations %v, want h INT16", got)
			}
		}},
		{name: "target", args: []string{"--target-sqnr", "100", "--verify-split", "0.25"},
			stdout: []string{"fallback to --target-sqnr 100 dB: reached after 1 step(s)", "float   FULLY_CONNECTED    h (isolated", "left float: --float-ops h"},
			report: func(t *testing.T, r map[string]json.RawMessage) {
				var f struct {
					Target  float64 `json:"target_sqnr"`
					Reached bool    `json:"reached"`
					Steps   []struct {
						Operator, Builtin, Action string
						Share                     float64 `json:"integer_share"`
					} `json:"steps"`
					FloatOps []string `json:"float_ops"`
				}
				if err := json.Unmarshal(r["fallback"], &f); err != nil {
					t.Fatal(err)
				}
				if f.Target != 100 || !f.Reached || len(f.Steps) != 1 || f.Steps[0].Operator != "h" || f.Steps[0].Builtin != "FULLY_CONNECTED" ||
					f.Steps[0].Action != "float" || f.Steps[0].Share != 0 || strings.Join(f.FloatOps, ",") != "h" {
					t.Errorf("fallback section %s", r["fallback"])
				}
			}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			os.Remove(rep)
			args := append([]string{"quantize", "--mode", "int8", "--calib", cal, "--report", rep, "-o", out}, tc.args...)
			status, stdout, stderr := runCmd(append(args, in)...)
			if status != tc.status {
				t.Fatalf("status %d, want %d: %s%s", status, tc.status, stdout, stderr)
			}
			for _, s := range tc.stdout {
				if !strings.Contains(stdout, s) {
					t.Errorf("stdout lacks %q:\n%s", s, stdout)
				}
			}
			if tc.stderr != "" && (!strings.Contains(stderr, tc.stderr) || strings.Count(strings.TrimSpace(stderr), "\n") > 1) {
				t.Errorf("stderr %q, want one line with %q", stderr, tc.stderr)
			}
			if tc.report != nil {
				data, err := os.ReadFile(rep)
				if err != nil {
					t.Fatal(err)
				}
				var r map[string]json.RawMessage
				if err := json.Unmarshal(data, &r); err != nil {
					t.Fatal(err)
				}
				tc.report(t, r)
			}
		})
	}
}

func TestProgressLineFallback(t *testing.T) {
	var b strings.Builder
	update, done := progressLine(&b)
	update(convert.Progress{Phase: "fallback", Done: 3, Total: 30})
	done()
	if want := "\r\033[Kfallback: re-quantization 3 (at most 30)\r\033[K"; b.String() != want {
		t.Errorf("progress output %q, want %q", b.String(), want)
	}
}
