package main

import (
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"

	"litequant/core/convert"
	"litequant/core/interp"
	"litequant/core/npy"
	"litequant/core/samples"
	fb "litequant/core/schema/tflitefb"
	"litequant/core/tflite"
)

const runUsage = "run MODEL.tflite --input X0.npy [--input X1.npy ...] [--signature KEY] [--dequantize] -o OUTDIR"

// stringList is a repeatable string flag.
type stringList []string

func (s *stringList) String() string     { return fmt.Sprint(*s) }
func (s *stringList) Set(v string) error { *s = append(*s, v); return nil }

// runRun executes a model with the Go interpreter on .npy inputs and
// writes out0.npy, out1.npy, ... (one per output, in output order). An
// integer input takes arrays of its own type (or any integer type whose
// values fit) as they are, and floating-point arrays as real numbers
// quantized with the input's scale and zero point. Outputs are written in
// the model's output types, or with --dequantize as float32 real numbers.
func runRun(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	var inputs stringList
	fs.Var(&inputs, "input", "an .npy file per model input, in input order (repeat)")
	signature := fs.String("signature", "", "signature key to run (default: the primary subgraph)")
	outDir := fs.String("o", "", "output directory")
	dequantize := fs.Bool("dequantize", false, "write quantized outputs as float32 real numbers ((q - zero point) × scale)")
	maxMemory := fs.String("max-memory", "", "refuse a model whose activations need more memory than this (e.g. 8GiB; default 4GiB)")
	pos, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usageError{fmt.Sprintf("want one model file, got %d arguments", len(pos))}
	}
	if *outDir == "" {
		return usageError{"-o OUTDIR is required"}
	}
	var limit int64
	if *maxMemory != "" {
		if limit, err = convert.ParseSize(*maxMemory); err != nil {
			return usageError{"--max-memory: " + err.Error()}
		}
	}
	m, _, err := loadModelFile(pos[0])
	if err != nil {
		return err
	}
	it, err := interp.New(m, interp.Options{Signature: *signature, MaxMemory: limit})
	if err != nil {
		return fmt.Errorf("%s: %w", pos[0], err)
	}
	ins := make([]samples.Input, it.NumInputs())
	for i := range ins {
		t := it.Input(i)
		ins[i] = samples.Input{Name: t.Name, Type: t.Type, Shape: modelShape(m, *signature, i, t.Shape)}
		if t.Type != fb.TensorTypeFLOAT32 && len(t.Scale) == 1 && t.Scale[0] > 0 {
			ins[i].Scale = float64(t.Scale[0])
			if len(t.ZeroPoint) == 1 {
				ins[i].ZeroPoint = t.ZeroPoint[0]
			}
		}
	}
	if len(inputs) != len(ins) {
		return fmt.Errorf("%d --input files for %d model inputs (%s)", len(inputs), len(ins), describeInputs(ins))
	}
	files, err := samples.ReadPaths(inputs)
	if err != nil {
		return err
	}
	set, err := samples.Load(ins, files, samples.Options{CalibCount: math.MaxInt32})
	if err != nil {
		return err
	}
	outs, err := runAll(it, set)
	if err != nil {
		return err
	}
	if *dequantize {
		for i, a := range outs {
			if outs[i], err = dequantizeOutput(it.Output(i), a); err != nil {
				return fmt.Errorf("--dequantize: output %d (%q): %w", i, it.Output(i).Name, err)
			}
		}
	}
	if err := os.MkdirAll(*outDir, 0o755); err != nil {
		return err
	}
	for i, a := range outs {
		p := filepath.Join(*outDir, fmt.Sprintf("out%d.npy", i))
		if err := npy.WriteFile(p, a); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "%s: %s %v\n", p, a.DType, a.Shape)
	}
	return nil
}

// modelShape returns input i's shape from the model, with -1 where the
// shape signature marks a dimension dynamic.
func modelShape(m *tflite.Model, signature string, i int, fallback []int) []int {
	si := 0
	for _, sd := range m.SignatureDefs {
		if sd.SignatureKey == signature {
			si = int(sd.SubgraphIndex)
		}
	}
	sg := m.Subgraphs[si]
	t := sg.Tensors[sg.Inputs[i]]
	dims := t.Shape
	if len(t.ShapeSignature) == len(t.Shape) {
		dims = t.ShapeSignature
	}
	out := make([]int, len(dims))
	for k, d := range dims {
		out[k] = int(d)
	}
	if len(out) == 0 {
		return append([]int{}, fallback...)
	}
	return out
}

func describeInputs(ins []samples.Input) string {
	s := ""
	for i, in := range ins {
		if i > 0 {
			s += ", "
		}
		s += in.String()
	}
	return s
}

// runAll invokes the interpreter once per sample. One sample gives the
// outputs as they are; several are stacked on a new leading axis, or on
// the output's leading 1 when it has one.
func runAll(it *interp.Interpreter, set *samples.Set) ([]*npy.Array, error) {
	n := set.Len()
	outs := make([]*npy.Array, it.NumOutputs())
	var buf [][]byte
	for s := 0; s < n; s++ {
		var err error
		if buf, err = set.SampleTo(s, buf); err != nil {
			return nil, err
		}
		shapes := set.Shapes(s)
		for k := range buf {
			if err := it.SetInput(k, shapes[k], buf[k]); err != nil {
				return nil, fmt.Errorf("%s: %w", set.Source(s), err)
			}
		}
		if err := it.Invoke(); err != nil {
			return nil, fmt.Errorf("%s: %w", set.Source(s), err)
		}
		for k := range outs {
			o := it.Output(k)
			dt := samples.NPYType(o.Type)
			if dt == npy.InvalidDType {
				return nil, fmt.Errorf("output %d (%q): no .npy dtype for %s", k, o.Name, tflite.TypeName(o.Type))
			}
			if outs[k] == nil {
				shape := append([]int{}, o.Shape...)
				if n > 1 {
					if len(shape) > 0 && shape[0] == 1 {
						shape = shape[1:]
					}
					shape = append([]int{n}, shape...)
				}
				outs[k] = &npy.Array{DType: dt, Shape: shape, Data: make([]byte, 0, len(o.Data)*n)}
			}
			if len(outs[k].Data) != s*len(o.Data) {
				return nil, errors.New("output sizes differ between samples; run them separately")
			}
			outs[k].Data = append(outs[k].Data, o.Data...)
		}
	}
	return outs, nil
}

// dequantizeOutput returns output array a of tensor t as float32 real
// numbers, (q - zero point) × scale; a float output is returned as it is.
func dequantizeOutput(t *interp.Tensor, a *npy.Array) (*npy.Array, error) {
	if len(t.Scale) == 0 {
		if a.DType.IsFloat() {
			return a, nil
		}
		return nil, fmt.Errorf("%s output has no quantization to dequantize with", tflite.TypeName(t.Type))
	}
	if len(t.Scale) != 1 {
		return nil, fmt.Errorf("per-channel output quantization (%d scales) is not supported", len(t.Scale))
	}
	scale, zp := float64(t.Scale[0]), int64(0)
	if len(t.ZeroPoint) > 0 {
		zp = t.ZeroPoint[0]
	}
	n := len(a.Data) / a.DType.Size()
	out := &npy.Array{DType: npy.Float32, Shape: a.Shape, Data: make([]byte, 4*n)}
	for i := 0; i < n; i++ {
		var q int64
		switch t.Type {
		case fb.TensorTypeINT8:
			q = int64(int8(a.Data[i]))
		case fb.TensorTypeUINT8:
			q = int64(a.Data[i])
		case fb.TensorTypeINT16:
			q = int64(int16(binary.LittleEndian.Uint16(a.Data[2*i:])))
		case fb.TensorTypeINT32:
			q = int64(int32(binary.LittleEndian.Uint32(a.Data[4*i:])))
		default:
			return nil, fmt.Errorf("cannot dequantize a %s output", tflite.TypeName(t.Type))
		}
		binary.LittleEndian.PutUint32(out.Data[4*i:], math.Float32bits(float32(float64(q-zp)*scale)))
	}
	return out, nil
}
