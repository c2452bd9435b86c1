package samples

import (
	"encoding/binary"
	"fmt"
	"math"
	"reflect"
	"testing"

	"litequant/core/npy"
	fb "litequant/core/schema/tflitefb"
)

func TestMatchShape(t *testing.T) {
	tests := []struct {
		array, input []int
		count        int
		sample       []int // nil: no fit
	}{
		{[]int{1, 4}, []int{1, 4}, 1, []int{1, 4}},
		{[]int{4}, []int{1, 4}, 1, []int{1, 4}},                // without the batch 1
		{[]int{7, 4}, []int{1, 4}, 7, []int{1, 4}},             // leading dimension larger than 1
		{[]int{7, 1, 4}, []int{1, 4}, 7, []int{1, 4}},          // extra leading axis
		{[]int{200, 1}, []int{1, 1}, 200, []int{1, 1}},         // hello_world
		{[]int{5, 4}, []int{-1, 4}, 5, []int{1, 4}},            // dynamic batch: one per call
		{[]int{5, 3, 4}, []int{-1, 4}, 5, []int{3, 4}},         // extra axis, batch 3 each
		{[]int{2, 9}, []int{1, -1}, 2, []int{1, 9}},            // dynamic length
		{[]int{2, 4, 16}, []int{2, 4, 16}, 1, []int{2, 4, 16}}, // batch 2 model
		{[]int{3, 2, 4, 16}, []int{2, 4, 16}, 3, []int{2, 4, 16}},
		{[]int{}, []int{}, 1, []int{}},             // scalar input
		{[]int{6}, []int{}, 6, []int{}},            // batch of scalars
		{[]int{}, []int{1}, 1, []int{1}},           // scalar for [1]
		{[]int{6, 4, 16}, []int{2, 4, 16}, 0, nil}, // no splitting of a batch > 1
		{[]int{4, 16}, []int{2, 4, 16}, 0, nil},    // no implicit batch > 1
		{[]int{3, 32, 32}, []int{1, 224, 224, 3}, 0, nil},
		{[]int{1, 5}, []int{1, 4}, 0, nil},
		{[]int{7, 2, 4}, []int{1, 4}, 0, nil},
		{[]int{1, 1, 1, 4}, []int{1, 4}, 0, nil},
	}
	for _, tc := range tests {
		n, s, ok := matchShape(tc.array, tc.input)
		if ok != (tc.sample != nil) || n != tc.count || (ok && fmt.Sprint(s) != fmt.Sprint(tc.sample)) {
			t.Errorf("matchShape(%v, %v) = %d, %v, %v; want %d, %v", tc.array, tc.input, n, s, ok, tc.count, tc.sample)
		}
	}
}

func TestNPYSamples(t *testing.T) {
	tests := []struct {
		name   string
		input  []int
		array  []int
		count  int
		shape  []int
		second []float32 // the second sample's values, if count > 1
	}{
		{"one sample", []int{1, 2, 3}, []int{1, 2, 3}, 1, []int{1, 2, 3}, nil},
		{"no batch dim", []int{1, 2, 3}, []int{2, 3}, 1, []int{1, 2, 3}, nil},
		{"batch", []int{1, 2, 3}, []int{4, 2, 3}, 4, []int{1, 2, 3}, []float32{6, 7, 8, 9, 10, 11}},
		{"extra axis", []int{1, 2, 3}, []int{2, 1, 2, 3}, 2, []int{1, 2, 3}, []float32{6, 7, 8, 9, 10, 11}},
		{"dynamic", []int{-1, -1}, []int{3, 2}, 3, []int{1, 2}, []float32{2, 3}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a := npy.FromFloat32(tc.array, seq(numElements(tc.array)))
			s := mustLoad(t, in1(f32, tc.input...), []File{{"a.npy", npyBytes(t, a)}}, Options{})
			if s.Len() != tc.count {
				t.Fatalf("Len = %d, want %d", s.Len(), tc.count)
			}
			for i := 0; i < s.Len(); i++ {
				if got := s.Shapes(i)[0]; !reflect.DeepEqual(got, tc.shape) {
					t.Errorf("Shapes(%d) = %v, want %v", i, got, tc.shape)
				}
				d := mustSample(t, s, i)
				if len(d) != 1 || len(d[0]) != 4*numElements(tc.shape) {
					t.Fatalf("sample %d: %d inputs, %d bytes", i, len(d), len(d[0]))
				}
			}
			if tc.second != nil {
				if got := floats(t, mustSample(t, s, 1)[0]); !reflect.DeepEqual(got, tc.second) {
					t.Errorf("sample 1 = %v, want %v", got, tc.second)
				}
				if src := s.Source(1); src != "a.npy[1]" {
					t.Errorf("Source(1) = %q", src)
				}
			}
		})
	}
}

// TestNPYConversion converts every kind of array to every input type,
// checking the values kept and the values refused.
func TestNPYConversion(t *testing.T) {
	f64 := func(v ...float64) *npy.Array { return npy.FromFloat64([]int{len(v)}, v) }
	f32a := func(v ...float32) *npy.Array { return npy.FromFloat32([]int{len(v)}, v) }
	tests := []struct {
		name  string
		a     *npy.Array
		t     fb.TensorType
		want  []int64   // integer inputs
		wantF []float32 // FLOAT32 inputs
		err   string    // the error after "a.npy: "
	}{
		{"uint8 to float32", npy.FromUint8([]int{3}, []uint8{0, 128, 255}), f32, nil, []float32{0, 128, 255}, ""},
		{"int8 to float32", npy.FromInt8([]int{2}, []int8{-128, 127}), f32, nil, []float32{-128, 127}, ""},
		{"int16 to float32", npy.FromInt16([]int{2}, []int16{-32768, 32767}), f32, nil, []float32{-32768, 32767}, ""},
		{"bool to float32", npy.FromBool([]int{2}, []bool{true, false}), f32, nil, []float32{1, 0}, ""},
		{"int32 exact to float32", npy.FromInt32([]int{2}, []int32{1 << 24, -(1 << 30)}), f32, nil, []float32{1 << 24, -(1 << 30)}, ""},
		{"int32 inexact to float32", npy.FromInt32([]int{2}, []int32{1, 1<<24 + 1}), f32, nil, nil,
			`int32 value 16777217 is not exactly representable as FLOAT32 at sample 0, element 1, for input "x" (FLOAT32 [1, 2])`},
		{"int64 inexact to float32", npy.FromInt64([]int{2}, []int64{math.MaxInt64, 0}), f32, nil, nil,
			`int64 value 9223372036854775807 is not exactly representable as FLOAT32 at sample 0, element 0, for input "x" (FLOAT32 [1, 2])`},
		{"float64 rounded to float32", f64(0.1, -2.5), f32, nil, []float32{0.1, -2.5}, ""},
		{"float64 beyond float32", f64(0, 1e39), f32, nil, nil,
			`float64 value 1e+39 is beyond the FLOAT32 range at sample 0, element 1, for input "x" (FLOAT32 [1, 2])`},
		{"float64 NaN", f64(math.NaN(), 0), f32, nil, nil,
			`float64 value NaN is not a finite number at sample 0, element 0, for input "x" (FLOAT32 [1, 2])`},
		{"float32 Inf", f32a(0, float32(math.Inf(-1))), f32, nil, nil,
			`float32 value -Inf is not a finite number at sample 0, element 1, for input "x" (FLOAT32 [1, 2])`},
		{"float16 to float32", &npy.Array{DType: npy.Float16, Shape: []int{2}, Data: []byte{0x00, 0x3c, 0x00, 0xc0}}, f32, nil, []float32{1, -2}, ""},
		{"float16 Inf", &npy.Array{DType: npy.Float16, Shape: []int{2}, Data: []byte{0x00, 0x3c, 0x00, 0x7c}}, f32, nil, nil,
			`float16 value +Inf is not a finite number at sample 0, element 1, for input "x" (FLOAT32 [1, 2])`},
		{"int8 to int32", npy.FromInt8([]int{2}, []int8{-128, 127}), i32, []int64{-128, 127}, nil, ""},
		{"uint8 to int8 out of range", npy.FromUint8([]int{2}, []uint8{1, 200}), i8, nil, nil,
			`uint8 value 200 is out of the INT8 range at sample 0, element 1, for input "x" (INT8 [1, 2])`},
		{"int32 to int16 out of range", npy.FromInt32([]int{2}, []int32{-40000, 0}), i16, nil, nil,
			`int32 value -40000 is out of the INT16 range at sample 0, element 0, for input "x" (INT16 [1, 2])`},
		{"int64 to uint8", npy.FromInt64([]int{2}, []int64{0, 255}), u8, []int64{0, 255}, nil, ""},
		{"uint64 big to int64", &npy.Array{DType: npy.Uint64, Shape: []int{2}, Data: make([]byte, 16)}, i64, []int64{0, 0}, nil, ""},
		{"whole floats to int8", f32a(-3, 7), i8, []int64{-3, 7}, nil, ""},
		{"whole float64 to int64", f64(-9.007199254740992e15, 1), i64, []int64{-9007199254740992, 1}, nil, ""},
		{"fractional float to int32", f32a(1, 0.5), i32, nil, nil,
			`float32 value 0.5 cannot be converted to INT32 without loss at sample 0, element 1, for input "x" (INT32 [1, 2])`},
		{"float out of int8 range", f64(128, 0), i8, nil, nil,
			`float64 value 128 is out of the INT8 range at sample 0, element 0, for input "x" (INT8 [1, 2])`},
		{"float 2^63 out of int64 range", f64(0, 9.223372036854775808e18), i64, nil, nil,
			`float64 value 9.223372036854776e+18 is out of the INT64 range at sample 0, element 1, for input "x" (INT64 [1, 2])`},
		{"NaN to int8", f32a(float32(math.NaN()), 0), i8, nil, nil,
			`float32 value NaN is not a finite number at sample 0, element 0, for input "x" (INT8 [1, 2])`},
		{"bool to bool", npy.FromBool([]int{2}, []bool{true, false}), bl, []int64{1, 0}, nil, ""},
		{"0/1 ints to bool", npy.FromInt32([]int{2}, []int32{0, 1}), bl, []int64{0, 1}, nil, ""},
		{"2 to bool", npy.FromInt32([]int{2}, []int32{0, 2}), bl, nil, nil,
			`int32 value 2 is out of the BOOL range at sample 0, element 1, for input "x" (BOOL [1, 2])`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			// Big uint64 values are written here, where FromUint64 is missing.
			if tc.a.DType == npy.Uint64 {
				binary.LittleEndian.PutUint64(tc.a.Data[8:], math.MaxUint64)
				tc.err = `uint64 value 18446744073709551615 is out of the INT64 range at sample 0, element 1, for input "x" (INT64 [1, 2])`
			}
			s, err := Load(in1(tc.t, 1, tc.a.Shape[0]), []File{{"a.npy", npyBytes(t, tc.a)}}, Options{})
			if tc.err != "" {
				if err == nil || err.Error() != "a.npy: "+tc.err {
					t.Fatalf("error = %v\nwant    a.npy: %s", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			d := mustSample(t, s, 0)[0]
			if tc.t == f32 {
				if got := floats(t, d); !reflect.DeepEqual(got, tc.wantF) {
					t.Errorf("got %v, want %v", got, tc.wantF)
				}
				return
			}
			size := typeSize(tc.t)
			got := make([]int64, len(d)/size)
			for i := range got {
				switch size {
				case 1:
					got[i] = int64(d[i])
					if tc.t == i8 {
						got[i] = int64(int8(d[i]))
					}
				case 2:
					got[i] = int64(int16(binary.LittleEndian.Uint16(d[2*i:])))
				case 4:
					got[i] = int64(int32(binary.LittleEndian.Uint32(d[4*i:])))
				case 8:
					got[i] = int64(binary.LittleEndian.Uint64(d[8*i:]))
				}
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
}

func TestUint8AsPixels(t *testing.T) {
	a := npy.FromUint8([]int{2, 1, 1, 3}, []uint8{0, 255, 51, 127, 128, 255})
	f := []File{{"px.npy", npyBytes(t, a)}}
	s := mustLoad(t, in1(f32, 1, 1, 1, 3), f, Options{Uint8AsPixels: true})
	got := floats(t, mustSample(t, s, 0)[0])
	want := []float32{-1, 1, (51 - 127.5) / 127.5}
	for i := range want {
		if !near(got[i], want[i], 1e-6) {
			t.Errorf("pixel %d = %v, want %v", i, got[i], want[i])
		}
	}
	s = mustLoad(t, in1(f32, 1, 1, 1, 3), f, Options{Uint8AsPixels: true, ImageMean: 0, ImageStd: 255})
	if got := floats(t, mustSample(t, s, 1)[0]); !near(got[0], 127.0/255, 1e-6) || got[2] != 1 {
		t.Errorf("[0, 1] normalisation: %v", got)
	}
	s = mustLoad(t, in1(f32, 1, 1, 1, 3), f, Options{})
	if got := floats(t, mustSample(t, s, 0)[0]); got[1] != 255 {
		t.Errorf("without Uint8AsPixels values must be kept: %v", got)
	}
	// Only uint8 arrays for FLOAT32 inputs are pixels.
	s = mustLoad(t, in1(u8, 1, 1, 1, 3), f, Options{Uint8AsPixels: true})
	if got := mustSample(t, s, 0)[0]; got[1] != 255 {
		t.Errorf("uint8 input: %v", got)
	}
}

func TestMultiInput(t *testing.T) {
	ins := []Input{
		{Name: "serving_default_a:0", Type: f32, Shape: []int{1, 2}},
		{Name: "serving_default_b:0", Type: i32, Shape: []int{1, 3}},
	}
	a := npy.FromFloat32([]int{4, 2}, seq(8))
	b := npy.FromInt32([]int{4, 1, 3}, []int32{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11})
	check := func(t *testing.T, s *Set) {
		t.Helper()
		if s.Len() != 4 {
			t.Fatalf("Len = %d, want 4", s.Len())
		}
		d := mustSample(t, s, 2)
		if got := floats(t, d[0]); !reflect.DeepEqual(got, []float32{4, 5}) {
			t.Errorf("input a = %v", got)
		}
		if got := int32(binary.LittleEndian.Uint32(d[1][8:])); got != 8 {
			t.Errorf("input b[2] = %d, want 8", got)
		}
		if got := s.Shapes(2); !reflect.DeepEqual(got, [][]int{{1, 2}, {1, 3}}) {
			t.Errorf("Shapes = %v", got)
		}
	}
	t.Run("npy files in order", func(t *testing.T) {
		s := mustLoad(t, ins, []File{{"a.npy", npyBytes(t, a)}, {"b.npy", npyBytes(t, b)}}, Options{})
		check(t, s)
		if got := s.Source(3); got != "a.npy+b.npy[3]" {
			t.Errorf("Source = %q", got)
		}
	})
	for _, names := range [][2]string{
		{"serving_default_b:0", "serving_default_a:0"}, // full names, any order
		{"b", "a"}, // short names
		{"arr_1", "arr_0"},
	} {
		t.Run("npz "+names[0], func(t *testing.T) {
			z := npzBytes(t, npy.NamedArray{Name: names[0], Array: b}, npy.NamedArray{Name: "label", Array: b}, npy.NamedArray{Name: names[1], Array: a})
			check(t, mustLoad(t, ins, []File{{"d.npz", z}}, Options{}))
		})
	}
	t.Run("two npz files", func(t *testing.T) {
		z := npzBytes(t, npy.NamedArray{Name: "a", Array: a}, npy.NamedArray{Name: "b", Array: b})
		s := mustLoad(t, ins, []File{{"d1.npz", z}, {"d2.npz", z}}, Options{})
		if s.Len() != 8 {
			t.Errorf("Len = %d", s.Len())
		}
	})
	t.Run("single-input npz with one array of another name", func(t *testing.T) {
		z := npzBytes(t, npy.NamedArray{Name: "images", Array: a})
		s := mustLoad(t, in1(f32, 1, 2), []File{{"d.npz", z}}, Options{})
		if s.Len() != 4 || s.Source(1) != "d.npz[1]" {
			t.Errorf("Len = %d, Source = %q", s.Len(), s.Source(1))
		}
	})
}

func TestShortName(t *testing.T) {
	for in, want := range map[string]string{
		"serving_default_x:0":  "x",
		"serving_default_x_1":  "x_1",
		"input_1:12":           "input_1",
		"images":               "images",
		"a:b":                  "a:b",
		"serving_default_:0":   "",
		"serving_default_x:0y": "x:0y",
	} {
		if got := shortName(in); got != want {
			t.Errorf("shortName(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestNPYLazy checks that only the selected rows of an array are kept.
func TestNPYLazy(t *testing.T) {
	a := npy.FromFloat32([]int{100, 3}, seq(300))
	s := mustLoad(t, in1(f32, 1, 3), []File{{"a.npy", npyBytes(t, a)}}, Options{CalibCount: 4})
	if got := len(s.sources[0].arrays[0].a.Data); got != 4*3*4 {
		t.Errorf("kept %d bytes, want %d", got, 4*3*4)
	}
	var got []float32
	for i := 0; i < s.Len(); i++ {
		got = append(got, floats(t, mustSample(t, s, i)[0])[0])
	}
	if want := []float32{0, 75, 150, 225}; !reflect.DeepEqual(got, want) {
		t.Errorf("first values %v, want %v", got, want)
	}
	if src := s.Source(1); src != "a.npy[25]" {
		t.Errorf("Source(1) = %q", src)
	}
	buf, err := s.SampleTo(2, nil)
	if err != nil {
		t.Fatal(err)
	}
	p := &buf[0][0]
	buf, err = s.SampleTo(3, buf)
	if err != nil || &buf[0][0] != p || floats(t, buf[0])[0] != 225 {
		t.Errorf("SampleTo did not reuse its buffer (err %v)", err)
	}
	if _, err := s.Sample(4); err == nil || err.Error() != "sample 4 out of range (the set has 4)" {
		t.Errorf("Sample(4): %v", err)
	}
}

func ExampleLoad() {
	var b bytesBuffer
	npy.Write(&b, npy.FromFloat32([]int{3, 2}, []float32{0, 1, 2, 3, 4, 5}))
	inputs := []Input{{Name: "serving_default_x:0", Type: fb.TensorTypeFLOAT32, Shape: []int{1, 2}}}
	set, err := Load(inputs, []File{{Name: "x.npy", Data: b.b}}, Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	for i := 0; i < set.Len(); i++ {
		data, _ := set.Sample(i)
		fmt.Println(set.Source(i), set.Shapes(i), len(data[0]), "bytes")
	}
	fmt.Println(set.Describe())
	// Output:
	// x.npy[0] [[1 2]] 8 bytes
	// x.npy[1] [[1 2]] 8 bytes
	// x.npy[2] [[1 2]] 8 bytes
	// 3 of 3 samples from 1 file (npy: 1 file, 3 samples, 3 used)
}

type bytesBuffer struct{ b []byte }

func (w *bytesBuffer) Write(p []byte) (int, error) { w.b = append(w.b, p...); return len(p), nil }
