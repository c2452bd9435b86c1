package opversion

import (
	"bytes"
	"testing"

	"litequant/core/modelbuild"
	fb "litequant/core/schema/tflitefb"
	"litequant/core/tflite"
)

const (
	f32  = fb.TensorTypeFLOAT32
	f16  = fb.TensorTypeFLOAT16
	i8   = fb.TensorTypeINT8
	i16  = fb.TensorTypeINT16
	i32  = fb.TensorTypeINT32
	none = fb.TensorType(-1) // omitted optional input
)

// opCase builds one operator whose inputs and output have the given types;
// weightScales > 0 gives input 1 (or wIdx) that many scales.
type opCase struct {
	name    string
	op      fb.BuiltinOperator
	opts    any
	ins     []fb.TensorType
	out     fb.TensorType
	scales  map[int]int // input position -> number of scales
	shapes  map[int][]int32
	want    int32
	runtime string // MinRuntime of the wanted version
}

func (c opCase) build(t *testing.T) (*tflite.Model, *fb.OperatorT) {
	t.Helper()
	b := modelbuild.New()
	var ins []int32
	for k, typ := range c.ins {
		if typ == none {
			ins = append(ins, -1)
			continue
		}
		shape := c.shapes[k]
		if shape == nil {
			shape = []int32{4, 4}
		}
		x := b.Tensor("in", typ, shape...)
		if n := c.scales[k]; n > 0 {
			b.Quantize(x, make([]float32, n), make([]int64, n), 0)
		}
		ins = append(ins, x)
	}
	out := b.Tensor("out", c.out, 4, 4)
	op := b.Op(c.op, c.opts, ins, []int32{out})
	return b.Model(), op
}

func TestRequired(t *testing.T) {
	cases := []opCase{
		{name: "conv float", op: fb.BuiltinOperatorCONV_2D, opts: &fb.Conv2DOptionsT{}, ins: []fb.TensorType{f32, f32, f32}, out: f32, want: 1, runtime: "1.5.0"},
		{name: "conv hybrid per-tensor", op: fb.BuiltinOperatorCONV_2D, opts: &fb.Conv2DOptionsT{}, ins: []fb.TensorType{f32, i8, f32}, out: f32, scales: map[int]int{1: 1}, want: 2, runtime: "1.14.0"},
		{name: "conv hybrid per-channel", op: fb.BuiltinOperatorCONV_2D, opts: &fb.Conv2DOptionsT{}, ins: []fb.TensorType{f32, i8, f32}, out: f32, scales: map[int]int{1: 8}, want: 5, runtime: "2.4.0"},
		{name: "conv int8", op: fb.BuiltinOperatorCONV_2D, opts: &fb.Conv2DOptionsT{}, ins: []fb.TensorType{i8, i8, i32}, out: i8, want: 3},
		{name: "conv int16x8", op: fb.BuiltinOperatorCONV_2D, opts: &fb.Conv2DOptionsT{}, ins: []fb.TensorType{i16, i8, fb.TensorTypeINT64}, out: i16, want: 4},
		{name: "conv grouped", op: fb.BuiltinOperatorCONV_2D, opts: &fb.Conv2DOptionsT{}, ins: []fb.TensorType{f32, f32}, out: f32,
			shapes: map[int][]int32{0: {1, 8, 8, 8}, 1: {8, 3, 3, 4}}, want: 6, runtime: "2.9.0"},
		{name: "depthwise hybrid per-channel", op: fb.BuiltinOperatorDEPTHWISE_CONV_2D, opts: &fb.DepthwiseConv2DOptionsT{DilationWFactor: 1, DilationHFactor: 1}, ins: []fb.TensorType{f32, i8, f32}, out: f32, scales: map[int]int{1: 4}, want: 6, runtime: "2.3.0"},
		{name: "depthwise hybrid per-tensor", op: fb.BuiltinOperatorDEPTHWISE_CONV_2D, opts: &fb.DepthwiseConv2DOptionsT{}, ins: []fb.TensorType{f32, i8, f32}, out: f32, scales: map[int]int{1: 1}, want: 4},
		{name: "depthwise dilated float", op: fb.BuiltinOperatorDEPTHWISE_CONV_2D, opts: &fb.DepthwiseConv2DOptionsT{DilationWFactor: 2, DilationHFactor: 1}, ins: []fb.TensorType{f32, f32, f32}, out: f32, want: 2},
		{name: "depthwise int8", op: fb.BuiltinOperatorDEPTHWISE_CONV_2D, opts: &fb.DepthwiseConv2DOptionsT{}, ins: []fb.TensorType{i8, i8, i32}, out: i8, want: 3},
		{name: "fc float", op: fb.BuiltinOperatorFULLY_CONNECTED, opts: &fb.FullyConnectedOptionsT{}, ins: []fb.TensorType{f32, f32, f32}, out: f32, want: 1},
		{name: "fc float no bias slot", op: fb.BuiltinOperatorFULLY_CONNECTED, opts: &fb.FullyConnectedOptionsT{}, ins: []fb.TensorType{f32, f32}, out: f32, want: 6},
		{name: "fc hybrid symmetric", op: fb.BuiltinOperatorFULLY_CONNECTED, opts: &fb.FullyConnectedOptionsT{}, ins: []fb.TensorType{f32, i8, f32}, out: f32, scales: map[int]int{1: 1}, want: 3},
		{name: "fc hybrid asymmetric", op: fb.BuiltinOperatorFULLY_CONNECTED, opts: &fb.FullyConnectedOptionsT{AsymmetricQuantizeInputs: true}, ins: []fb.TensorType{f32, i8, none}, out: f32, scales: map[int]int{1: 1}, want: 9, runtime: "2.3.0"},
		{name: "fc hybrid nil options", op: fb.BuiltinOperatorFULLY_CONNECTED, ins: []fb.TensorType{f32, i8, f32}, out: f32, want: 3},
		{name: "fc hybrid per-channel", op: fb.BuiltinOperatorFULLY_CONNECTED, opts: &fb.FullyConnectedOptionsT{AsymmetricQuantizeInputs: true}, ins: []fb.TensorType{f32, i8, f32}, out: f32, scales: map[int]int{1: 4}, want: 12, runtime: "2.17.0"},
		// Two features: keep_num_dims (5) and hybrid asymmetric (9) need 9.
		{name: "fc keep_num_dims hybrid", op: fb.BuiltinOperatorFULLY_CONNECTED, opts: &fb.FullyConnectedOptionsT{KeepNumDims: true, AsymmetricQuantizeInputs: true}, ins: []fb.TensorType{f32, i8, f32}, out: f32, want: 9},
		{name: "fc keep_num_dims float", op: fb.BuiltinOperatorFULLY_CONNECTED, opts: &fb.FullyConnectedOptionsT{KeepNumDims: true}, ins: []fb.TensorType{f32, f32, f32}, out: f32, want: 5},
		{name: "fc int8", op: fb.BuiltinOperatorFULLY_CONNECTED, opts: &fb.FullyConnectedOptionsT{}, ins: []fb.TensorType{i8, i8, i32}, out: i8, want: 4},
		{name: "fc int16x8", op: fb.BuiltinOperatorFULLY_CONNECTED, opts: &fb.FullyConnectedOptionsT{}, ins: []fb.TensorType{i16, i8, fb.TensorTypeINT64}, out: i16, want: 7},
		{name: "transpose_conv int8 weights", op: fb.BuiltinOperatorTRANSPOSE_CONV, opts: &fb.TransposeConvOptionsT{}, ins: []fb.TensorType{i32, i8, i8}, out: i8, want: 2},
		{name: "transpose_conv with bias", op: fb.BuiltinOperatorTRANSPOSE_CONV, opts: &fb.TransposeConvOptionsT{}, ins: []fb.TensorType{i32, f32, f32, f32}, out: f32, want: 3},
		{name: "bmm float", op: fb.BuiltinOperatorBATCH_MATMUL, opts: &fb.BatchMatMulOptionsT{}, ins: []fb.TensorType{f32, f32}, out: f32, want: 1},
		{name: "bmm hybrid asymmetric", op: fb.BuiltinOperatorBATCH_MATMUL, opts: &fb.BatchMatMulOptionsT{AsymmetricQuantizeInputs: true}, ins: []fb.TensorType{f32, i8}, out: f32, want: 4, runtime: "2.5.0"},
		{name: "bmm int8", op: fb.BuiltinOperatorBATCH_MATMUL, opts: &fb.BatchMatMulOptionsT{}, ins: []fb.TensorType{i8, i8}, out: i8, want: 2},
		{name: "embedding_lookup hybrid", op: fb.BuiltinOperatorEMBEDDING_LOOKUP, ins: []fb.TensorType{i32, i8}, out: f32, scales: map[int]int{1: 1}, want: 3, runtime: "1.14.0"},
		{name: "embedding_lookup float", op: fb.BuiltinOperatorEMBEDDING_LOOKUP, ins: []fb.TensorType{i32, f32}, out: f32, want: 1},
		{name: "gather int8", op: fb.BuiltinOperatorGATHER, opts: &fb.GatherOptionsT{}, ins: []fb.TensorType{i8, i32}, out: i8, want: 2, runtime: "1.14.0"},
		{name: "gather batch_dims", op: fb.BuiltinOperatorGATHER, opts: &fb.GatherOptionsT{BatchDims: 1}, ins: []fb.TensorType{f32, i32}, out: f32, want: 5},
		{name: "svdf hybrid asymmetric", op: fb.BuiltinOperatorSVDF, opts: &fb.SVDFOptionsT{AsymmetricQuantizeInputs: true}, ins: []fb.TensorType{f32, i8, i8, f32, f32}, out: f32, want: 4, runtime: "2.3.0"},
		{name: "svdf hybrid", op: fb.BuiltinOperatorSVDF, opts: &fb.SVDFOptionsT{}, ins: []fb.TensorType{f32, i8, i8, f32, f32}, out: f32, want: 2},
		{name: "rnn hybrid asymmetric", op: fb.BuiltinOperatorRNN, opts: &fb.RNNOptionsT{AsymmetricQuantizeInputs: true}, ins: []fb.TensorType{f32, i8, i8, f32, f32}, out: f32, want: 3, runtime: "2.3.0"},
		{name: "sequence rnn hybrid", op: fb.BuiltinOperatorUNIDIRECTIONAL_SEQUENCE_RNN, opts: &fb.SequenceRNNOptionsT{}, ins: []fb.TensorType{f32, i8, i8, f32, f32}, out: f32, want: 2},
		{name: "sequence lstm hybrid asymmetric", op: fb.BuiltinOperatorUNIDIRECTIONAL_SEQUENCE_LSTM, opts: &fb.UnidirectionalSequenceLSTMOptionsT{AsymmetricQuantizeInputs: true},
			ins: []fb.TensorType{f32, i8, i8, i8, i8}, out: f32, want: 3, runtime: "2.3.0"},
		{name: "sequence lstm float", op: fb.BuiltinOperatorUNIDIRECTIONAL_SEQUENCE_LSTM, opts: &fb.UnidirectionalSequenceLSTMOptionsT{}, ins: []fb.TensorType{f32, f32, f32}, out: f32, want: 1},
		{name: "lstm hybrid", op: fb.BuiltinOperatorLSTM, opts: &fb.LSTMOptionsT{AsymmetricQuantizeInputs: true}, ins: []fb.TensorType{f32, i8, i8}, out: f32, want: 4},
		{name: "dequantize int8", op: fb.BuiltinOperatorDEQUANTIZE, ins: []fb.TensorType{i8}, out: f32, scales: map[int]int{0: 1}, want: 2, runtime: "1.14.0"},
		{name: "dequantize int8 per-channel", op: fb.BuiltinOperatorDEQUANTIZE, ins: []fb.TensorType{i8}, out: f32, scales: map[int]int{0: 3}, want: 5, runtime: "2.7.0"},
		{name: "dequantize float16", op: fb.BuiltinOperatorDEQUANTIZE, ins: []fb.TensorType{f16}, out: f32, want: 3, runtime: "1.15.0"},
		{name: "dequantize uint8", op: fb.BuiltinOperatorDEQUANTIZE, ins: []fb.TensorType{fb.TensorTypeUINT8}, out: f32, want: 1},
		{name: "quantize int16", op: fb.BuiltinOperatorQUANTIZE, ins: []fb.TensorType{f32}, out: i16, want: 2},
		{name: "add int8", op: fb.BuiltinOperatorADD, opts: &fb.AddOptionsT{}, ins: []fb.TensorType{i8, i8}, out: i8, want: 2},
		{name: "add int16 general scale", op: fb.BuiltinOperatorADD, opts: &fb.AddOptionsT{PotScaleInt16: false}, ins: []fb.TensorType{i16, i16}, out: i16, scales: map[int]int{0: 1}, want: 3},
		{name: "add float", op: fb.BuiltinOperatorADD, opts: &fb.AddOptionsT{}, ins: []fb.TensorType{f32, f32}, out: f32, want: 1},
		{name: "softmax int8", op: fb.BuiltinOperatorSOFTMAX, opts: &fb.SoftmaxOptionsT{}, ins: []fb.TensorType{i8}, out: i8, want: 2},
		{name: "avg pool int16", op: fb.BuiltinOperatorAVERAGE_POOL_2D, opts: &fb.Pool2DOptionsT{}, ins: []fb.TensorType{i16}, out: i16, want: 3},
		{name: "concat int8", op: fb.BuiltinOperatorCONCATENATION, opts: &fb.ConcatenationOptionsT{}, ins: []fb.TensorType{i8, i8}, out: i8, want: 2},
		{name: "pad int8", op: fb.BuiltinOperatorPAD, ins: []fb.TensorType{i8, i32}, out: i8, want: 2},
		{name: "reshape int8", op: fb.BuiltinOperatorRESHAPE, ins: []fb.TensorType{i8, i32}, out: i8, want: 1},
		{name: "custom", op: fb.BuiltinOperatorCUSTOM, ins: []fb.TensorType{i8}, out: i8, want: 1},
		// The int8 and int16 forms the full-integer passes produce.
		{name: "equal int8", op: fb.BuiltinOperatorEQUAL, ins: []fb.TensorType{i8, i8}, out: fb.TensorTypeBOOL, want: 2},
		{name: "not_equal int8", op: fb.BuiltinOperatorNOT_EQUAL, ins: []fb.TensorType{i8, i8}, out: fb.TensorTypeBOOL, want: 2},
		{name: "less int8", op: fb.BuiltinOperatorLESS, ins: []fb.TensorType{i8, i8}, out: fb.TensorTypeBOOL, want: 2},
		{name: "greater_equal int16", op: fb.BuiltinOperatorGREATER_EQUAL, ins: []fb.TensorType{i16, i16}, out: fb.TensorTypeBOOL, want: 3},
		{name: "select int8", op: fb.BuiltinOperatorSELECT, ins: []fb.TensorType{fb.TensorTypeBOOL, i8, i8}, out: i8, want: 2},
		{name: "select int16", op: fb.BuiltinOperatorSELECT, ins: []fb.TensorType{fb.TensorTypeBOOL, i16, i16}, out: i16, want: 1},
		{name: "select_v2 int8", op: fb.BuiltinOperatorSELECT_V2, ins: []fb.TensorType{fb.TensorTypeBOOL, i8, i8}, out: i8, want: 1},
		{name: "space_to_batch int8", op: fb.BuiltinOperatorSPACE_TO_BATCH_ND, ins: []fb.TensorType{i8, i32, i32}, out: i8,
			shapes: map[int][]int32{0: {4, 4, 4, 2}}, want: 2},
		{name: "batch_to_space 3-D", op: fb.BuiltinOperatorBATCH_TO_SPACE_ND, ins: []fb.TensorType{f32, i32, i32}, out: f32,
			shapes: map[int][]int32{0: {4, 4, 2}}, want: 3},
		{name: "tile int8", op: fb.BuiltinOperatorTILE, ins: []fb.TensorType{i8, i32}, out: i8, want: 3},
		{name: "gather_nd int8", op: fb.BuiltinOperatorGATHER_ND, ins: []fb.TensorType{i8, i32}, out: i8, want: 1},
		{name: "gather_nd int16", op: fb.BuiltinOperatorGATHER_ND, ins: []fb.TensorType{i16, i32}, out: i16, want: 3},
		{name: "l2_normalization int8", op: fb.BuiltinOperatorL2_NORMALIZATION, ins: []fb.TensorType{i8}, out: i8, want: 2},
		{name: "sub int16 general scale", op: fb.BuiltinOperatorSUB, opts: &fb.SubOptionsT{}, ins: []fb.TensorType{i16, i16}, out: i16, want: 5},
		{name: "quantize int8 to int8", op: fb.BuiltinOperatorQUANTIZE, ins: []fb.TensorType{i8}, out: i8, want: 1},
		{name: "quantize uint8 to int8", op: fb.BuiltinOperatorQUANTIZE, ins: []fb.TensorType{fb.TensorTypeUINT8}, out: i8, want: 1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m, op := c.build(t)
			if got := Required(m, m.Subgraphs[0], op); got != c.want {
				t.Errorf("Required = %d, want %d", got, c.want)
			}
			if c.runtime != "" {
				if got := MinRuntime(c.op, c.want); got != c.runtime {
					t.Errorf("MinRuntime(v%d) = %q, want %q", c.want, got, c.runtime)
				}
			}
		})
	}
}

func TestMinRuntimeTable(t *testing.T) {
	for op, versions := range runtimeVersions {
		prev := ""
		for i, v := range versions {
			if v == "" {
				continue
			}
			if CompareVersions(v, prev) < 0 {
				t.Errorf("%s v%d = %s is older than v%d's %s", fb.EnumNamesBuiltinOperator[op], i+1, v, i, prev)
			}
			prev = v
		}
	}
	if got := MinRuntime(fb.BuiltinOperatorBROADCAST_TO, 1); got != "" {
		t.Errorf("BROADCAST_TO v1 = %q, want unknown", got)
	}
	if got := MinRuntime(fb.BuiltinOperatorCONV_2D, 99); got != "" {
		t.Errorf("CONV_2D v99 = %q, want unknown", got)
	}
	if got := MinRuntime(fb.BuiltinOperatorFULLY_CONNECTED, 9); got != "2.3.0" {
		t.Errorf("FULLY_CONNECTED v9 = %q", got)
	}
}

func TestCompareVersions(t *testing.T) {
	tests := []struct {
		a, b string
		want int
	}{
		{"2.10.0", "2.9.0", 1},
		{"1.14.0", "1.14.0", 0},
		{"1.5.0", "1.14.0", -1},
		{"1.14", "1.14.0", -1},
		{"", "1.5.0", -1},
		{"1.5.0", "", 1},
		{"", "", 0},
	}
	for _, tt := range tests {
		if got := CompareVersions(tt.a, tt.b); got != tt.want {
			t.Errorf("CompareVersions(%q, %q) = %d, want %d", tt.a, tt.b, got, tt.want)
		}
	}
}

// hybridFC builds FC ops sharing one opcode: the first hybrid (int8
// weights, asymmetric inputs), the second float.
func hybridFC(version int32, meta []byte) *tflite.Model {
	b := modelbuild.New()
	x := b.Tensor("x", f32, 1, 4)
	w8 := b.Const("w8", i8, []int32{4, 4}, make([]byte, 16))
	b.Quantize(w8, []float32{0.1}, []int64{0}, 0)
	w32 := b.ConstFloat32("w32", []int32{4, 4}, make([]float32, 16))
	y := b.Tensor("y", f32, 1, 4)
	z := b.Tensor("z", f32, 1, 4)
	b.OpVersion(fb.BuiltinOperatorFULLY_CONNECTED, version, &fb.FullyConnectedOptionsT{AsymmetricQuantizeInputs: true}, []int32{x, w8, -1}, []int32{y})
	b.OpVersion(fb.BuiltinOperatorFULLY_CONNECTED, version, &fb.FullyConnectedOptionsT{}, []int32{y, w32, -1}, []int32{z})
	b.Inputs(x)
	b.Outputs(z)
	m := b.Model()
	if meta != nil {
		m.Buffers = append(m.Buffers, &fb.BufferT{Data: meta})
		m.Metadata = append(m.Metadata, &fb.MetadataT{Name: MinRuntimeMetadata, Buffer: uint32(len(m.Buffers) - 1)})
	}
	return m
}

func padded(s string) []byte {
	b := make([]byte, 16)
	copy(b, s)
	return b
}

func TestUpdate(t *testing.T) {
	t.Run("raises shared opcode and metadata", func(t *testing.T) {
		m := hybridFC(1, padded("1.5.0"))
		res := Update(m)
		if got := m.OperatorCodes[0].Version; got != 9 {
			t.Fatalf("FC version %d, want 9", got)
		}
		if len(res.Raised) != 1 || res.Raised[0].From != 1 || res.Raised[0].To != 9 || res.Raised[0].Op != "FULLY_CONNECTED" {
			t.Errorf("Raised = %+v", res.Raised)
		}
		got, ok := MinRuntimeOf(m)
		if !ok || got != "2.3.0" || res.MinRuntimeVersion != "2.3.0" || res.MinRuntimeBefore != "1.5.0" {
			t.Errorf("min_runtime_version %q (%v), result %+v", got, ok, res)
		}
		md := m.Buffers[m.Metadata[0].Buffer].Data
		if !bytes.Equal(md, padded("2.3.0")) {
			t.Errorf("metadata buffer %q, want 16 zero-padded bytes", md)
		}
		if again := Update(m); len(again.Raised) != 0 || again.MinRuntimeVersion != "2.3.0" {
			t.Errorf("second Update changed things: %+v", again)
		}
	})
	t.Run("never lowers", func(t *testing.T) {
		m := hybridFC(11, padded("2.15.0"))
		res := Update(m)
		if m.OperatorCodes[0].Version != 11 || len(res.Raised) != 0 {
			t.Errorf("version %d, raised %+v", m.OperatorCodes[0].Version, res.Raised)
		}
		if got, _ := MinRuntimeOf(m); got != "2.15.0" {
			t.Errorf("min_runtime_version lowered to %q", got)
		}
	})
	t.Run("no metadata stays absent", func(t *testing.T) {
		m := hybridFC(1, nil)
		res := Update(m)
		if _, ok := MinRuntimeOf(m); ok || res.MinRuntimeVersion != "" || len(m.Metadata) != 0 {
			t.Errorf("metadata added: %+v", res)
		}
	})
	t.Run("empty metadata buffer gets 16 bytes", func(t *testing.T) {
		m := hybridFC(1, []byte{})
		Update(m)
		if md := m.Buffers[m.Metadata[0].Buffer].Data; !bytes.Equal(md, padded("2.3.0")) {
			t.Errorf("metadata %q", md)
		}
	})
	t.Run("shared metadata buffer is not overwritten", func(t *testing.T) {
		m := hybridFC(1, padded("1.5.0"))
		shared := m.Metadata[0].Buffer
		m.Metadata = append(m.Metadata, &fb.MetadataT{Name: "other", Buffer: shared})
		Update(m)
		if m.Metadata[0].Buffer == shared {
			t.Fatal("min_runtime_version still points at the shared buffer")
		}
		if !bytes.Equal(m.Buffers[shared].Data, padded("1.5.0")) {
			t.Errorf("shared buffer changed to %q", m.Buffers[shared].Data)
		}
		if got, _ := MinRuntimeOf(m); got != "2.3.0" {
			t.Errorf("min_runtime_version %q", got)
		}
		if _, err := m.Save(); err != nil {
			t.Fatal(err)
		}
	})
}
