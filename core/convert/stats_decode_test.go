package convert

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"litequant/core/samples"
)

// TestDecodeStats: what EncodeStats writes decodes to the same statistics;
// anything else (another format, empty, damaged) is an error, so a cache
// recalibrates instead of using it.
func TestDecodeStats(t *testing.T) {
	res, err := Convert(context.Background(), Request{Model: imageNet(), Calib: []samples.File{pixels(t, 4)}, Options: Options{Mode: Int8}})
	if err != nil {
		t.Fatal(err)
	}
	enc, err := EncodeStats(res.Stats)
	if err != nil {
		t.Fatal(err)
	}
	got, err := DecodeStats(enc)
	if err != nil {
		t.Fatalf("round trip: %v", err)
	}
	if again, _ := EncodeStats(got); !bytes.Equal(again, enc) {
		t.Fatal("decoded statistics encode differently")
	}
	for in, want := range map[string]string{
		`{"format":"from another build"}`:     `unknown field "format"`,
		`{}`:                                  "0 samples, 0 subgraphs",
		`{"samples":3,"subgraphs":[null]}`:    "subgraph entry 0 is missing",
		string(enc[:len(enc)/2]):              "decoding calibration statistics",
		`{"samples":1,"subgraphs":[{}]} {}`:   "more than one value",
		`{"samples":"many","subgraphs":[{}]}`: "cannot unmarshal",
	} {
		if _, err := DecodeStats([]byte(in)); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%.40s: %v, want %q", in, err, want)
		}
	}
}
