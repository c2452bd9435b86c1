// Package fbsparse parses the subset of the FlatBuffers schema language that
// litequant's core/schema/tflite.fbs uses, and computes the vtable layout that
// flatc assigns to every table.
//
// The subset is: `//` comments, namespace, file_identifier, file_extension,
// root_type, `enum Name : type { A = n, B, ... }`, `union Name { A, B }` and
// `table Name { field:type = default (attrs); }` with the attributes
// force_align and deprecated. Anything else (structs, includes, block
// comments, id attributes, vectors of unions, ...) is an error rather than
// being skipped, so that a schema change this package does not understand
// cannot silently produce a wrong layout.
package fbsparse

import (
	"math"
	"os"
	"path/filepath"
	"strconv"
)

// Schema is a parsed .fbs file.
type Schema struct {
	Namespace      string
	FileIdentifier string
	FileExtension  string
	RootType       string   // name of the root table
	Enums          []*Enum  // in declaration order
	Unions         []*Union // in declaration order
	Tables         []*Table // in declaration order
}

// Enum is an enum declaration.
type Enum struct {
	Name       string
	Underlying string // canonical scalar type name, e.g. "byte", "uint"
	Values     []EnumValue
}

// EnumValue is one named value of an enum.
type EnumValue struct {
	Name  string
	Value int64
}

// Union is a union declaration. Members[i] is the name of the table whose
// type code is i+1; code 0 is NONE.
type Union struct {
	Name    string
	Members []string
}

// Table is a table declaration.
type Table struct {
	Name   string
	Fields []*Field // in declaration order
}

// Field is one field of a table.
type Field struct {
	Name       string
	Type       Type
	Default    string // the default value as written, "" if none
	ForceAlign int    // the force_align attribute, 0 if none
	Deprecated bool
	// Slot is the vtable slot of the field's value: its entry is at byte
	// 4+2*Slot of the vtable. A union field also occupies the slot before
	// it, Slot-1, for its ubyte type code (named <Name>_type).
	Slot int
	Line int // line of the declaration in the source
}

// TypeKind classifies a Type.
type TypeKind int

// The kinds of field types.
const (
	TypeScalar TypeKind = iota // a scalar: bool, byte, ubyte, ..., double
	TypeString
	TypeEnum   // an enum: stored as its underlying scalar
	TypeUnion  // a union: a type-code slot and an offset slot
	TypeTable  // an offset to a table
	TypeVector // an offset to a vector of Elem
)

// Type is a field type.
type Type struct {
	Kind   TypeKind
	Scalar string // canonical scalar name for TypeScalar and TypeEnum
	Name   string // the enum, union or table name for those kinds
	Elem   *Type  // element type of a TypeVector
}

// String renders t the way the schema writes it (with canonical scalar names).
func (t Type) String() string {
	switch t.Kind {
	case TypeScalar:
		return t.Scalar
	case TypeString:
		return "string"
	case TypeVector:
		return "[" + t.Elem.String() + "]"
	default:
		return t.Name
	}
}

// scalarSizes maps canonical scalar type names to their sizes in bytes.
var scalarSizes = map[string]int{
	"bool": 1, "byte": 1, "ubyte": 1,
	"short": 2, "ushort": 2,
	"int": 4, "uint": 4, "float": 4,
	"long": 8, "ulong": 8, "double": 8,
}

// scalarAliases maps the sized spellings to the canonical names.
var scalarAliases = map[string]string{
	"int8": "byte", "uint8": "ubyte",
	"int16": "short", "uint16": "ushort",
	"int32": "int", "uint32": "uint",
	"int64": "long", "uint64": "ulong",
	"float32": "float", "float64": "double",
}

// ScalarSize returns the size in bytes of the canonical or sized scalar type
// name, or 0 if name is not a scalar type.
func ScalarSize(name string) int {
	if c, ok := scalarAliases[name]; ok {
		name = c
	}
	return scalarSizes[name]
}

func canonicalScalar(name string) (string, bool) {
	if c, ok := scalarAliases[name]; ok {
		return c, true
	}
	_, ok := scalarSizes[name]
	return name, ok
}

func isIntegerScalar(name string) bool {
	switch name {
	case "byte", "ubyte", "short", "ushort", "int", "uint", "long", "ulong":
		return true
	}
	return false
}

// integerRange returns the range of the canonical integer type name (ulong's
// upper bound is clipped to MaxInt64).
func integerRange(name string) (lo, hi int64) {
	switch name {
	case "bool":
		return 0, 1
	case "byte":
		return math.MinInt8, math.MaxInt8
	case "ubyte":
		return 0, math.MaxUint8
	case "short":
		return math.MinInt16, math.MaxInt16
	case "ushort":
		return 0, math.MaxUint16
	case "int":
		return math.MinInt32, math.MaxInt32
	case "uint":
		return 0, math.MaxUint32
	case "long":
		return math.MinInt64, math.MaxInt64
	case "ulong":
		return 0, math.MaxInt64
	}
	return 0, -1
}

// Enum returns the enum with the given name, or nil.
func (s *Schema) Enum(name string) *Enum {
	for _, e := range s.Enums {
		if e.Name == name {
			return e
		}
	}
	return nil
}

// Union returns the union with the given name, or nil.
func (s *Schema) Union(name string) *Union {
	for _, u := range s.Unions {
		if u.Name == name {
			return u
		}
	}
	return nil
}

// Table returns the table with the given name, or nil.
func (s *Schema) Table(name string) *Table {
	for _, t := range s.Tables {
		if t.Name == name {
			return t
		}
	}
	return nil
}

// Field returns the field with the given name, or nil.
func (t *Table) Field(name string) *Field {
	for _, f := range t.Fields {
		if f.Name == name {
			return f
		}
	}
	return nil
}

// SlotKind classifies a vtable slot.
type SlotKind int

// The kinds of vtable slots.
const (
	SlotScalar       SlotKind = iota // an inline scalar (or enum) of Size bytes
	SlotString                       // an offset to a string
	SlotTable                        // an offset to a table of type Ref
	SlotUnionType                    // the ubyte type code of union Ref
	SlotUnion                        // an offset to the member table of union Ref
	SlotVectorScalar                 // an offset to a vector of Size-byte scalars
	SlotVectorString                 // an offset to a vector of strings
	SlotVectorTable                  // an offset to a vector of tables of type Ref
)

var slotKindNames = [...]string{
	SlotScalar:       "scalar",
	SlotString:       "string",
	SlotTable:        "table",
	SlotUnionType:    "union type",
	SlotUnion:        "union",
	SlotVectorScalar: "vector of scalars",
	SlotVectorString: "vector of strings",
	SlotVectorTable:  "vector of tables",
}

func (k SlotKind) String() string {
	if k >= 0 && int(k) < len(slotKindNames) {
		return slotKindNames[k]
	}
	return "SlotKind(" + strconv.Itoa(int(k)) + ")"
}

// Slot is one vtable slot of a table, as flatc assigns them: fields in
// declaration order, a union field taking two slots (type code first).
type Slot struct {
	Index  int    // the slot number; its vtable entry is at byte 4+2*Index
	Name   string // the field name; <field>_type for a union's type slot
	Field  *Field // the declaring field
	Kind   SlotKind
	Size   int    // inline size for SlotScalar, element size for SlotVectorScalar
	Scalar string // canonical scalar type of a SlotScalar or of the elements of a SlotVectorScalar
	Ref    string // table name (SlotTable, SlotVectorTable) or union name (SlotUnionType, SlotUnion)
}

// Slots returns the vtable slots of t in order; Slots()[i].Index == i.
func (t *Table) Slots() []Slot {
	var slots []Slot
	for _, f := range t.Fields {
		typ := f.Type
		switch typ.Kind {
		case TypeScalar, TypeEnum:
			slots = append(slots, Slot{Name: f.Name, Kind: SlotScalar, Size: scalarSizes[typ.Scalar], Scalar: typ.Scalar})
		case TypeString:
			slots = append(slots, Slot{Name: f.Name, Kind: SlotString, Size: 4})
		case TypeTable:
			slots = append(slots, Slot{Name: f.Name, Kind: SlotTable, Size: 4, Ref: typ.Name})
		case TypeUnion:
			slots = append(slots,
				Slot{Name: f.Name + "_type", Kind: SlotUnionType, Size: 1, Scalar: "ubyte", Ref: typ.Name},
				Slot{Name: f.Name, Kind: SlotUnion, Size: 4, Ref: typ.Name})
		case TypeVector:
			e := typ.Elem
			switch e.Kind {
			case TypeScalar, TypeEnum:
				slots = append(slots, Slot{Name: f.Name, Kind: SlotVectorScalar, Size: scalarSizes[e.Scalar], Scalar: e.Scalar})
			case TypeString:
				slots = append(slots, Slot{Name: f.Name, Kind: SlotVectorString, Size: 4})
			case TypeTable:
				slots = append(slots, Slot{Name: f.Name, Kind: SlotVectorTable, Size: 4, Ref: e.Name})
			default:
				panic("fbsparse: unvalidated vector element type " + e.String())
			}
		}
		slots[len(slots)-1].Field = f
		if typ.Kind == TypeUnion {
			slots[len(slots)-2].Field = f
		}
	}
	for i := range slots {
		slots[i].Index = i
	}
	return slots
}

// ParseFile reads and parses the schema file at path.
func ParseFile(path string) (*Schema, error) {
	src, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return Parse(filepath.Base(path), src)
}

// Parse parses src; name is used in error messages.
func Parse(name string, src []byte) (*Schema, error) {
	toks, err := tokenize(name, string(src))
	if err != nil {
		return nil, err
	}
	p := &parser{name: name, toks: toks, s: &Schema{}, declLine: map[string]int{}}
	if err := p.parse(); err != nil {
		return nil, err
	}
	if err := p.resolve(); err != nil {
		return nil, err
	}
	return p.s, nil
}
