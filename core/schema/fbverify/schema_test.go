package fbverify

import (
	"errors"
	"strings"
	"testing"

	flatbuffers "github.com/google/flatbuffers/go"
)

// node is a small schema: table Node { name:string; kids:[Node]; data:[ubyte];
// pick_type; pick:Pick; } union Pick { Node }, identifier "NODE".
var node = Schema{
	What:           "node file",
	FileIdentifier: "NODE",
	Root:           0,
	Tables: []Table{{Name: "Node", Fields: []Field{
		{Name: "name", Kind: KindString},
		{Name: "kids", Kind: KindVectorTable, Ref: 0},
		{Name: "data", Kind: KindBytes, Size: 1},
		{Name: "pick_type", Kind: KindUnionType, Size: 1, Ref: 0},
		{Name: "pick", Kind: KindUnion, Ref: 0},
	}}},
	Unions: []Union{{Name: "Pick", Members: []uint16{0}}},
}

// nodeBytes builds a Node with one kid, which is also its union value.
func nodeBytes() []byte {
	b := flatbuffers.NewBuilder(0)
	kidName := b.CreateString("kid")
	b.StartObject(5)
	b.PrependUOffsetTSlot(0, kidName, 0)
	kid := b.EndObject()
	name := b.CreateString("root")
	data := b.CreateByteVector([]byte{1, 2, 3})
	b.StartVector(4, 1, 4)
	b.PrependUOffsetT(kid)
	kids := b.EndVector(1)
	b.StartObject(5)
	b.PrependUOffsetTSlot(0, name, 0)
	b.PrependUOffsetTSlot(1, kids, 0)
	b.PrependUOffsetTSlot(2, data, 0)
	b.PrependByteSlot(3, 1, 0)
	b.PrependUOffsetTSlot(4, kid, 0)
	b.FinishWithFileIdentifier(b.EndObject(), []byte("NODE"))
	return b.FinishedBytes()
}

func TestVerify(t *testing.T) {
	if err := node.Check(); err != nil {
		t.Fatalf("Check = %v", err)
	}
	good := nodeBytes()
	if err := node.Verify(good); err != nil {
		t.Fatalf("Verify(valid) = %v", err)
	}
	// The union type code is the only byte with value 1 in the root's
	// inline part; make it an unknown code.
	badCode := append([]byte{}, good...)
	root := int(flatbuffers.GetUOffsetT(badCode))
	vt := root - int(flatbuffers.GetSOffsetT(badCode[root:]))
	codeAt := root + int(flatbuffers.GetVOffsetT(badCode[vt+4+2*3:]))
	badCode[codeAt] = 2
	wrongID := append([]byte{}, good...)
	copy(wrongID[4:], "EDON")
	tests := []struct {
		name string
		buf  []byte
		lim  Limits
		want string
		path string
	}{
		{"short", good[:5], DefaultLimits(), "not a node file: 5 bytes is too short", ""},
		{"identifier", wrongID, DefaultLimits(), `not a node file: file identifier is "EDON", want "NODE"`, ""},
		{"union code", badCode, DefaultLimits(), "unknown Pick type code 2 (valid codes are 0 to 1)", "node.pick_type"},
		{"depth", good, Limits{MaxDepth: 1, MaxTables: 100, TableSlack: 100, MaxSize: 1 << 20, UnpackSlack: 1 << 20},
			"tables are nested more than 1 deep", "node.kids[0]"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := node.VerifyLimits(tc.buf, tc.lim)
			var e *Error
			if !errors.As(err, &e) || !strings.Contains(e.Reason, tc.want) || e.Path != tc.path {
				t.Errorf("Verify = %v, want path %q and a reason containing %q", err, tc.path, tc.want)
			}
		})
	}
}

func TestCheck(t *testing.T) {
	tests := []struct {
		name string
		edit func(s *Schema)
		want string
	}{
		{"identifier", func(s *Schema) { s.FileIdentifier = "NOD" }, "not 4 bytes"},
		{"root", func(s *Schema) { s.Root = 1 }, "root table 1 is out of range"},
		{"table ref", func(s *Schema) { s.Tables[0].Fields[1].Ref = 1 }, "field 1 (kids) refers to 1"},
		{"union ref", func(s *Schema) { s.Tables[0].Fields[4].Ref = 1 }, "field 4 (pick) refers to 1"},
		{"stray ref", func(s *Schema) { s.Tables[0].Fields[0].Ref = 1 }, "field 0 (name) refers to 1"},
		{"kind", func(s *Schema) { s.Tables[0].Fields[0].Kind = numKinds }, "unknown kind"},
		{"size", func(s *Schema) { s.Tables[0].Fields[2].Size = 0 }, "size 0"},
		{"type code size", func(s *Schema) { s.Tables[0].Fields[3].Size = 2 }, "want 1"},
		{"member", func(s *Schema) { s.Unions[0].Members[0] = 3 }, "member 1 refers to table 3"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := node
			s.Tables = []Table{{Name: "Node", Fields: append([]Field{}, node.Tables[0].Fields...)}}
			s.Unions = []Union{{Name: "Pick", Members: append([]uint16{}, node.Unions[0].Members...)}}
			tc.edit(&s)
			if err := s.Check(); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Check = %v, want an error containing %q", err, tc.want)
			}
		})
	}
}
