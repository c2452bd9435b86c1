package convert

import (
	"bytes"
	"os"
	"path/filepath"
	"sort"
	"testing"
	"time"

	"litequant/core/fixtures"
	"litequant/core/modelbuild"
	"litequant/core/npy"
	"litequant/core/samples"
	fb "litequant/core/schema/tflitefb"
	"litequant/core/tflite"
)

// maxTinyElements bounds the inputs tinySamples makes samples for.
const maxTinyElements = 1 << 16

// tinySamples returns two calibration samples for m's inputs (one .npy
// per input, a batch of 2 each, deterministic values), or nil when an
// input is larger than maxTinyElements.
func tinySamples(t testing.TB, m *tflite.Model) []samples.File {
	sg := m.Subgraphs[0]
	for _, ti := range sg.Inputs {
		n := 1
		for _, d := range sg.Tensors[ti].Shape {
			n *= max(int(d), 1)
			if n > maxTinyElements {
				return nil
			}
		}
	}
	set, err := fixtures.Samples(m, "", 2)
	if err != nil {
		return nil
	}
	var files []samples.File
	for k, a := range fixtures.Stack(set) {
		var b bytes.Buffer
		if err := npy.Write(&b, a); err != nil {
			t.Fatal(err)
		}
		files = append(files, samples.File{Name: "in" + string(rune('0'+k%10)) + ".npy", Data: b.Bytes()})
	}
	return files
}

// builtModels are small models made in code: the project's own test
// models, seeds for the fuzzers whether or not ../shared is present.
func builtModels() [][]byte {
	f := fb.TensorTypeFLOAT32
	fc := func() []byte {
		b := modelbuild.New()
		x := b.Tensor("x", f, 1, 8)
		w := make([]float32, 32)
		for i := range w {
			w[i] = float32(i%7) - 3
		}
		wt := b.ConstFloat32("w", []int32{4, 8}, w)
		bias := b.ConstFloat32("b", []int32{4}, []float32{0.5, -1, 0, 2})
		h := b.Tensor("h", f, 1, 4)
		y := b.Tensor("y", f, 1, 4)
		b.Op(fb.BuiltinOperatorFULLY_CONNECTED, &fb.FullyConnectedOptionsT{FusedActivationFunction: fb.ActivationFunctionTypeRELU}, []int32{x, wt, bias}, []int32{h})
		b.Op(fb.BuiltinOperatorSOFTMAX, &fb.SoftmaxOptionsT{Beta: 1}, []int32{h}, []int32{y})
		b.Inputs(x)
		b.Outputs(y)
		return b.Bytes()
	}
	return [][]byte{imageNet(), dynamicImageNet(), fc()}
}

// sharedModels returns the ../shared models of at most maxBytes, smallest
// first, or nil when ../shared is absent. They are read at test time, never
// copied into the repository.
func sharedModels(maxBytes int64) (names []string, data [][]byte) {
	dir, ok := fixtures.SharedDir()
	if !ok {
		return nil, nil
	}
	paths, _ := filepath.Glob(filepath.Join(dir, "models", "*.tflite"))
	sort.Strings(paths)
	for _, p := range paths {
		st, err := os.Stat(p)
		if err != nil || st.Size() > maxBytes {
			continue
		}
		if b, err := os.ReadFile(p); err == nil {
			names, data = append(names, filepath.Base(p)), append(data, b)
		}
	}
	return names, data
}

// watchdog crashes the process when a case runs longer than d: a hang is
// then a crash the fuzzer records with its input. Stop it when done.
func watchdog(d time.Duration, what string) *time.Timer {
	return time.AfterFunc(d, func() { panic("hang: " + what + " ran longer than " + d.String()) })
}
