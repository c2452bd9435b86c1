// Command golden prints one line per shared model and conversion setting:
// the SHA-256 of the model litequant writes (or the error it gives), so that
// a change meant to keep behaviour (a refactor) can be checked byte for
// byte: run it before and after and diff the two outputs.
//
//	go run ./scripts/golden > before.txt
//	... change ...
//	go run ./scripts/golden > after.txt && diff before.txt after.txt
//
// Calibration samples are the ones the tests use (core/fixtures: slices of
// ../shared/data where the manifest pairs them with a model, deterministic
// random values elsewhere), 8 per model, given as one .npz archive.
package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"litequant/core/convert"
	"litequant/core/fixtures"
	"litequant/core/npy"
	"litequant/core/samples"
	"litequant/core/tflite"
)

// settings are the conversions checked for every model.
var settings = []struct {
	name  string
	calib bool
	opts  convert.Options
}{
	{"dynamic", false, convert.Options{Mode: "dynamic"}},
	{"float16", false, convert.Options{Mode: "float16"}},
	{"int8", true, convert.Options{Mode: "int8"}},
	{"int8-minmax", true, convert.Options{Mode: "int8", Calibration: "minmax"}},
	{"int8-plain", true, convert.Options{Mode: "int8", PlainWeights: true}},
	{"int8-io-int8", true, convert.Options{Mode: "int8", InputType: "int8", OutputType: "int8"}},
	{"int16x8", true, convert.Options{Mode: "int16x8"}},
	{"uint8", true, convert.Options{Mode: "uint8"}},
}

func main() {
	only := flag.String("models", "", "comma-separated model file names (default: every model in ../shared/models)")
	flag.Parse()
	shared, ok := fixtures.SharedDir()
	if !ok {
		fmt.Fprintln(os.Stderr, "golden: ../shared not found")
		os.Exit(1)
	}
	names, _ := filepath.Glob(filepath.Join(shared, "models", "*.tflite"))
	if *only != "" {
		names = nil
		for _, n := range strings.Split(*only, ",") {
			names = append(names, filepath.Join(shared, "models", n))
		}
	}
	for _, path := range names {
		base := filepath.Base(path)
		data, err := os.ReadFile(path)
		if err != nil {
			fmt.Fprintln(os.Stderr, "golden:", err)
			os.Exit(1)
		}
		calib, cerr := calibFiles(data, base)
		for _, s := range settings {
			req := convert.Request{Model: data, Options: s.opts}
			if s.calib {
				if cerr != nil {
					fmt.Printf("%s %s samples-error %v\n", base, s.name, cerr)
					continue
				}
				req.Calib = calib
			}
			res, err := convert.Convert(context.Background(), req)
			if err != nil {
				fmt.Printf("%s %s error %s\n", base, s.name, strings.ReplaceAll(err.Error(), "\n", " "))
				continue
			}
			fmt.Printf("%s %s %x\n", base, s.name, sha256.Sum256(res.Model))
		}
	}
}

// calibFiles returns 8 calibration samples for the model as one .npz.
func calibFiles(data []byte, base string) ([]samples.File, error) {
	m, err := tflite.Load(data)
	if err != nil {
		return nil, err
	}
	if len(m.Subgraphs) == 0 {
		return nil, fmt.Errorf("no subgraph")
	}
	ss, err := fixtures.Samples(m, base, 8)
	if err != nil {
		return nil, err
	}
	sg := m.Subgraphs[0]
	var ar npy.Archive
	for k, a := range fixtures.Stack(ss) {
		ar = append(ar, npy.NamedArray{Name: sg.Tensors[sg.Inputs[k]].Name, Array: a})
	}
	var buf bytes.Buffer
	if err := npy.WriteNPZ(&buf, ar); err != nil {
		return nil, err
	}
	return []samples.File{{Name: "calib.npz", Data: buf.Bytes()}}, nil
}
