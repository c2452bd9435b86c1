package main

import (
	"bytes"
	"encoding/binary"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"litequant/core/npy"
	"litequant/core/runtimetest"
	"litequant/core/samples"
	fb "litequant/core/schema/tflitefb"
	"litequant/core/tflite"
)

// TestRunQuantizedIO runs models with integer inputs and outputs: the
// integer .npy as it is and the float .npy quantized with the input's
// scale and zero point give the same outputs, which equal the real
// runtime's on the same integers; --dequantize writes (q - zp) × scale.
func TestRunQuantizedIO(t *testing.T) {
	dir := t.TempDir()
	model := fcModelFile(t, dir, 32)
	cal := calibFile(t, dir, 20)
	const n = 5
	r := rand.New(rand.NewPCG(3, 4))
	x := make([]float32, n*64)
	for i := range x {
		x[i] = 2.4*r.Float32() - 1.2 // a little beyond the calibrated [-1, 1): clamps too
	}
	x[0], x[1] = 3, -1e30 // far out of range: clamped
	xf := filepath.Join(dir, "x.npy")
	if err := npy.WriteFile(xf, npy.FromFloat32([]int{n, 64}, x)); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		mode string
		io   fb.TensorType
	}{{"int8", fb.TensorTypeINT8}, {"int8", fb.TensorTypeUINT8}, {"int16x8", fb.TensorTypeINT16}} {
		name := c.mode + "-" + tflite.TypeName(c.io)
		t.Run(name, func(t *testing.T) {
			q := filepath.Join(dir, name+".tflite")
			io := map[fb.TensorType]string{fb.TensorTypeINT8: "int8", fb.TensorTypeUINT8: "uint8", fb.TensorTypeINT16: "int16"}[c.io]
			if status, _, stderr := runCmd("quantize", "--mode", c.mode, "--calib", cal, "--input-type", io, "--output-type", io, "-o", q, model); status != 0 {
				t.Fatalf("quantize: %s", stderr)
			}
			data, err := os.ReadFile(q)
			if err != nil {
				t.Fatal(err)
			}
			m, err := tflite.Load(data)
			if err != nil {
				t.Fatal(err)
			}
			sg := m.Subgraphs[0]
			in, out := sg.Tensors[sg.Inputs[0]], sg.Tensors[sg.Outputs[0]]
			if in.Type != c.io || out.Type != c.io {
				t.Fatalf("model I/O %s/%s, want %s", tflite.TypeName(in.Type), tflite.TypeName(out.Type), io)
			}
			inScale, inZP := float64(in.Quantization.Scale[0]), in.Quantization.ZeroPoint[0]
			outScale, outZP := float64(out.Quantization.Scale[0]), out.Quantization.ZeroPoint[0]

			// The integer input, quantized here with the same rule.
			size := map[fb.TensorType]int{fb.TensorTypeINT8: 1, fb.TensorTypeUINT8: 1, fb.TensorTypeINT16: 2}[c.io]
			xi := &npy.Array{DType: samples.NPYType(c.io), Shape: []int{n, 64}, Data: make([]byte, size*len(x))}
			clamped := 0
			lo, hi := tflite.IntRange(c.io)
			for i, v := range x {
				qv := samples.QuantizeValue(float64(v), inScale, inZP, c.io)
				if want := math.Round(float64(v)/inScale) + float64(inZP); want != float64(qv) && (float64(qv) != float64(lo) && float64(qv) != float64(hi)) {
					t.Fatalf("QuantizeValue(%v) = %d, want %v", v, qv, want)
				}
				if qv == lo || qv == hi {
					clamped++
				}
				if size == 1 {
					xi.Data[i] = byte(qv)
				} else {
					binary.LittleEndian.PutUint16(xi.Data[2*i:], uint16(qv))
				}
			}
			if clamped == 0 {
				t.Fatalf("no input value clamps: the test does not cover clamping")
			}
			xq := filepath.Join(dir, name+"-x.npy")
			if err := npy.WriteFile(xq, xi); err != nil {
				t.Fatal(err)
			}

			runOut := func(args ...string) *npy.Array {
				t.Helper()
				o := t.TempDir()
				if status, _, stderr := runCmd(append(append([]string{"run", q}, args...), "-o", o)...); status != 0 {
					t.Fatalf("run %v: %s", args, stderr)
				}
				a, err := npy.ReadFile(filepath.Join(o, "out0.npy"))
				if err != nil {
					t.Fatal(err)
				}
				return a
			}
			fromInt := runOut("--input", xq)
			fromFloat := runOut("--input", xf)
			if fromInt.DType != samples.NPYType(c.io) || len(fromInt.Shape) != 2 || fromInt.Shape[0] != n {
				t.Fatalf("output %s %v, want %s [%d 32]", fromInt.DType, fromInt.Shape, samples.NPYType(c.io), n)
			}
			if !bytes.Equal(fromInt.Data, fromFloat.Data) {
				t.Errorf("float input quantized by run differs from the integer input")
			}
			deq := runOut("--input", xq, "--dequantize")
			got, err := deq.Float32s()
			if deq.DType != npy.Float32 || err != nil {
				t.Fatalf("--dequantize wrote %s", deq.DType)
			}
			for i := range got {
				var qv int64
				if size == 1 {
					qv = int64(fromInt.Data[i])
					if c.io == fb.TensorTypeINT8 {
						qv = int64(int8(fromInt.Data[i]))
					}
				} else {
					qv = int64(int16(binary.LittleEndian.Uint16(fromInt.Data[2*i:])))
				}
				if want := float32(float64(qv-outZP) * outScale); got[i] != want {
					t.Fatalf("dequantized output %d = %v, want %v", i, got[i], want)
				}
			}

			runtimetest.Require(t)
			res, err := runtimetest.RunModel(t.Context(), q, []*npy.Array{xi}, runtimetest.Options{})
			if err != nil {
				t.Fatal(err)
			}
			if w := res.Outputs[0]; w.DType != fromInt.DType || !bytes.Equal(w.Data, fromInt.Data) {
				t.Errorf("outputs differ from the real runtime's (%s %v)", w.DType, w.Shape)
			}
		})
	}
}
