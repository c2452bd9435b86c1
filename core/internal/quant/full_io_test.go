package quant

import (
	"math"
	"testing"

	"litequant/core/fixtures"
	"litequant/core/npy"
	"litequant/core/runtimetest"
	fb "litequant/core/schema/tflitefb"
	"litequant/core/tflite"
)

// quantizeArray quantizes float input a with tensor tt's parameters into
// tt's type.
func quantizeArray(t *testing.T, a *npy.Array, tt *fb.TensorT) *npy.Array {
	t.Helper()
	v, err := a.Float32s()
	if err != nil {
		t.Fatal(err)
	}
	s, z := params(t, tt)
	r := rep{typ: tt.Type, scale: s, zp: z}
	q := quantizeValues(v, r)
	switch tt.Type {
	case fb.TensorTypeINT8:
		out := make([]int8, len(q))
		for i, x := range q {
			out[i] = int8(x)
		}
		return npy.FromInt8(a.Shape, out)
	case fb.TensorTypeUINT8:
		out := make([]uint8, len(q))
		for i, x := range q {
			out[i] = uint8(x)
		}
		return npy.FromUint8(a.Shape, out)
	case fb.TensorTypeINT16:
		out := make([]int16, len(q))
		for i, x := range q {
			out[i] = int16(x)
		}
		return npy.FromInt16(a.Shape, out)
	}
	t.Fatalf("type %s", tflite.TypeName(tt.Type))
	return nil
}

// checkIOTypes quantizes data with integer model I/O of type typ and
// checks, in the real runtime, that the I/O has that type and that inputs
// quantized with the model's own input parameters give outputs within one
// output step of the float-I/O model's.
func checkIOTypes(t *testing.T, data []byte, samples []fixtures.Sample, mode FullMode, typ fb.TensorType) {
	t.Helper()
	st := calibrate(t, mustLoad(t, data), samples)
	floatIO, _ := quantizeFull(t, data, mode, st, Options{})
	intIO, rep := quantizeFull(t, data, mode, st, Options{InputType: typ, OutputType: typ})
	m := mustLoad(t, intIO)
	sg := m.Subgraphs[0]
	name := tflite.TypeName(typ)
	if rep.InputType != name || rep.OutputType != name {
		t.Errorf("report says input %s, output %s", rep.InputType, rep.OutputType)
	}
	in, out := sg.Tensors[sg.Inputs[0]], sg.Tensors[sg.Outputs[0]]
	if in.Type != typ || out.Type != typ {
		t.Fatalf("model I/O %s -> %s, want %s", tflite.TypeName(in.Type), tflite.TypeName(out.Type), name)
	}
	// uint8 I/O: the int8 parameters with zero point + 128, converted by
	// a QUANTIZE at each end; int8/int16 I/O: no conversion at all.
	conversions := 0
	for _, op := range sg.Operators {
		if c := m.Builtin(op); c == fb.BuiltinOperatorQUANTIZE || c == fb.BuiltinOperatorDEQUANTIZE {
			conversions++
		}
	}
	if want := map[fb.TensorType]int{fb.TensorTypeUINT8: 2}[typ]; conversions != want {
		t.Errorf("%d QUANTIZE/DEQUANTIZE operators, want %d", conversions, want)
	}
	fm := mustLoad(t, floatIO)
	fin := fm.Subgraphs[0].Tensors[fm.Subgraphs[0].Operators[0].Outputs[0]] // the float model's QUANTIZE output
	is, iz := params(t, in)
	fs, fz := params(t, fin)
	if typ == fb.TensorTypeUINT8 {
		fz += 128
	}
	if is != fs || iz != fz {
		t.Errorf("input params %g %d, want the float-I/O model's %g %d", is, iz, fs, fz)
	}
	if runtimetest.Available() != nil {
		return
	}
	x := stack(samples)
	ref, err := runtimetest.RunModelBytes(t.Context(), floatIO, x, runtimetest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	res, err := runtimetest.RunModelBytes(t.Context(), intIO, []*npy.Array{quantizeArray(t, x[0], in)}, runtimetest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	want := map[fb.TensorType]string{fb.TensorTypeINT8: "int8", fb.TensorTypeUINT8: "uint8", fb.TensorTypeINT16: "int16"}[typ]
	if res.Meta.Inputs[0].DType != want || res.Meta.Outputs[0].DType != want {
		t.Errorf("the runtime reports %s -> %s, want %s", res.Meta.Inputs[0].DType, res.Meta.Outputs[0].DType, want)
	}
	os, oz := params(t, out)
	a, err := ref.Outputs[0].Float64s()
	if err != nil {
		t.Fatal(err)
	}
	b, err := res.Outputs[0].Float64s()
	if err != nil {
		t.Fatal(err)
	}
	worst := 0.0
	for i := range a {
		deq := (b[i] - float64(oz)) * float64(os)
		worst = math.Max(worst, math.Abs(deq-a[i])/float64(os))
	}
	if worst > 1+1e-3 {
		t.Errorf("outputs differ from the float-I/O model's by up to %.2f output steps", worst)
	}
	t.Logf("%s I/O: outputs within %.3f output steps of the float-I/O model's (%d values)", name, worst, len(a))
}

func TestFullIOTypes(t *testing.T) {
	data := convNet()
	samples := randSamples(t, data, 16, -1, 1, 6)
	for _, c := range []struct {
		mode FullMode
		typ  fb.TensorType
	}{{ModeInt8, fb.TensorTypeINT8}, {ModeInt8, fb.TensorTypeUINT8}, {ModeInt16x8, fb.TensorTypeINT16}} {
		t.Run(tflite.TypeName(c.typ), func(t *testing.T) {
			checkIOTypes(t, data, samples, c.mode, c.typ)
		})
		if _, ok := fixtures.SharedDir(); ok {
			t.Run("conv_fc_mnist "+tflite.TypeName(c.typ), func(t *testing.T) {
				data, samples := sharedSamples(t, "conv_fc_mnist.tflite", 60)
				checkIOTypes(t, data, samples, c.mode, c.typ)
			})
		}
	}
}
