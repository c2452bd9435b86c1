package fbsparse

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"litequant/core/schema/fbverify"
)

const small = `// A small schema.
namespace ex.ns;

file_identifier "EXMP";
file_extension "ex";

enum Color : ubyte { Red = 1, Green, Blue = 8, } // trailing comma
enum Sign : int8 { Minus = -1, Zero, Plus }

table Leaf { v:[int] (force_align: 16); }
table Other {}

union Thing { Leaf, ex.ns.Other }

table Root {
  a:int = -3;
  color:Color = Green;
  thing:Thing;
  name:string;
  names:[string];
  leaves:[Leaf];
  bytes:[ubyte];
  colors:[Color];
  old:short (deprecated);
  f:float = 1.5e3;
  ok:bool = true;
  leaf:Leaf;
  z:uint64 = 0x10;
}

root_type Root;
`

func TestParseSmall(t *testing.T) {
	s, err := Parse("small.fbs", []byte(small))
	if err != nil {
		t.Fatal(err)
	}
	if s.Namespace != "ex.ns" || s.FileIdentifier != "EXMP" || s.FileExtension != "ex" || s.RootType != "Root" {
		t.Errorf("header: %+v", s)
	}
	if e := s.Enum("Color"); e.Underlying != "ubyte" || fmt.Sprint(e.Values) != "[{Red 1} {Green 2} {Blue 8}]" {
		t.Errorf("Color = %+v", e)
	}
	if e := s.Enum("Sign"); e.Underlying != "byte" || fmt.Sprint(e.Values) != "[{Minus -1} {Zero 0} {Plus 1}]" {
		t.Errorf("Sign = %+v", e)
	}
	if u := s.Union("Thing"); fmt.Sprint(u.Members) != "[Leaf Other]" {
		t.Errorf("Thing = %+v", u)
	}
	if f := s.Table("Leaf").Field("v"); f.ForceAlign != 16 || f.Type.String() != "[int]" {
		t.Errorf("Leaf.v = %+v", f)
	}
	var got []string
	for _, sl := range s.Table("Root").Slots() {
		got = append(got, fmt.Sprintf("%d:%s:%v:%d:%s:%s", sl.Index, sl.Name, sl.Kind, sl.Size, sl.Scalar, sl.Ref))
	}
	want := []string{
		"0:a:scalar:4:int:",
		"1:color:scalar:1:ubyte:",
		"2:thing_type:union type:1:ubyte:Thing",
		"3:thing:union:4::Thing",
		"4:name:string:4::",
		"5:names:vector of strings:4::",
		"6:leaves:vector of tables:4::Leaf",
		"7:bytes:vector of scalars:1:ubyte:",
		"8:colors:vector of scalars:1:ubyte:",
		"9:old:scalar:2:short:",
		"10:f:scalar:4:float:",
		"11:ok:scalar:1:bool:",
		"12:leaf:table:4::Leaf",
		"13:z:scalar:8:ulong:",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("Root slots:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if f := s.Table("Root").Field("thing"); f.Slot != 3 {
		t.Errorf("thing.Slot = %d, want 3", f.Slot)
	}
	if f := s.Table("Root").Field("old"); !f.Deprecated || f.Slot != 9 {
		t.Errorf("old = %+v", f)
	}
	src, err := GoVerifyTables(s, GoTables{Package: "p", Var: "smallSchema", Source: "small.fbs", What: "small thing"})
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range []string{
		`{Name: "thing_type", Kind: fbverify.KindUnionType, Size: 1, Ref: uThing}, // slot 2`,
		`{Name: "leaves", Kind: fbverify.KindVectorTable, Ref: tLeaf},`,
		`{Name: "bytes", Kind: fbverify.KindBytes, Size: 1},`,
		`tOther: {Name: "Other"},`,
		`{Name: "old", Kind: fbverify.KindDeprecated},`,
		`var smallSchema = fbverify.Schema{`,
		`What:           "small thing",`,
		`FileIdentifier: "EXMP",`,
		`Root:           tRoot,`,
		`import "litequant/core/schema/fbverify"`,
	} {
		if !bytes.Contains(src, []byte(w)) {
			t.Errorf("generated tables lack %q:\n%s", w, src)
		}
	}
}

func TestParseErrors(t *testing.T) {
	const head = "namespace n;\n"
	tests := []struct{ src, want string }{
		{head + "struct S { a:int; }\ntable T {}\nroot_type T;", "struct declarations are not supported"},
		{head + "include \"x.fbs\";", "include declarations are not supported"},
		{head + "/* block */ table T {} root_type T;", "block comments"},
		{head + "table T { a:int (id: 1); } root_type T;", "attribute id is not supported"},
		{head + "table T { a:int (key); } root_type T;", "attribute key is not supported"},
		{head + "table T { a:int (deprecated) = 3; } root_type T;", "default value must come before the attributes"},
		{head + "table T { a:[U]; } union U { T } root_type T;", "vectors of unions are not supported"},
		{head + "table T { a:[[int]]; } root_type T;", "vectors of vectors"},
		{head + "table T { a:Missing; } root_type T;", "unknown type Missing"},
		{head + "table T { a:int; a:int; } root_type T;", "field a declared twice"},
		{head + "table T {} table T {} root_type T;", "T is already declared"},
		{head + "table T { u:U; u_type:int; } union U { T } root_type T;", "needs the name u_type"},
		{head + "enum E : byte { A = 200 } table T {} root_type T;", "does not fit in byte"},
		{head + "enum E : float { A } table T {} root_type T;", "must be an integer type"},
		{head + "enum E { A } table T {} root_type T;", "needs an underlying integer type"},
		{head + "enum E : byte { A, A } table T {} root_type T;", "declared twice"},
		{head + "enum E : byte (bit_flags) { A } table T {} root_type T;", "attributes on enums are not supported"},
		{head + "union U { E } enum E : byte { A } table T {} root_type T;", "member E is not a table"},
		{head + "union U { T = 3 } table T {} root_type T;", "explicit type codes are not supported"},
		{head + "union U { T, T } table T {} root_type T;", "member T declared twice"},
		{head + "table T { a:int = x; } root_type T;", "bad default x"},
		{head + "table T { a:byte = 300; } root_type T;", "out of range for byte"},
		{head + "table T { a:bool = 2; } root_type T;", "want true, false"},
		{head + "table T { a:string = 3; } root_type T;", "only supported on scalar and enum fields"},
		{head + "enum E : byte { A, B } table T { a:E = C; } root_type T;", "not a value of enum E"},
		{head + "table T { a:int (force_align: 3); } root_type T;", "force_align needs a power of two"},
		{head + "table T { a:int (force_align: 4); } root_type T;", "force_align is only supported on vectors"},
		{head + "table T { a:other.ns.X; } root_type T;", "not in namespace"},
		{head + "table T {}", "no root_type"},
		{head + "table T {} root_type U;", "root_type U is not a table"},
		{"table T {} root_type T;", "no namespace"},
		{head + "table T { a:int } root_type T;", "expected ';'"},
		{head + "table T { a:int; @ } root_type T;", "unexpected character '@'"},
		{head + "file_identifier \"TOOLONG\";", "exactly 4 bytes"},
		{head + "rpc_service S {}", "rpc_service declarations are not supported"},
		{head + "frobnicate;", "unknown declaration keyword"},
		{head + "table T { a:int; ", "expected field name"},
	}
	for _, tc := range tests {
		_, err := Parse("x.fbs", []byte(tc.src))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Parse(%q) = %v, want an error containing %q", tc.src, err, tc.want)
		}
	}
}

func TestParseTFLite(t *testing.T) {
	s, err := ParseFile("../../../core/schema/tflite.fbs")
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Tables) == 0 || s.RootType != "Model" || s.FileIdentifier != "TFL3" {
		t.Fatalf("parsed %d tables, root %q, identifier %q", len(s.Tables), s.RootType, s.FileIdentifier)
	}
	g := TargetFor("schema").GoTables
	a, err := GoVerifyTables(s, g)
	if err != nil {
		t.Fatal(err)
	}
	s2, _ := ParseFile("../../../core/schema/tflite.fbs")
	b, _ := GoVerifyTables(s2, g)
	if !bytes.Equal(a, b) {
		t.Errorf("GoVerifyTables is not deterministic")
	}
	if !bytes.HasPrefix(a, []byte(GeneratedHeader("tflite.fbs")+"\n")) {
		t.Errorf("generated file does not start with the header")
	}
}

// TestCompareTables: the description VerifySchema makes of the small schema
// matches it, and CompareTables reports each kind of difference.
func TestCompareTables(t *testing.T) {
	s, err := Parse("small.fbs", []byte(small))
	if err != nil {
		t.Fatal(err)
	}
	v, err := VerifySchema(s, "small thing")
	if err != nil {
		t.Fatal(err)
	}
	if d := CompareTables(s, v); len(d) != 0 {
		t.Fatalf("CompareTables(VerifySchema) = %v", d)
	}
	root := s.Table("Root")
	rootIndex := -1
	for i, tab := range s.Tables {
		if tab == root {
			rootIndex = i
		}
	}
	tests := []struct {
		name string
		edit func(f []fbverify.Field)
		want string
	}{
		{"kind", func(f []fbverify.Field) { f[7].Kind = fbverify.KindVector }, `Root slot 7: compiled "bytes 5 1 ", schema "bytes 6 1 "`},
		{"size", func(f []fbverify.Field) { f[0].Size = 8 }, `Root slot 0: compiled "a 0 8 "`},
		{"ref", func(f []fbverify.Field) { f[6].Ref = 1 }, `Root slot 6: compiled "leaves 8 0 Other", schema "leaves 8 0 Leaf"`},
		{"deprecated", func(f []fbverify.Field) { f[9] = fbverify.Field{Name: "old", Kind: fbverify.KindScalar, Size: 2} }, `Root slot 9`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w := *v
			w.Tables = append([]fbverify.Table{}, v.Tables...)
			w.Tables[rootIndex].Fields = append([]fbverify.Field{}, v.Tables[rootIndex].Fields...)
			tc.edit(w.Tables[rootIndex].Fields)
			d := CompareTables(s, &w)
			if len(d) != 1 || !strings.Contains(d[0], tc.want) {
				t.Errorf("CompareTables = %q, want one difference containing %q", d, tc.want)
			}
		})
	}
}
