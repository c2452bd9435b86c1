package opspec

import (
	"reflect"
	"testing"

	"litequant/core/modelbuild"
	fb "litequant/core/schema/tflitefb"
)

// optionsOf names each specced operator's options table, to check the
// AsymmetricInputs flag against the schema itself.
var optionsOf = map[fb.BuiltinOperator]any{
	fb.BuiltinOperatorCONV_2D:                      fb.Conv2DOptionsT{},
	fb.BuiltinOperatorDEPTHWISE_CONV_2D:            fb.DepthwiseConv2DOptionsT{},
	fb.BuiltinOperatorFULLY_CONNECTED:              fb.FullyConnectedOptionsT{},
	fb.BuiltinOperatorTRANSPOSE_CONV:               fb.TransposeConvOptionsT{},
	fb.BuiltinOperatorBATCH_MATMUL:                 fb.BatchMatMulOptionsT{},
	fb.BuiltinOperatorEMBEDDING_LOOKUP:             struct{}{}, // no options
	fb.BuiltinOperatorGATHER:                       fb.GatherOptionsT{},
	fb.BuiltinOperatorSVDF:                         fb.SVDFOptionsT{},
	fb.BuiltinOperatorRNN:                          fb.RNNOptionsT{},
	fb.BuiltinOperatorUNIDIRECTIONAL_SEQUENCE_RNN:  fb.SequenceRNNOptionsT{},
	fb.BuiltinOperatorUNIDIRECTIONAL_SEQUENCE_LSTM: fb.UnidirectionalSequenceLSTMOptionsT{},
}

func TestTableIsConsistent(t *testing.T) {
	all := All()
	withWeights := 0
	for _, s := range all {
		if len(s.Weights) > 0 {
			withWeights++
		}
	}
	if withWeights != len(optionsOf) {
		t.Errorf("table has %d specs with weights, test knows %d operators: add the new operator's options to optionsOf", withWeights, len(optionsOf))
	}
	for i, s := range all {
		if i > 0 && all[i-1].Op >= s.Op {
			t.Errorf("All() not ordered by code at %s", s.Name())
		}
		if Lookup(s.Op) != s {
			t.Errorf("Lookup(%s) does not return its entry", s.Name())
		}
		if len(s.Weights) == 0 {
			if s.Full.Int8 == 0 && s.Full.Int16 == 0 {
				t.Errorf("%s: no weights and no integer kernel: the entry says nothing", s.Name())
			}
			continue
		}
		seen := map[int]string{}
		for _, w := range s.Weights {
			if w.Input < 0 {
				t.Errorf("%s: negative weight input %d", s.Name(), w.Input)
			}
			if seen[w.Input] != "" {
				t.Errorf("%s: input %d listed twice", s.Name(), w.Input)
			}
			seen[w.Input] = "weight"
			if got, ok := s.Weight(w.Input); !ok || got != w {
				t.Errorf("%s: Weight(%d) = %v, %v", s.Name(), w.Input, got, ok)
			}
		}
		for _, b := range s.Biases {
			if seen[b] != "" {
				t.Errorf("%s: input %d is both %s and bias", s.Name(), b, seen[b])
			}
			seen[b] = "bias"
			if !s.IsBias(b) {
				t.Errorf("%s: IsBias(%d) false", s.Name(), b)
			}
		}
		if s.Dynamic.Scales != PerTensor {
			for _, w := range s.Weights {
				if w.ChannelAxis < 0 {
					t.Errorf("%s: takes per-channel scales but weight %d names no channel axis", s.Name(), w.Input)
				}
			}
		}
		opts, ok := optionsOf[s.Op]
		if !ok {
			t.Errorf("%s: add its options type to optionsOf", s.Name())
			continue
		}
		_, hasAsym := reflect.TypeOf(opts).FieldByName("AsymmetricQuantizeInputs")
		if set := s.Dynamic.AsymmetricInputs != nil; hasAsym != set {
			t.Errorf("%s: AsymmetricInputs set: %v but its options have the field: %v", s.Name(), set, hasAsym)
		}
		if hasAsym && s.Dynamic.AsymmetricInputs != nil {
			checkAsymmetric(t, s, reflect.TypeOf(opts))
		}
		for _, w := range s.Weights {
			if !w.Known() {
				continue
			}
			l := w.Layout
			want := 0
			if l.Depthwise {
				want = l.Rank - 1
			}
			if l.In != l.Rank-1 || w.ChannelAxis != want || !s.Full.IsInput(l.Activation) {
				t.Errorf("%s: weight %d layout %+v with channel axis %d: want the input channels innermost and the output channels outermost (innermost when depthwise)", s.Name(), w.Input, l, w.ChannelAxis)
			}
		}
	}
	if add := Lookup(fb.BuiltinOperatorADD); add == nil || len(add.Weights) > 0 || add.WeightsOrNil() != nil {
		t.Error("ADD: want an entry without weights")
	}
	if Lookup(fb.BuiltinOperatorDIV) != nil {
		t.Error("DIV has no integer kernel in the runtime, want no entry")
	}
	var none *Spec
	if none.WeightsOrNil() != nil || none.Role(0) != Other {
		t.Error("nil spec has weights or roles")
	}
	var nilSpec *Spec
	if _, ok := nilSpec.Weight(1); ok || nilSpec.IsBias(2) {
		t.Error("nil spec claims weights or biases")
	}
}

// The dynamic-range facts the quantizer relies on, checked against the
// runtime's kernels (see spec.go).
func TestDynamicFacts(t *testing.T) {
	tests := []struct {
		op     fb.BuiltinOperator
		kernel Kernel
		scales Scales
		axis   int // channel axis of the first weight
		bias   int // -1: none
	}{
		{fb.BuiltinOperatorCONV_2D, HybridKernel, PerChannelOrTensor, 0, 2},
		{fb.BuiltinOperatorDEPTHWISE_CONV_2D, HybridKernel, PerChannelOnly, 3, 2},
		{fb.BuiltinOperatorFULLY_CONNECTED, HybridKernel, PerTensor, 0, 2},
		{fb.BuiltinOperatorTRANSPOSE_CONV, FloatKernel, PerTensor, 0, 3},
		{fb.BuiltinOperatorBATCH_MATMUL, HybridKernel, PerTensor, -1, -1},
		{fb.BuiltinOperatorEMBEDDING_LOOKUP, HybridKernel, PerTensor, 0, -1},
		{fb.BuiltinOperatorGATHER, Int8Passthrough, PerTensor, -1, -1},
		{fb.BuiltinOperatorSVDF, HybridKernel, PerTensor, 0, 3},
		{fb.BuiltinOperatorRNN, HybridKernel, PerTensor, 0, 3},
		{fb.BuiltinOperatorUNIDIRECTIONAL_SEQUENCE_RNN, HybridKernel, PerTensor, 0, 3},
		{fb.BuiltinOperatorUNIDIRECTIONAL_SEQUENCE_LSTM, HybridKernel, PerTensor, 0, 12},
	}
	for _, tt := range tests {
		s := Lookup(tt.op)
		if s == nil {
			t.Errorf("%v: no entry", fb.EnumNamesBuiltinOperator[tt.op])
			continue
		}
		if s.Dynamic.Kernel != tt.kernel || s.Dynamic.Scales != tt.scales || s.Weights[0].ChannelAxis != tt.axis {
			t.Errorf("%s: kernel %v scales %v axis %d, want %v %v %d", s.Name(), s.Dynamic.Kernel, s.Dynamic.Scales, s.Weights[0].ChannelAxis, tt.kernel, tt.scales, tt.axis)
		}
		if tt.bias >= 0 && !s.IsBias(tt.bias) {
			t.Errorf("%s: input %d should be a bias", s.Name(), tt.bias)
		}
	}
	lstm := Lookup(fb.BuiltinOperatorUNIDIRECTIONAL_SEQUENCE_LSTM)
	var inputs []int
	for _, w := range lstm.Weights {
		inputs = append(inputs, w.Input)
	}
	if want := []int{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 16}; !reflect.DeepEqual(inputs, want) {
		t.Errorf("LSTM weights %v, want %v", inputs, want)
	}
	if got := HybridKernel.String() + "," + FloatKernel.String() + "," + Int8Passthrough.String(); got != "hybrid,float,int8-passthrough" {
		t.Errorf("kernel names %q", got)
	}
}

func TestSupports(t *testing.T) {
	f32 := fb.TensorTypeFLOAT32
	conv := func(inCh, filterIn int32) (bool, string) {
		b := modelbuild.New()
		in := b.Tensor("in", f32, 1, 8, 8, inCh)
		w := b.ConstFloat32("w", []int32{4, 3, 3, filterIn}, make([]float32, 4*9*int(filterIn)))
		out := b.Tensor("out", f32, 1, 8, 8, 4)
		op := b.Op(fb.BuiltinOperatorCONV_2D, &fb.Conv2DOptionsT{}, []int32{in, w, -1}, []int32{out})
		m := b.Model()
		return Lookup(fb.BuiltinOperatorCONV_2D).Dynamic.Supports(m, m.Subgraphs[0], op, 1)
	}
	if ok, why := conv(8, 8); !ok {
		t.Errorf("plain conv not supported: %s", why)
	}
	if ok, why := conv(8, 4); ok || why == "" {
		t.Errorf("grouped conv supported (%v, %q)", ok, why)
	}

	bmm := func(lhsConst bool, input int) bool {
		b := modelbuild.New()
		var lhs int32
		if lhsConst {
			lhs = b.ConstFloat32("a", []int32{4, 8}, make([]float32, 32))
		} else {
			lhs = b.Tensor("a", f32, 4, 8)
		}
		rhs := b.ConstFloat32("b", []int32{8, 2}, make([]float32, 16))
		out := b.Tensor("out", f32, 4, 2)
		op := b.Op(fb.BuiltinOperatorBATCH_MATMUL, &fb.BatchMatMulOptionsT{}, []int32{lhs, rhs}, []int32{out})
		m := b.Model()
		ok, _ := Lookup(fb.BuiltinOperatorBATCH_MATMUL).Dynamic.Supports(m, m.Subgraphs[0], op, input)
		return ok
	}
	if !bmm(false, 1) || bmm(false, 0) || bmm(true, 0) {
		t.Error("BATCH_MATMUL: hybrid must be exactly the constant right-hand operand")
	}

	fc := func(format fb.FullyConnectedOptionsWeightsFormat, rank int) bool {
		b := modelbuild.New()
		in := b.Tensor("in", f32, 1, 8)
		shape := []int32{4, 8}
		if rank == 3 {
			shape = []int32{4, 2, 4}
		}
		w := b.ConstFloat32("w", shape, make([]float32, 32))
		out := b.Tensor("out", f32, 1, 4)
		op := b.Op(fb.BuiltinOperatorFULLY_CONNECTED, &fb.FullyConnectedOptionsT{WeightsFormat: format}, []int32{in, w, -1}, []int32{out})
		m := b.Model()
		ok, _ := Lookup(fb.BuiltinOperatorFULLY_CONNECTED).Dynamic.Supports(m, m.Subgraphs[0], op, 1)
		return ok
	}
	if !fc(fb.FullyConnectedOptionsWeightsFormatDEFAULT, 2) || fc(fb.FullyConnectedOptionsWeightsFormatSHUFFLED4x16INT8, 2) || fc(fb.FullyConnectedOptionsWeightsFormatDEFAULT, 3) {
		t.Error("FULLY_CONNECTED: hybrid only for default-format 2-D weights")
	}
}

// The full-integer facts the quantizer relies on (see spec.go), and what
// every entry must satisfy (opversion's TestKernelVersions checks the
// versions against the pinned runtime and opversion's rules). TestFullOperators in package quant runs each
// entry in the real runtime.
func TestFullFacts(t *testing.T) {
	for _, s := range All() {
		f := &s.Full
		if f.Int8 == 0 && f.Int16 != 0 {
			t.Errorf("%s: int16 kernel without an int8 one", s.Name())
		}
		if f.Int8 == 0 {
			continue
		}
		if len(f.Inputs) == 0 && !f.AllInputs {
			t.Errorf("%s: integer kernel but no activation input", s.Name())
		}
		if f.SameScale && (f.Output8 != nil || f.IntegerOutputs) {
			t.Errorf("%s: same-scale and fixed or integer outputs", s.Name())
		}
		for _, w := range s.Weights {
			if !f.IsInput(w.Input) && f.WeightScales != PerTensor && w.ChannelAxis < 0 {
				t.Errorf("%s: per-channel weights without a channel axis", s.Name())
			}
		}
		for _, b := range s.Biases {
			if s.Role(b) != BiasRole {
				t.Errorf("%s: bias %d has role %v", s.Name(), b, s.Role(b))
			}
		}
		if f.Kernel(fb.TensorTypeINT8) != f.Int8 || f.Kernel(fb.TensorTypeINT16) != f.Int16 || f.Kernel(fb.TensorTypeFLOAT32) != 0 {
			t.Errorf("%s: Kernel() disagrees with the fields", s.Name())
		}
	}
	fixed := []struct {
		op  fb.BuiltinOperator
		p8  Params
		p16 *Params
	}{
		{fb.BuiltinOperatorSOFTMAX, Params{1.0 / 256, -128}, &Params{1.0 / 32768, 0}},
		{fb.BuiltinOperatorLOGISTIC, Params{1.0 / 256, -128}, &Params{1.0 / 32768, 0}},
		{fb.BuiltinOperatorTANH, Params{1.0 / 128, 0}, &Params{1.0 / 32768, 0}},
		{fb.BuiltinOperatorLOG_SOFTMAX, Params{16.0 / 256, 127}, nil},
		{fb.BuiltinOperatorL2_NORMALIZATION, Params{1.0 / 128, 0}, nil},
	}
	for _, x := range fixed {
		f := Lookup(x.op).Full
		if got := f.FixedOutput(fb.TensorTypeINT8); got == nil || *got != x.p8 {
			t.Errorf("%v: int8 output %v, want %v", fb.EnumNamesBuiltinOperator[x.op], got, x.p8)
		}
		if got := f.FixedOutput(fb.TensorTypeINT16); (got == nil) != (x.p16 == nil) || got != nil && *got != *x.p16 {
			t.Errorf("%v: int16 output %v, want %v", fb.EnumNamesBuiltinOperator[x.op], got, x.p16)
		}
	}
	same := []fb.BuiltinOperator{fb.BuiltinOperatorMAX_POOL_2D, fb.BuiltinOperatorAVERAGE_POOL_2D, fb.BuiltinOperatorRESHAPE,
		fb.BuiltinOperatorSQUEEZE, fb.BuiltinOperatorEXPAND_DIMS, fb.BuiltinOperatorTRANSPOSE, fb.BuiltinOperatorCONCATENATION,
		fb.BuiltinOperatorPAD, fb.BuiltinOperatorPADV2, fb.BuiltinOperatorSLICE, fb.BuiltinOperatorSTRIDED_SLICE,
		fb.BuiltinOperatorGATHER, fb.BuiltinOperatorRESIZE_BILINEAR, fb.BuiltinOperatorRESIZE_NEAREST_NEIGHBOR,
		fb.BuiltinOperatorSPACE_TO_DEPTH, fb.BuiltinOperatorDEPTH_TO_SPACE, fb.BuiltinOperatorSPLIT, fb.BuiltinOperatorSPLIT_V,
		fb.BuiltinOperatorPACK, fb.BuiltinOperatorUNPACK, fb.BuiltinOperatorMAXIMUM, fb.BuiltinOperatorMINIMUM}
	for _, op := range same {
		if s := Lookup(op); s == nil || !s.Full.SameScale {
			t.Errorf("%v: want same-scale", fb.EnumNamesBuiltinOperator[op])
		}
	}
	weights := []struct {
		op     fb.BuiltinOperator
		scales Scales
		axis   int
		int16  int32
	}{
		{fb.BuiltinOperatorCONV_2D, PerChannelOrTensor, 0, 4},
		{fb.BuiltinOperatorDEPTHWISE_CONV_2D, PerChannelOnly, 3, 5},
		{fb.BuiltinOperatorTRANSPOSE_CONV, PerChannelOrTensor, 0, 2},
		// Per-tensor: the pinned runtime refuses FULLY_CONNECTED version 12.
		{fb.BuiltinOperatorFULLY_CONNECTED, PerTensor, 0, 7},
	}
	for _, w := range weights {
		s := Lookup(w.op)
		if s.Full.WeightScales != w.scales || s.Weights[0].ChannelAxis != w.axis || s.Full.Int16 != w.int16 || s.Role(s.Weights[0].Input) != WeightRole {
			t.Errorf("%s: weights %v axis %d int16 v%d", s.Name(), s.Full.WeightScales, s.Weights[0].ChannelAxis, s.Full.Int16)
		}
	}
	for _, op := range []fb.BuiltinOperator{fb.BuiltinOperatorEMBEDDING_LOOKUP, fb.BuiltinOperatorSVDF, fb.BuiltinOperatorRNN,
		fb.BuiltinOperatorUNIDIRECTIONAL_SEQUENCE_RNN, fb.BuiltinOperatorUNIDIRECTIONAL_SEQUENCE_LSTM} {
		if Lookup(op).Full.Int8 != 0 {
			t.Errorf("%v: no integer kernel expected", fb.EnumNamesBuiltinOperator[op])
		}
	}
	// GATHER and BATCH_MATMUL read their "weights" as activations.
	if Lookup(fb.BuiltinOperatorGATHER).Role(0) != Activation || Lookup(fb.BuiltinOperatorBATCH_MATMUL).Role(1) != Activation {
		t.Error("GATHER params / BATCH_MATMUL operands should be activations")
	}
	if Lookup(fb.BuiltinOperatorSPLIT).Role(0) != Other || Lookup(fb.BuiltinOperatorSPLIT).Role(1) != Activation {
		t.Error("SPLIT: input 0 is the axis, input 1 the data")
	}
}

func TestFullPrepare(t *testing.T) {
	for _, code := range []fb.BuiltinOperator{fb.BuiltinOperatorADD, fb.BuiltinOperatorSUB} {
		for _, opts := range []any{nil, &fb.AddOptionsT{PotScaleInt16: true}, &fb.SubOptionsT{PotScaleInt16: true}} {
			op := &fb.OperatorT{}
			if opts != nil {
				op.BuiltinOptions = &fb.BuiltinOptionsT{Value: opts}
			}
			if _, isAdd := opts.(*fb.AddOptionsT); opts != nil && isAdd != (code == fb.BuiltinOperatorADD) {
				continue
			}
			Lookup(code).Full.Prepare(op, fb.TensorTypeINT8)
			if op.BuiltinOptions != nil && opts == nil {
				t.Errorf("%v: int8 touched the options", code)
			}
			Lookup(code).Full.Prepare(op, fb.TensorTypeINT16)
			switch o := op.BuiltinOptions.Value.(type) {
			case *fb.AddOptionsT:
				if code != fb.BuiltinOperatorADD || o.PotScaleInt16 {
					t.Errorf("%v: options %+v", code, o)
				}
			case *fb.SubOptionsT:
				if code != fb.BuiltinOperatorSUB || o.PotScaleInt16 {
					t.Errorf("%v: options %+v", code, o)
				}
			default:
				t.Errorf("%v: options %T", code, o)
			}
		}
	}
}

// checkAsymmetric runs a spec's AsymmetricInputs on an operator without
// options, with its own options and with another operator's.
func checkAsymmetric(t *testing.T, s *Spec, typ reflect.Type) {
	t.Helper()
	field := func(v any) bool {
		return reflect.ValueOf(v).Elem().FieldByName("AsymmetricQuantizeInputs").Bool()
	}
	op := &fb.OperatorT{}
	s.SetAsymmetricInputs(op)
	if op.BuiltinOptions == nil || reflect.TypeOf(op.BuiltinOptions.Value) != reflect.PointerTo(typ) || !field(op.BuiltinOptions.Value) {
		t.Errorf("%s: SetAsymmetricInputs on an operator without options gives %+v", s.Name(), op.BuiltinOptions)
		return
	}
	own := reflect.New(typ).Interface()
	op = &fb.OperatorT{BuiltinOptions: &fb.BuiltinOptionsT{Type: op.BuiltinOptions.Type, Value: own}}
	s.SetAsymmetricInputs(op)
	if op.BuiltinOptions.Value != own || !field(own) {
		t.Errorf("%s: SetAsymmetricInputs does not set its own options", s.Name())
	}
	other := &fb.AddOptionsT{}
	op = &fb.OperatorT{BuiltinOptions: &fb.BuiltinOptionsT{Type: fb.BuiltinOptionsAddOptions, Value: other}}
	s.SetAsymmetricInputs(op)
	if op.BuiltinOptions.Value != other || *other != (fb.AddOptionsT{}) {
		t.Errorf("%s: SetAsymmetricInputs changes another operator's options", s.Name())
	}
}

// The channel layouts package deadchan, calibration's patch statistics
// and weight tuning read.
func TestLayouts(t *testing.T) {
	conv, _, _ := Lookup(fb.BuiltinOperatorCONV_2D).LaidOut()
	dw, _, _ := Lookup(fb.BuiltinOperatorDEPTHWISE_CONV_2D).LaidOut()
	fc, act, ok := Lookup(fb.BuiltinOperatorFULLY_CONNECTED).LaidOut()
	if !ok || act != 0 || !conv.Known() || !dw.Known() {
		t.Fatal("CONV_2D, DEPTHWISE_CONV_2D and FULLY_CONNECTED: want known layouts on input 0")
	}
	if _, _, ok := Lookup(fb.BuiltinOperatorTRANSPOSE_CONV).LaidOut(); ok {
		t.Error("TRANSPOSE_CONV: no layout is given")
	}
	type at struct{ in, out int }
	for _, tt := range []struct {
		name     string
		w        Weight
		shape    []int32
		channels int
		ok       bool
		want     map[int]at // value -> its input and output channel
	}{
		// [O=2, kh=1, kw=2, I=3]: value k = ((o·1 + a)·2 + e)·3 + i.
		{"conv", conv, []int32{2, 1, 2, 3}, 3, true, map[int]at{0: {0, 0}, 4: {1, 0}, 5: {2, 0}, 6: {0, 1}, 11: {2, 1}}},
		{"conv grouped", conv, []int32{2, 1, 2, 3}, 6, false, nil},
		{"conv rank 2", conv, []int32{2, 3}, 3, false, nil},
		// [1, kh=2, kw=1, I·m = 2·3]: output channel o = k % 6 reads o / 3.
		{"depthwise", dw, []int32{1, 2, 1, 6}, 2, true, map[int]at{0: {0, 0}, 2: {0, 2}, 3: {1, 3}, 7: {0, 1}, 11: {1, 5}}},
		{"depthwise batch 2", dw, []int32{2, 1, 1, 6}, 2, false, nil},
		{"depthwise 4 of 6", dw, []int32{1, 2, 1, 6}, 4, false, nil},
		{"fc", fc, []int32{3, 4}, 4, true, map[int]at{0: {0, 0}, 3: {3, 0}, 4: {0, 1}, 11: {3, 2}}},
		{"fc flattened", fc, []int32{3, 8}, 4, false, nil},
		{"unknown", Weight{}, []int32{3, 4}, 4, false, nil},
	} {
		n := 1
		for _, d := range tt.shape {
			n *= int(d)
		}
		c, ok := tt.w.Fit(tt.shape, n, tt.channels)
		if ok != tt.ok {
			t.Errorf("%s: Fit ok = %v, want %v", tt.name, ok, tt.ok)
			continue
		}
		for k, w := range tt.want {
			if c.In(k) != w.in || c.Out(k) != w.out {
				t.Errorf("%s: value %d is input %d output %d, want %d %d", tt.name, k, c.In(k), c.Out(k), w.in, w.out)
			}
		}
	}
	// Element and Reads: the same layouts seen per output channel.
	if conv.Element(1, 2, 6, 2) != 8 || dw.Element(5, 1, 2, 6) != 11 || dw.Reads(5, 3) != 1 || conv.Reads(5, 3) != 0 {
		t.Error("Element or Reads disagree with Fit")
	}
}
