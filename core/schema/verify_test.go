package schema

import (
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	flatbuffers "github.com/google/flatbuffers/go"

	"litequant/core/schema/fbverify"
	"litequant/core/schema/tflitefb"
)

// finish serializes m as a TensorFlow Lite file.
func finish(m *tflitefb.ModelT) []byte {
	b := flatbuffers.NewBuilder(1024)
	b.FinishWithFileIdentifier(m.Pack(b), []byte(Identifier()))
	return b.FinishedBytes()
}

// smallModel is a model that uses most kinds of field: scalars, strings,
// tables, unions (both option unions and quantization details), vectors of
// scalars, bytes, strings-in-tables and tables.
func smallModel() *tflitefb.ModelT {
	return &tflitefb.ModelT{
		Version: 3,
		OperatorCodes: []*tflitefb.OperatorCodeT{
			{DeprecatedBuiltinCode: 3, Version: 1, BuiltinCode: tflitefb.BuiltinOperatorCONV_2D},
			{DeprecatedBuiltinCode: 127, CustomCode: "MyCustomOp", Version: 2, BuiltinCode: tflitefb.BuiltinOperatorCUSTOM},
			{DeprecatedBuiltinCode: 127, Version: 1, BuiltinCode: tflitefb.BuiltinOperatorSTABLEHLO_COMPOSITE},
		},
		Subgraphs: []*tflitefb.SubGraphT{{
			Tensors: []*tflitefb.TensorT{
				{Shape: []int32{1, 8, 8, 3}, Type: tflitefb.TensorTypeFLOAT32, Buffer: 0, Name: "input", ShapeSignature: []int32{-1, 8, 8, 3}},
				{Shape: []int32{4, 3, 3, 3}, Type: tflitefb.TensorTypeINT8, Buffer: 1, Name: "filter",
					Quantization: &tflitefb.QuantizationParametersT{
						Scale:     []float32{0.5, 0.25, 0.125, 1},
						ZeroPoint: []int64{0, 0, 0, 0},
						Details: &tflitefb.QuantizationDetailsT{
							Type:  tflitefb.QuantizationDetailsCustomQuantization,
							Value: &tflitefb.CustomQuantizationT{Custom: []byte{1, 2, 3}},
						},
						QuantizedDimension: 0,
					}},
				{Shape: []int32{4}, Type: tflitefb.TensorTypeINT32, Buffer: 2, Name: "bias"},
				{Shape: []int32{1, 8, 8, 4}, Type: tflitefb.TensorTypeFLOAT32, Name: "output",
					Sparsity: &tflitefb.SparsityParametersT{
						TraversalOrder: []int32{0, 1},
						DimMetadata: []*tflitefb.DimensionMetadataT{{
							Format:        tflitefb.DimensionTypeSPARSE_CSR,
							ArraySegments: &tflitefb.SparseIndexVectorT{Type: tflitefb.SparseIndexVectorUint8Vector, Value: &tflitefb.Uint8VectorT{Values: []byte{0, 2}}},
							ArrayIndices:  &tflitefb.SparseIndexVectorT{Type: tflitefb.SparseIndexVectorInt32Vector, Value: &tflitefb.Int32VectorT{Values: []int32{0, 1}}},
						}},
					},
					VariantTensors: []*tflitefb.VariantSubTypeT{{Shape: []int32{2}, Type: tflitefb.TensorTypeFLOAT32, HasRank: true}}},
			},
			Inputs:  []int32{0},
			Outputs: []int32{3},
			Operators: []*tflitefb.OperatorT{
				{OpcodeIndex: 0, Inputs: []int32{0, 1, 2}, Outputs: []int32{3},
					BuiltinOptions: &tflitefb.BuiltinOptionsT{
						Type: tflitefb.BuiltinOptionsConv2DOptions,
						Value: &tflitefb.Conv2DOptionsT{Padding: tflitefb.PaddingSAME, StrideW: 1, StrideH: 1,
							FusedActivationFunction: tflitefb.ActivationFunctionTypeRELU, DilationWFactor: 1, DilationHFactor: 1},
					},
					MutatingVariableInputs: []bool{false, true}},
				{OpcodeIndex: 1, Inputs: []int32{3}, Outputs: []int32{3}, CustomOptions: []byte("flexbuffer bytes")},
				{OpcodeIndex: 2, Inputs: []int32{3}, Outputs: []int32{3},
					BuiltinOptions2: &tflitefb.BuiltinOptions2T{
						Type: tflitefb.BuiltinOptions2StableHLOCompositeOptions,
						Value: &tflitefb.StableHLOCompositeOptionsT{Name: "odml.thing", DecompositionSubgraphIndex: 0,
							CompositeAttributes: []byte{9, 9}, Version: 1},
					}},
			},
			Name: "main",
		}},
		Description: "litequant verify test",
		Buffers: []*tflitefb.BufferT{
			{},
			{Data: make([]byte, 108)},
			{Data: []byte{1, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0, 4, 0, 0, 0}},
			{Offset: 1, Size: 1},
		},
		MetadataBuffer: []int32{3},
		Metadata:       []*tflitefb.MetadataT{{Name: "min_runtime_version", Buffer: 3}},
		SignatureDefs: []*tflitefb.SignatureDefT{{
			Inputs:        []*tflitefb.TensorMapT{{Name: "x", TensorIndex: 0}},
			Outputs:       []*tflitefb.TensorMapT{{Name: "y", TensorIndex: 3}},
			SignatureKey:  "serving_default",
			SubgraphIndex: 0,
		}},
	}
}

func smallModelBytes() []byte { return finish(smallModel()) }

// Helpers that find places in a serialized model through the generated
// accessors, so the mutation tests do not depend on the builder's layout.

type pos = flatbuffers.UOffsetT

func le32(b []byte, p pos) pos { return pos(binary.LittleEndian.Uint32(b[p:])) }

func put32(b []byte, p pos, v uint32) { binary.LittleEndian.PutUint32(b[p:], v) }

// fieldPos returns the position of slot's field in tab (which must be set).
func fieldPos(t *testing.T, tab flatbuffers.Table, slot int) pos {
	t.Helper()
	o := tab.Offset(flatbuffers.VOffsetT(4 + 2*slot))
	if o == 0 {
		t.Fatalf("slot %d of the table at %d is absent", slot, tab.Pos)
	}
	return tab.Pos + pos(o)
}

// target returns the position the offset field in slot of tab points to.
func target(t *testing.T, buf []byte, tab flatbuffers.Table, slot int) pos {
	p := fieldPos(t, tab, slot)
	return p + le32(buf, p)
}

func subgraph0(buf []byte) *tflitefb.SubGraph {
	sg := new(tflitefb.SubGraph)
	tflitefb.GetRootAsModel(buf, 0).Subgraphs(sg, 0)
	return sg
}

func tensor(buf []byte, i int) flatbuffers.Table {
	tn := new(tflitefb.Tensor)
	subgraph0(buf).Tensors(tn, i)
	return tn.Table()
}

func operator(buf []byte, i int) flatbuffers.Table {
	op := new(tflitefb.Operator)
	subgraph0(buf).Operators(op, i)
	return op.Table()
}

// relocateVTable copies the vtable of the table at tab.Pos to the end of buf,
// lets edit change its uint16 entries (vsize, tsize, field offsets...) and
// points the table at the copy, leaving tables that share the old vtable
// alone.
func relocateVTable(buf []byte, tab flatbuffers.Table, edit func(vt []uint16) []uint16) []byte {
	vtPos := int64(tab.Pos) - int64(int32(le32(buf, tab.Pos)))
	vsize := binary.LittleEndian.Uint16(buf[vtPos:])
	vt := make([]uint16, vsize/2)
	for i := range vt {
		vt[i] = binary.LittleEndian.Uint16(buf[vtPos+int64(2*i):])
	}
	vt = edit(vt)
	out := append([]byte(nil), buf...)
	if len(out)%2 != 0 {
		out = append(out, 0)
	}
	newPos := len(out)
	for _, x := range vt {
		out = binary.LittleEndian.AppendUint16(out, x)
	}
	put32(out, tab.Pos, uint32(int32(int64(tab.Pos)-int64(newPos))))
	return out
}

// unpack reads buf with the generated object API.
func unpack(buf []byte) *tflitefb.ModelT {
	return tflitefb.GetRootAsModel(buf, 0).UnPack()
}

func TestIdentifier(t *testing.T) {
	if got := Identifier(); got != "TFL3" {
		t.Errorf("Identifier() = %q, want \"TFL3\"", got)
	}
	if id := string(smallModelBytes()[4:8]); id != Identifier() {
		t.Errorf("the builder wrote identifier %q", id)
	}
}

func TestVerifyValid(t *testing.T) {
	buf := smallModelBytes()
	if err := Verify(buf); err != nil {
		t.Fatalf("Verify(small model) = %v", err)
	}
	m := unpack(buf)
	if got := m.Subgraphs[0].Operators[2].BuiltinOptions2.Value.(*tflitefb.StableHLOCompositeOptionsT).Name; got != "odml.thing" {
		t.Errorf("round trip: composite name %q", got)
	}
	// An empty model (only the root table) is fine too.
	if err := Verify(finish(&tflitefb.ModelT{})); err != nil {
		t.Errorf("Verify(empty model) = %v", err)
	}
}

func TestVerifyMutations(t *testing.T) {
	valid := smallModelBytes()
	type mutation struct {
		name   string
		mutate func(t *testing.T, buf []byte) []byte // gets a fresh copy of the valid model
		// want lists substrings of the error; empty means Verify must succeed.
		want []string
		// path is the exact VerifyError.Path, if not "".
		path string
	}
	tests := []mutation{
		{name: "empty", mutate: func(*testing.T, []byte) []byte { return nil },
			want: []string{"not a TensorFlow Lite model", "0 bytes is too short"}},
		{name: "7 bytes", mutate: func(_ *testing.T, b []byte) []byte { return b[:7] },
			want: []string{"7 bytes is too short"}},
		{name: "wrong identifier", mutate: func(_ *testing.T, b []byte) []byte { copy(b[4:], "TFL2"); return b },
			want: []string{`not a TensorFlow Lite model: file identifier is "TFL2", want "TFL3"`}},
		{name: "root offset past end", mutate: func(_ *testing.T, b []byte) []byte { put32(b, 0, uint32(len(b))); return b },
			path: "model", want: []string{"past the end of the"}},
		{name: "root offset zero", mutate: func(_ *testing.T, b []byte) []byte { put32(b, 0, 0); return b },
			path: "model", want: []string{"offset at byte 0 is 0"}},
		{name: "root offset negative", mutate: func(_ *testing.T, b []byte) []byte { put32(b, 0, 0xfffffff0); return b },
			path: "model", want: []string{"out of range"}},
		{name: "huge tensor shape", mutate: func(t *testing.T, b []byte) []byte {
			put32(b, target(t, b, tensor(b, 1), 0), 1<<30)
			return b
		}, path: "model.subgraphs[0].tensors[1].shape",
			want: []string{"vector of 4-byte elements with length 1073741824 runs past the end of the"}},
		{name: "huge buffer data", mutate: func(t *testing.T, b []byte) []byte {
			buf := new(tflitefb.Buffer)
			tflitefb.GetRootAsModel(b, 0).Buffers(buf, 1)
			put32(b, target(t, b, buf.Table(), 0), uint32(len(b)))
			return b
		}, path: "model.buffers[1].data", want: []string{"vector of 1-byte elements with length"}},
		{name: "vector of tables too long", mutate: func(t *testing.T, b []byte) []byte {
			m := tflitefb.GetRootAsModel(b, 0)
			put32(b, target(t, b, m.Table(), 4), 0x7fffffff)
			return b
		}, path: "model.buffers", want: []string{"vector of 4-byte elements with length 2147483647"}},
		{name: "string not terminated", mutate: func(t *testing.T, b []byte) []byte {
			s := target(t, b, tensor(b, 0), 3)
			b[s+4+le32(b, s)] = 'x'
			return b
		}, path: "model.subgraphs[0].tensors[0].name", want: []string{"not NUL-terminated"}},
		{name: "string past end", mutate: func(t *testing.T, b []byte) []byte {
			put32(b, target(t, b, tensor(b, 0), 3), 0xffffffff)
			return b
		}, path: "model.subgraphs[0].tensors[0].name", want: []string{"string of length 4294967295", "run past the end"}},
		{name: "custom code string past end", mutate: func(t *testing.T, b []byte) []byte {
			oc := new(tflitefb.OperatorCode)
			tflitefb.GetRootAsModel(b, 0).OperatorCodes(oc, 1)
			s := target(t, b, oc.Table(), 1)
			put32(b, s, uint32(len(b))-uint32(s)-4) // the NUL would be one byte past the end
			return b
		}, path: "model.operator_codes[1].custom_code", want: []string{"NUL terminator run past the end"}},
		{name: "union type out of range", mutate: func(t *testing.T, b []byte) []byte {
			b[fieldPos(t, operator(b, 0), 3)] = 200
			return b
		}, path: "model.subgraphs[0].operators[0].builtin_options_type",
			want: []string{"unknown BuiltinOptions type code 200 (valid codes are 0 to 126)"}},
		{name: "union2 type out of range", mutate: func(t *testing.T, b []byte) []byte {
			b[fieldPos(t, operator(b, 2), 11)] = 22
			return b
		}, path: "model.subgraphs[0].operators[2].builtin_options_2_type",
			want: []string{"unknown BuiltinOptions2 type code 22 (valid codes are 0 to 21)"}},
		{name: "union NONE with a value", mutate: func(t *testing.T, b []byte) []byte {
			b[fieldPos(t, operator(b, 0), 3)] = 0
			return b
		}},
		{name: "union type without a value", mutate: func(t *testing.T, b []byte) []byte {
			return relocateVTable(b, operator(b, 0), func(vt []uint16) []uint16 { vt[2+4] = 0; return vt })
		}},
		{name: "union value verified as its member", mutate: func(t *testing.T, b []byte) []byte {
			// The Conv2DOptions value keeps its fields but its table
			// claims 4 bytes, so field 1 (stride_w; padding is SAME, the
			// default, and not stored) is outside.
			opts := new(flatbuffers.Table)
			op := new(tflitefb.Operator)
			subgraph0(b).Operators(op, 0)
			if !op.BuiltinOptions(opts) {
				t.Fatal("operator 0 has no builtin options")
			}
			return relocateVTable(b, *opts, func(vt []uint16) []uint16 { vt[1] = 4; return vt })
		}, path: "model.subgraphs[0].operators[0].builtin_options (Conv2DOptions)",
			want: []string{"field 1 (stride_w) at offset", "runs past the end of the table (inline size 4)"}},
		{name: "quantization details member", mutate: func(t *testing.T, b []byte) []byte {
			q := target(t, b, tensor(b, 1), 4)
			qt := flatbuffers.Table{Bytes: b, Pos: q}
			d := target(t, b, qt, 5) // details value: a CustomQuantization table
			dt := flatbuffers.Table{Bytes: b, Pos: d}
			put32(b, target(t, b, dt, 0), 1<<31-1)
			return b
		}, path: "model.subgraphs[0].tensors[1].quantization.details (CustomQuantization).custom",
			want: []string{"vector of 1-byte elements with length 2147483647"}},
		{name: "vtable offset points outside", mutate: func(t *testing.T, b []byte) []byte {
			op := operator(b, 1)
			put32(b, op.Pos, uint32(int32(int64(op.Pos)-int64(len(b))-100)))
			return b
		}, path: "model.subgraphs[0].operators[1]", want: []string{"Operator table at byte", "outside the"}},
		{name: "vtable offset points before the buffer", mutate: func(t *testing.T, b []byte) []byte {
			op := operator(b, 1)
			put32(b, op.Pos, uint32(op.Pos)+1)
			return b
		}, path: "model.subgraphs[0].operators[1]", want: []string{"outside the"}},
		{name: "odd vtable size", mutate: func(t *testing.T, b []byte) []byte {
			return relocateVTable(b, tensor(b, 2), func(vt []uint16) []uint16 { vt[0]--; return vt })
		}, path: "model.subgraphs[0].tensors[2]", want: []string{"want an even size of at least 4"}},
		{name: "vtable too small", mutate: func(t *testing.T, b []byte) []byte {
			return relocateVTable(b, tensor(b, 2), func(vt []uint16) []uint16 { vt[0] = 2; return vt })
		}, path: "model.subgraphs[0].tensors[2]", want: []string{"has size 2"}},
		{name: "vtable runs past end", mutate: func(t *testing.T, b []byte) []byte {
			return relocateVTable(b, tensor(b, 2), func(vt []uint16) []uint16 { vt[0] += 2; return vt })
		}, path: "model.subgraphs[0].tensors[2]", want: []string{"runs past the end of the"}},
		{name: "table inline size past end", mutate: func(t *testing.T, b []byte) []byte {
			return relocateVTable(b, tensor(b, 2), func(vt []uint16) []uint16 { vt[1] = 0xfff0; return vt })
		}, path: "model.subgraphs[0].tensors[2]", want: []string{"with inline size 65520 runs past the end"}},
		{name: "field offset past end of table", mutate: func(t *testing.T, b []byte) []byte {
			return relocateVTable(b, tensor(b, 2), func(vt []uint16) []uint16 { vt[2+2] = vt[1]; return vt })
		}, path: "model.subgraphs[0].tensors[2]", want: []string{"field 2 (buffer) at offset", "with size 4 runs past the end of the table"}},
		{name: "vtable shorter than the schema", mutate: func(t *testing.T, b []byte) []byte {
			// An older writer: fields beyond the vtable are absent.
			return relocateVTable(b, tensor(b, 2), func(vt []uint16) []uint16 { vt[0] = 8; return vt[:4] })
		}},
		{name: "vtable longer than the schema", mutate: func(t *testing.T, b []byte) []byte {
			// A newer writer: fields after the schema's 10 are ignored
			// (the builder trims absent trailing fields, so pad first).
			return relocateVTable(b, tensor(b, 2), func(vt []uint16) []uint16 {
				for len(vt) < 2+10 {
					vt = append(vt, 0)
				}
				vt = append(vt, 4, 0xfff0)
				vt[0] = uint16(2 * len(vt))
				return vt
			})
		}},
		{name: "zero offset in table", mutate: func(t *testing.T, b []byte) []byte {
			put32(b, fieldPos(t, subgraph0(b).Table(), 4), 0)
			return b
		}, path: "model.subgraphs[0].name", want: []string{"is 0"}},
		{name: "vector element offset past end", mutate: func(t *testing.T, b []byte) []byte {
			v := target(t, b, subgraph0(b).Table(), 3)
			put32(b, v+4+4*2, uint32(len(b)))
			return b
		}, path: "model.subgraphs[0].operators[2]", want: []string{"past the end of the"}},
		{name: "nested vector element", mutate: func(t *testing.T, b []byte) []byte {
			sd := new(tflitefb.SignatureDef)
			tflitefb.GetRootAsModel(b, 0).SignatureDefs(sd, 0)
			tm := new(tflitefb.TensorMap)
			sd.Outputs(tm, 0)
			put32(b, target(t, b, tm.Table(), 0), 1000000)
			return b
		}, path: "model.signature_defs[0].outputs[0].name", want: []string{"string of length 1000000"}},
		{name: "trailing bytes", mutate: func(_ *testing.T, b []byte) []byte { return append(b, 1, 2, 3) }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			buf := tc.mutate(t, append([]byte(nil), valid...))
			err := Verify(buf)
			if len(tc.want) == 0 {
				if err != nil {
					t.Fatalf("Verify = %v, want success", err)
				}
				unpack(buf)
				return
			}
			if err == nil {
				t.Fatalf("Verify succeeded, want an error containing %q", tc.want)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("Verify = %v\nwant it to contain %q", err, w)
				}
			}
			var ve *VerifyError
			if !errors.As(err, &ve) {
				t.Fatalf("error is %T, want *VerifyError", err)
			}
			if tc.path != "" && ve.Path != tc.path {
				t.Errorf("error path = %q, want %q (error: %v)", ve.Path, tc.path, err)
			}
		})
	}
}

// TestVerifyLimits checks the limits with small values (the defaults need
// files too big for a unit test).
func TestVerifyLimits(t *testing.T) {
	buf := smallModelBytes()
	tests := []struct {
		name string
		lim  fbverify.Limits
		want string
	}{
		{"depth", fbverify.Limits{MaxDepth: 5, MaxTables: 1000, TableSlack: 1000, MaxSize: 1 << 30, UnpackSlack: 1 << 20},
			"tables are nested more than 5 deep"},
		{"tables", fbverify.Limits{MaxDepth: 64, MaxTables: 10, TableSlack: 1000, MaxSize: 1 << 30, UnpackSlack: 1 << 20},
			"more than 10 tables reached"},
		{"size", fbverify.Limits{MaxDepth: 64, MaxTables: 1000, TableSlack: 1000, MaxSize: int64(len(buf)), UnpackSlack: 1 << 20},
			"too large"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tfliteSchema.VerifyLimits(buf, tc.lim)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("verify = %v, want an error containing %q", err, tc.want)
			}
		})
	}
	// The small model's deepest table (model.subgraphs[0].tensors[3]
	// .sparsity.dim_metadata[0].array_segments (Uint8Vector)) is at depth 6.
	if err := tfliteSchema.VerifyLimits(buf, fbverify.Limits{MaxDepth: 6, MaxTables: 1000, TableSlack: 1000, MaxSize: 1 << 30, UnpackSlack: 0}); err != nil {
		t.Errorf("verify with depth limit 6 = %v", err)
	}
}

// sharedShapeModel builds, with the low-level builder, a model whose n
// tensors all share one shape vector of dims elements: legal FlatBuffers,
// but unpacking it copies the vector n times.
func sharedShapeModel(n, dims int) []byte {
	b := flatbuffers.NewBuilder(0)
	tflitefb.TensorStartShapeVector(b, dims)
	for i := 0; i < dims; i++ {
		b.PrependInt32(1)
	}
	shape := b.EndVector(dims)
	tensors := make([]flatbuffers.UOffsetT, n)
	for i := range tensors {
		tflitefb.TensorStart(b)
		tflitefb.TensorAddShape(b, shape)
		tensors[i] = tflitefb.TensorEnd(b)
	}
	tflitefb.SubGraphStartTensorsVector(b, n)
	for i := n - 1; i >= 0; i-- {
		b.PrependUOffsetT(tensors[i])
	}
	tv := b.EndVector(n)
	tflitefb.SubGraphStart(b)
	tflitefb.SubGraphAddTensors(b, tv)
	sg := tflitefb.SubGraphEnd(b)
	tflitefb.ModelStartSubgraphsVector(b, 1)
	b.PrependUOffsetT(sg)
	sgs := b.EndVector(1)
	tflitefb.ModelStart(b)
	tflitefb.ModelAddSubgraphs(b, sgs)
	tflitefb.ModelAddVersion(b, 3)
	b.FinishWithFileIdentifier(tflitefb.ModelEnd(b), []byte("TFL3"))
	return b.FinishedBytes()
}

func TestVerifySharedVectors(t *testing.T) {
	buf := sharedShapeModel(2000, 1000) // ~30 KB that would unpack to 8 MB of shapes
	if err := Verify(buf); err != nil {
		t.Fatalf("Verify = %v (sharing within the default slack is allowed)", err)
	}
	err := tfliteSchema.VerifyLimits(buf, fbverify.Limits{MaxDepth: 64, MaxTables: 1_000_000, TableSlack: 10_000, MaxSize: 1<<31 - 1, UnpackSlack: 0})
	var ve *VerifyError
	if !errors.As(err, &ve) || !strings.Contains(ve.Reason, "shared offsets") ||
		!strings.HasPrefix(ve.Path, "model.subgraphs[0].tensors[") || !strings.HasSuffix(ve.Path, "].shape") {
		t.Fatalf("verify without slack = %v, want a shared-offsets error at a tensor shape", err)
	}
}

// dagModel builds a model whose nsub subgraphs are all one subgraph whose
// ntensors tensors are all one tensor: a few bytes per offset, but
// nsub*ntensors tensors to visit and unpack.
func dagModel(nsub, ntensors int) []byte {
	b := flatbuffers.NewBuilder(0)
	tflitefb.TensorStart(b)
	tflitefb.TensorAddBuffer(b, 1)
	tensor := tflitefb.TensorEnd(b)
	tflitefb.SubGraphStartTensorsVector(b, ntensors)
	for i := 0; i < ntensors; i++ {
		b.PrependUOffsetT(tensor)
	}
	tv := b.EndVector(ntensors)
	tflitefb.SubGraphStart(b)
	tflitefb.SubGraphAddTensors(b, tv)
	sg := tflitefb.SubGraphEnd(b)
	tflitefb.ModelStartSubgraphsVector(b, nsub)
	for i := 0; i < nsub; i++ {
		b.PrependUOffsetT(sg)
	}
	sgs := b.EndVector(nsub)
	tflitefb.ModelStart(b)
	tflitefb.ModelAddSubgraphs(b, sgs)
	b.FinishWithFileIdentifier(tflitefb.ModelEnd(b), []byte("TFL3"))
	return b.FinishedBytes()
}

func TestVerifySharedSubtrees(t *testing.T) {
	// Modest sharing is fine.
	if err := Verify(dagModel(10, 100)); err != nil {
		t.Errorf("Verify(10 x 100 shared tensors) = %v", err)
	}
	// An 8 KB file with a million tensors is not.
	buf := dagModel(1000, 1000)
	err := Verify(buf)
	var ve *VerifyError
	if !errors.As(err, &ve) || !strings.Contains(ve.Reason, "offsets share subtrees") || !strings.HasPrefix(ve.Path, "model.subgraphs[") {
		t.Errorf("Verify(1000 x 1000 shared tensors) = %v, want a shared-subtrees error", err)
	}
	// Without the proportional limit, flatc's limit of a million tables
	// still stops it.
	lim := fbverify.DefaultLimits()
	lim.TableSlack = 1 << 30
	err = tfliteSchema.VerifyLimits(buf, lim)
	if err == nil || !strings.Contains(err.Error(), "more than 1000000 tables reached") {
		t.Errorf("verify without the proportional limit = %v, want the 1000000-table limit", err)
	}
}

// TestVerifyEveryPrefix truncates a valid model at every length: Verify must
// not panic, and whatever it accepts must unpack without panicking.
func TestVerifyEveryPrefix(t *testing.T) {
	buf := smallModelBytes()
	shortest := len(buf) + 1
	for n := len(buf); n >= 0; n-- {
		prefix := append([]byte(nil), buf[:n]...) // exact capacity: reads past n panic
		if err := Verify(prefix); err == nil {
			shortest = n
			unpack(prefix)
		} else if n == len(buf) {
			t.Fatalf("the whole model fails: %v", err)
		}
	}
	// FlatBuffers are written back to front, so the last bytes belong to the
	// first object written; only the alignment padding after it may go.
	if shortest < len(buf)-7 {
		t.Errorf("a %d-byte prefix of the %d-byte model verified", shortest, len(buf))
	}
}

// TestVerifyEveryByteCorrupted sets every byte of a valid model to a few
// values: Verify must not panic, and what it accepts must unpack.
func TestVerifyEveryByteCorrupted(t *testing.T) {
	buf := smallModelBytes()
	for i := range buf {
		for _, x := range []byte{0x00, 0x01, 0x7f, 0x80, 0xff, buf[i] ^ 0x10} {
			b := append([]byte(nil), buf...)
			b[i] = x
			if Verify(b) == nil {
				unpack(b)
			}
		}
	}
}

// repoRoot walks up from the working directory to the directory holding
// go.mod.
func repoRoot(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the working directory")
		}
		dir = parent
	}
}

// sharedModels returns the paths of the *.tflite files in
// <repo root>/../shared/models, sorted, or skips the test.
func sharedModels(t testing.TB) []string {
	t.Helper()
	dir := filepath.Join(repoRoot(t), "..", "shared", "models")
	paths, _ := filepath.Glob(filepath.Join(dir, "*.tflite"))
	if len(paths) == 0 {
		t.Skipf("no real models: %s holds no *.tflite files (the shared test fixtures are not present)", dir)
	}
	sort.Strings(paths)
	return paths
}

func TestVerifyRealModels(t *testing.T) {
	for _, path := range sharedModels(t) {
		t.Run(filepath.Base(path), func(t *testing.T) {
			buf, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			start := time.Now()
			err = Verify(buf)
			elapsed := time.Since(start)
			if err != nil {
				t.Fatalf("Verify = %v", err)
			}
			if len(buf) > 1<<20 {
				t.Logf("%d bytes verified in %v", len(buf), elapsed)
			}
			m := unpack(buf)
			if len(m.Subgraphs) == 0 {
				t.Errorf("no subgraphs")
			}
		})
	}
}

func BenchmarkVerifyLargestModel(b *testing.B) {
	paths := sharedModels(b)
	var largest []byte
	for _, p := range paths {
		buf, err := os.ReadFile(p)
		if err != nil {
			b.Fatal(err)
		}
		if len(buf) > len(largest) {
			largest = buf
		}
	}
	b.SetBytes(int64(len(largest)))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := Verify(largest); err != nil {
			b.Fatal(err)
		}
	}
}

// FuzzVerify checks that Verify never panics and that whatever it accepts
// the generated code can unpack without panicking.
func FuzzVerify(f *testing.F) {
	f.Add(smallModelBytes())
	f.Add(finish(&tflitefb.ModelT{}))
	f.Add(sharedShapeModel(20, 4))
	f.Add(dagModel(3, 3))
	if dir := filepath.Join(repoRoot(f), "..", "shared", "models"); dirExists(dir) {
		paths, _ := filepath.Glob(filepath.Join(dir, "*.tflite"))
		for _, p := range paths {
			if fi, err := os.Stat(p); err != nil || fi.Size() > 8<<10 {
				continue // the small ones: a fuzzer mutates small inputs far better
			}
			buf, err := os.ReadFile(p)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(buf)
		}
	}
	f.Fuzz(func(t *testing.T, buf []byte) {
		if Verify(buf) != nil {
			return
		}
		tflitefb.GetRootAsModel(buf, 0).UnPack()
	})
}

func dirExists(dir string) bool {
	fi, err := os.Stat(dir)
	return err == nil && fi.IsDir()
}
