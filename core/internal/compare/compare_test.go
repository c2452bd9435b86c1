package compare

import (
	"context"
	"encoding/json"
	"math"
	"strings"
	"testing"

	"litequant/core/modelbuild"
	fb "litequant/core/schema/tflitefb"
	"litequant/core/tflite"
)

// source feeds float32 samples of one input.
type source struct {
	shape []int
	data  [][]float32
}

func (s source) Len() int            { return len(s.data) }
func (s source) Shapes(int) [][]int  { return [][]int{s.shape} }
func (s source) Source(i int) string { return "sample" + string(rune('0'+i)) }
func (s source) SampleTo(i int, _ [][]byte) ([][]byte, error) {
	return [][]byte{modelbuild.Float32Bytes(s.data[i])}, nil
}

// reshapes builds x[1,8] → RESHAPE r[2,4] → RESHAPE out[1,8], float.
func reshapes() *tflite.Model {
	b := modelbuild.New()
	x := b.Tensor("x", fb.TensorTypeFLOAT32, 1, 8)
	r := b.Tensor("r", fb.TensorTypeFLOAT32, 2, 4)
	out := b.Tensor("out", fb.TensorTypeFLOAT32, 1, 8)
	b.Op(fb.BuiltinOperatorRESHAPE, &fb.ReshapeOptionsT{NewShape: []int32{2, 4}}, []int32{x, b.ConstInt32("s1", []int32{2}, []int32{2, 4})}, []int32{r})
	b.Op(fb.BuiltinOperatorRESHAPE, &fb.ReshapeOptionsT{NewShape: []int32{1, 8}}, []int32{r, b.ConstInt32("s2", []int32{2}, []int32{1, 8})}, []int32{out})
	b.Inputs(x)
	b.Outputs(out)
	return b.Model()
}

// quantizedReshapes is reshapes with int8 activations of the given scale
// and zero point: QUANTIZE, two int8 RESHAPEs, DEQUANTIZE.
func quantizedReshapes(scale float32, zp int64, inputType fb.TensorType) *tflite.Model {
	b := modelbuild.New()
	var x, xq int32
	if inputType == fb.TensorTypeINT8 {
		x = b.Tensor("x_int8", fb.TensorTypeINT8, 1, 8)
		b.Quantize(x, []float32{scale}, []int64{zp}, 0)
		xq = x
	} else {
		x = b.Tensor("x", fb.TensorTypeFLOAT32, 1, 8)
		xq = b.Tensor("x_quantized", fb.TensorTypeINT8, 1, 8)
		b.Quantize(xq, []float32{scale}, []int64{zp}, 0)
		b.Op(fb.BuiltinOperatorQUANTIZE, nil, []int32{x}, []int32{xq})
	}
	r := b.Tensor("r", fb.TensorTypeINT8, 2, 4)
	b.Quantize(r, []float32{scale}, []int64{zp}, 0)
	oq := b.Tensor("out_int8", fb.TensorTypeINT8, 1, 8)
	b.Quantize(oq, []float32{scale}, []int64{zp}, 0)
	out := b.Tensor("out", fb.TensorTypeFLOAT32, 1, 8)
	b.Op(fb.BuiltinOperatorRESHAPE, &fb.ReshapeOptionsT{NewShape: []int32{2, 4}}, []int32{xq, b.ConstInt32("s1", []int32{2}, []int32{2, 4})}, []int32{r})
	b.Op(fb.BuiltinOperatorRESHAPE, &fb.ReshapeOptionsT{NewShape: []int32{1, 8}}, []int32{r, b.ConstInt32("s2", []int32{2}, []int32{1, 8})}, []int32{oq})
	b.Op(fb.BuiltinOperatorDEQUANTIZE, nil, []int32{oq}, []int32{out})
	b.Inputs(x)
	b.Outputs(out)
	return b.Model()
}

// expected computes the figures independently: quantize-dequantize each
// value (round half away from zero, clamp to int8).
func expected(scale float64, zp int64, data [][]float32) (sqnr, maxAbs, clipped float64) {
	var sig, noise float64
	n, c := 0, 0
	for _, s := range data {
		for _, v := range s {
			q := math.Max(-128, math.Min(127, math.Round(float64(v)/scale)+float64(zp)))
			e := (q-float64(zp))*scale - float64(v)
			sig += float64(v) * float64(v)
			noise += e * e
			maxAbs = math.Max(maxAbs, math.Abs(e))
			if float64(v) > (127-float64(zp)+0.5)*scale || float64(v) < (-128-float64(zp)-0.5)*scale {
				c++
			}
			n++
		}
	}
	return 10 * math.Log10(sig/noise), maxAbs, float64(c) / float64(n)
}

func TestRunFigures(t *testing.T) {
	src := source{shape: []int{1, 8}, data: [][]float32{
		{-1, -0.5, 0.01, 0.26, 0.5, 0.74, 1, 3}, // 3 is clipped at scale 1/64
		{0.1, 0.2, 0.3, 0.4, -0.1, -0.2, -0.3, -2.5},
	}}
	const scale, zp = 1.0 / 64, 0
	for _, io := range []fb.TensorType{fb.TensorTypeFLOAT32, fb.TensorTypeINT8} {
		rep, err := Run(context.Background(), reshapes(), quantizedReshapes(scale, zp, io), src, Options{Isolated: true})
		if err != nil {
			t.Fatal(err)
		}
		wantSQNR, wantMax, wantClipped := expected(scale, zp, src.data)
		var names []string
		for _, r := range rep.Tensors {
			names = append(names, r.Name)
			// Every tensor carries exactly the input's quantization error:
			// RESHAPE moves values.
			m := r.Accumulated
			if math.Abs(float64(m.SQNR)-wantSQNR) > 1e-6 || math.Abs(m.MaxAbs-wantMax) > 1e-9 || math.Abs(m.Clipped-wantClipped) > 1e-12 {
				t.Errorf("%s: %s: got SQNR %v max %g clipped %g, want %g %g %g", io, r.Name, m.SQNR, m.MaxAbs, m.Clipped, wantSQNR, wantMax, wantClipped)
			}
			if r.Elements != 8 || r.Scale != scale || r.Type != "INT8" {
				t.Errorf("%s: row %+v", io, r)
			}
			if r.Isolated == nil {
				t.Fatalf("%s: no isolated figures", io)
			}
		}
		want := "x_quantized,r,out_int8"
		if io == fb.TensorTypeINT8 {
			want = "r,out_int8" // no QUANTIZE: the input itself is int8
		}
		if strings.Join(names, ",") != want {
			t.Errorf("%s: rows %v, want %s", io, names, want)
		}
		if len(rep.Outputs) != 1 || math.Abs(float64(rep.Outputs[0].Metrics.SQNR)-wantSQNR) > 1e-6 {
			t.Errorf("%s: outputs %+v", io, rep.Outputs)
		}
		// 8 values per sample: a class axis, and the top element (1 and
		// 0.4) survives quantization in both samples... except the first,
		// where 3 clips to 127/64 ≈ 1.98, still the largest.
		if top := rep.Outputs[0].Top1; top == nil || *top != 1 {
			t.Errorf("%s: top-1 agreement %v, want 1", io, top)
		}
		js, err := json.Marshal(rep)
		if err != nil || !strings.Contains(string(js), `"sqnr_db":`) || !strings.Contains(string(js), `"isolated":`) {
			t.Errorf("%s: JSON %s, %v", io, js, err)
		}
		var text strings.Builder
		if err := rep.WriteText(&text); err != nil || !strings.Contains(text.String(), "worst layers (isolated): ") {
			t.Errorf("%s: text %q, %v", io, text.String(), err)
		}
	}
}

// TestIsolatedSeparatesCauseFromInherited: a layer whose own parameters
// are coarse shows a low isolated SQNR; the exact layer after it inherits
// the error (low accumulated) but is exact in isolation.
func TestIsolatedSeparatesCauseFromInherited(t *testing.T) {
	b := modelbuild.New()
	x := b.Tensor("x", fb.TensorTypeFLOAT32, 1, 8)
	xq := b.Tensor("x_quantized", fb.TensorTypeINT8, 1, 8)
	b.Quantize(xq, []float32{0.25}, []int64{0}, 0) // coarse: the damage is here
	r := b.Tensor("r", fb.TensorTypeINT8, 2, 4)
	b.Quantize(r, []float32{0.25}, []int64{0}, 0)
	out := b.Tensor("out", fb.TensorTypeFLOAT32, 1, 8)
	b.Op(fb.BuiltinOperatorQUANTIZE, nil, []int32{x}, []int32{xq})
	b.Op(fb.BuiltinOperatorRESHAPE, &fb.ReshapeOptionsT{NewShape: []int32{2, 4}}, []int32{xq, b.ConstInt32("s1", []int32{2}, []int32{2, 4})}, []int32{r})
	rf := b.Tensor("r_float", fb.TensorTypeFLOAT32, 2, 4)
	b.Op(fb.BuiltinOperatorDEQUANTIZE, nil, []int32{r}, []int32{rf})
	b.Op(fb.BuiltinOperatorRESHAPE, &fb.ReshapeOptionsT{NewShape: []int32{1, 8}}, []int32{rf, b.ConstInt32("s2", []int32{2}, []int32{1, 8})}, []int32{out})
	b.Inputs(x)
	b.Outputs(out)
	src := source{shape: []int{1, 8}, data: [][]float32{{0.1, 0.2, 0.3, 0.4, 0.55, 0.6, 0.7, 0.8}}}
	rep, err := Run(context.Background(), reshapes(), b.Model(), src, Options{Isolated: true})
	if err != nil {
		t.Fatal(err)
	}
	rows := map[string]*TensorRow{}
	for _, r := range rep.Tensors {
		rows[r.Name] = r
	}
	// "r" inherits: same error accumulated, but fed the float model's r
	// quantized with its (equally coarse) parameters it is no worse than
	// that quantization itself; "out" (a float RESHAPE after DEQUANTIZE)
	// is exact in isolation.
	if o := rows["out"]; o == nil || !math.IsInf(float64(o.Isolated.SQNR), 1) || math.IsInf(float64(o.Accumulated.SQNR), 1) {
		t.Errorf("out: %+v", o)
	}
	if q := rows["x_quantized"]; q == nil || float64(q.Isolated.SQNR) > 30 {
		t.Errorf("x_quantized: %+v", q)
	}
	if got := rep.WorstIsolated; len(got) == 0 || got[len(got)-1] == "out" {
		t.Errorf("worst %v: the exact float layer must not be listed", got)
	}
}

func TestRunErrors(t *testing.T) {
	src := source{shape: []int{1, 8}, data: [][]float32{make([]float32, 8)}}
	other := modelbuild.New()
	a := other.Tensor("a", fb.TensorTypeFLOAT32, 1, 4)
	c := other.Tensor("c", fb.TensorTypeFLOAT32, 1, 4)
	other.Op(fb.BuiltinOperatorRELU, nil, []int32{a}, []int32{c})
	other.Inputs(a)
	other.Outputs(c)
	cases := []struct {
		name        string
		float, quan *tflite.Model
		src         Source
		want        string
	}{
		{"inputs differ", reshapes(), other.Model(), src, `input 0: the float model's "x" has shape [1 8], the quantized model's "a" [1 4]`},
		{"no samples", reshapes(), quantizedReshapes(0.1, 0, fb.TensorTypeFLOAT32), source{shape: []int{1, 8}}, "no samples"},
		{"wrong sample shape", reshapes(), quantizedReshapes(0.1, 0, fb.TensorTypeFLOAT32), source{shape: []int{1, 3}, data: [][]float32{{1, 2, 3}}}, "sample0: float model: "},
	}
	for _, tc := range cases {
		_, err := Run(context.Background(), tc.float, tc.quan, tc.src, Options{})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err = %v, want %q", tc.name, err, tc.want)
		}
	}
	// No pairs: two unrelated models of the same input shape.
	b := modelbuild.New()
	p := b.Tensor("p", fb.TensorTypeFLOAT32, 1, 8)
	q := b.Tensor("q", fb.TensorTypeFLOAT32, 1, 8)
	b.Op(fb.BuiltinOperatorRELU, nil, []int32{p}, []int32{q})
	b.Inputs(p)
	b.Outputs(q)
	bb := modelbuild.New()
	u := bb.Tensor("u", fb.TensorTypeFLOAT32, 1, 8)
	v := bb.Tensor("v", fb.TensorTypeFLOAT32, 1, 8)
	w := bb.Tensor("w", fb.TensorTypeFLOAT32, 1, 8)
	bb.Op(fb.BuiltinOperatorRELU, nil, []int32{u}, []int32{v})
	bb.Op(fb.BuiltinOperatorRELU, nil, []int32{v}, []int32{w})
	bb.Inputs(u)
	bb.Outputs(w)
	if _, err := Run(context.Background(), b.Model(), bb.Model(), src, Options{}); err != nil {
		// u pairs with p and w with q by position; v has no namesake, so
		// the rows are the output alone, which is a pair.
		t.Errorf("positional pairs: %v", err)
	}
	// An operator the interpreter lacks is named with its place.
	cu := modelbuild.New()
	i := cu.Tensor("x", fb.TensorTypeFLOAT32, 1, 8)
	o := cu.Tensor("out", fb.TensorTypeFLOAT32, 1, 8)
	cu.Custom("Frobnicate", nil, []int32{i}, []int32{o})
	cu.Inputs(i)
	cu.Outputs(o)
	if _, err := Run(context.Background(), reshapes(), cu.Model(), src, Options{}); err == nil || !strings.Contains(err.Error(), "quantized model: ") || !strings.Contains(err.Error(), "operator 0") {
		t.Errorf("custom operator: %v", err)
	}
}

func TestDBJSON(t *testing.T) {
	for _, tc := range []struct {
		in   DB
		want string
	}{{DB(math.Inf(1)), "null"}, {DB(math.NaN()), "null"}, {12.3456, "12.346"}} {
		b, err := json.Marshal(tc.in)
		if err != nil || string(b) != tc.want {
			t.Errorf("%v: %s, %v", tc.in, b, err)
		}
	}
	var d DB
	if err := json.Unmarshal([]byte("null"), &d); err != nil || !math.IsInf(float64(d), 1) {
		t.Errorf("null → %v, %v", d, err)
	}
}
