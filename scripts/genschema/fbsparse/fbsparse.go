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
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
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

// Tokens.

type tokKind int

const (
	tokEOF tokKind = iota
	tokIdent
	tokNumber
	tokString
	tokPunct
)

type token struct {
	kind      tokKind
	text      string // identifier, number or punctuation as written; string contents
	line, col int
}

func (t token) String() string {
	switch t.kind {
	case tokEOF:
		return "end of file"
	case tokString:
		return strconv.Quote(t.text)
	}
	return "'" + t.text + "'"
}

func tokenize(name, src string) ([]token, error) {
	var toks []token
	line, col := 1, 1
	i := 0
	errAt := func(l, c int, format string, args ...any) error {
		return fmt.Errorf("%s:%d:%d: %s", name, l, c, fmt.Sprintf(format, args...))
	}
	advance := func(n int) {
		for k := 0; k < n; k++ {
			if src[i] == '\n' {
				line++
				col = 1
			} else {
				col++
			}
			i++
		}
	}
	for i < len(src) {
		c := src[i]
		switch {
		case c == '\n' || c == ' ' || c == '\t' || c == '\r':
			advance(1)
		case c == '/' && i+1 < len(src) && src[i+1] == '/':
			for i < len(src) && src[i] != '\n' {
				advance(1)
			}
		case c == '/' && i+1 < len(src) && src[i+1] == '*':
			return nil, errAt(line, col, "block comments (/* */) are not supported; use // comments")
		case isIdentStart(c):
			j := i
			for j < len(src) && isIdentPart(src[j]) {
				j++
			}
			toks = append(toks, token{tokIdent, src[i:j], line, col})
			advance(j - i)
		case isDigit(c) || ((c == '-' || c == '+') && i+1 < len(src) && (isDigit(src[i+1]) || src[i+1] == '.')) || (c == '.' && i+1 < len(src) && isDigit(src[i+1])):
			j := i + 1
			for j < len(src) && (isIdentPart(src[j]) || src[j] == '.' ||
				((src[j] == '-' || src[j] == '+') && (src[j-1] == 'e' || src[j-1] == 'E') && !strings.HasPrefix(strings.ToLower(src[i:j]), "0x") && !strings.HasPrefix(strings.ToLower(src[i:j]), "-0x"))) {
				j++
			}
			toks = append(toks, token{tokNumber, src[i:j], line, col})
			advance(j - i)
		case c == '"':
			j := i + 1
			for j < len(src) && src[j] != '"' {
				if src[j] == '\\' || src[j] == '\n' {
					return nil, errAt(line, col, "escapes and newlines in string literals are not supported")
				}
				j++
			}
			if j == len(src) {
				return nil, errAt(line, col, "unterminated string literal")
			}
			toks = append(toks, token{tokString, src[i+1 : j], line, col})
			advance(j + 1 - i)
		case strings.IndexByte("{}()[]:;,=.", c) >= 0:
			toks = append(toks, token{tokPunct, string(c), line, col})
			advance(1)
		default:
			return nil, errAt(line, col, "unexpected character %q", c)
		}
	}
	toks = append(toks, token{kind: tokEOF, line: line, col: col})
	return toks, nil
}

func isIdentStart(c byte) bool {
	return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
}

func isIdentPart(c byte) bool { return isIdentStart(c) || isDigit(c) }

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// Parser.

type parser struct {
	name     string
	toks     []token
	pos      int
	s        *Schema
	declLine map[string]int // type name -> line of its declaration
	rootTok  token
	sawNS    bool
	pending  []pendingField // fields whose named types resolve() resolves
}

func (p *parser) peek() token { return p.toks[p.pos] }

func (p *parser) next() token {
	t := p.toks[p.pos]
	if t.kind != tokEOF {
		p.pos++
	}
	return t
}

func (p *parser) errorf(t token, format string, args ...any) error {
	return fmt.Errorf("%s:%d:%d: %s", p.name, t.line, t.col, fmt.Sprintf(format, args...))
}

func (p *parser) isPunct(s string) bool {
	t := p.peek()
	return t.kind == tokPunct && t.text == s
}

func (p *parser) expectPunct(s string) (token, error) {
	t := p.next()
	if t.kind != tokPunct || t.text != s {
		return t, p.errorf(t, "expected '%s', found %s", s, t)
	}
	return t, nil
}

func (p *parser) expectIdent(what string) (token, error) {
	t := p.next()
	if t.kind != tokIdent {
		return t, p.errorf(t, "expected %s, found %s", what, t)
	}
	return t, nil
}

// qualifiedName parses ident ('.' ident)*.
func (p *parser) qualifiedName(what string) (string, token, error) {
	first, err := p.expectIdent(what)
	if err != nil {
		return "", first, err
	}
	name := first.text
	for p.isPunct(".") {
		p.next()
		t, err := p.expectIdent(what)
		if err != nil {
			return "", t, err
		}
		name += "." + t.text
	}
	return name, first, nil
}

// typeName strips the schema's own namespace from a qualified type name.
func (p *parser) typeName(name string, t token) (string, error) {
	if !strings.Contains(name, ".") {
		return name, nil
	}
	if p.s.Namespace != "" && strings.HasPrefix(name, p.s.Namespace+".") && !strings.Contains(name[len(p.s.Namespace)+1:], ".") {
		return name[len(p.s.Namespace)+1:], nil
	}
	return "", p.errorf(t, "type %s is not in namespace %q; other namespaces are not supported", name, p.s.Namespace)
}

func (p *parser) declare(t token) error {
	if _, ok := canonicalScalar(t.text); ok || t.text == "string" {
		return p.errorf(t, "%s is a built-in type name and cannot be declared", t.text)
	}
	if l, ok := p.declLine[t.text]; ok {
		return p.errorf(t, "%s is already declared on line %d", t.text, l)
	}
	p.declLine[t.text] = t.line
	return nil
}

func (p *parser) parse() error {
	for {
		t := p.next()
		switch {
		case t.kind == tokEOF:
			return nil
		case t.kind == tokPunct && t.text == ";":
			// flatc tolerates stray semicolons between declarations.
		case t.kind != tokIdent:
			return p.errorf(t, "expected a declaration, found %s", t)
		case t.text == "namespace":
			if p.sawNS {
				return p.errorf(t, "more than one namespace declaration is not supported")
			}
			name, nt, err := p.qualifiedName("namespace name")
			if err != nil {
				return err
			}
			if len(p.s.Tables)+len(p.s.Enums)+len(p.s.Unions) > 0 {
				return p.errorf(nt, "namespace must come before any type declaration")
			}
			p.s.Namespace, p.sawNS = name, true
			if _, err := p.expectPunct(";"); err != nil {
				return err
			}
		case t.text == "file_identifier" || t.text == "file_extension":
			st := p.next()
			if st.kind != tokString {
				return p.errorf(st, "expected a string after %s, found %s", t.text, st)
			}
			if t.text == "file_identifier" {
				if p.s.FileIdentifier != "" {
					return p.errorf(t, "file_identifier declared twice")
				}
				if len(st.text) != 4 {
					return p.errorf(st, "file_identifier must be exactly 4 bytes, got %q", st.text)
				}
				p.s.FileIdentifier = st.text
			} else {
				if p.s.FileExtension != "" {
					return p.errorf(t, "file_extension declared twice")
				}
				p.s.FileExtension = st.text
			}
			if _, err := p.expectPunct(";"); err != nil {
				return err
			}
		case t.text == "root_type":
			if p.s.RootType != "" {
				return p.errorf(t, "root_type declared twice")
			}
			name, nt, err := p.qualifiedName("root type name")
			if err != nil {
				return err
			}
			if name, err = p.typeName(name, nt); err != nil {
				return err
			}
			p.s.RootType, p.rootTok = name, nt
			if _, err := p.expectPunct(";"); err != nil {
				return err
			}
		case t.text == "enum":
			if err := p.parseEnum(); err != nil {
				return err
			}
		case t.text == "union":
			if err := p.parseUnion(); err != nil {
				return err
			}
		case t.text == "table":
			if err := p.parseTable(); err != nil {
				return err
			}
		case t.text == "struct", t.text == "include", t.text == "native_include",
			t.text == "attribute", t.text == "rpc_service":
			return p.errorf(t, "%s declarations are not supported by this parser (extend scripts/genschema/fbsparse and the verifier first)", t.text)
		default:
			return p.errorf(t, "unknown declaration keyword %s", t)
		}
	}
}

func (p *parser) rejectMetadata(what string) error {
	if p.isPunct("(") {
		return p.errorf(p.peek(), "attributes on %s are not supported", what)
	}
	return nil
}

func (p *parser) parseEnum() error {
	nt, err := p.expectIdent("enum name")
	if err != nil {
		return err
	}
	if err := p.declare(nt); err != nil {
		return err
	}
	if _, err := p.expectPunct(":"); err != nil {
		return p.errorf(nt, "enum %s needs an underlying integer type (enum %s : byte { ... })", nt.text, nt.text)
	}
	ut, err := p.expectIdent("underlying type")
	if err != nil {
		return err
	}
	under, ok := canonicalScalar(ut.text)
	if !ok || !isIntegerScalar(under) {
		return p.errorf(ut, "enum underlying type must be an integer type, found %s", ut.text)
	}
	if err := p.rejectMetadata("enums"); err != nil {
		return err
	}
	if _, err := p.expectPunct("{"); err != nil {
		return err
	}
	e := &Enum{Name: nt.text, Underlying: under}
	lo, hi := integerRange(under)
	seen := map[string]bool{}
	next := int64(0)
	for !p.isPunct("}") {
		vt, err := p.expectIdent("enum value name")
		if err != nil {
			return err
		}
		if seen[vt.text] {
			return p.errorf(vt, "enum %s: value %s declared twice", e.Name, vt.text)
		}
		seen[vt.text] = true
		v := next
		if p.isPunct("=") {
			p.next()
			numt := p.next()
			if numt.kind != tokNumber {
				return p.errorf(numt, "expected an integer value for %s.%s, found %s", e.Name, vt.text, numt)
			}
			v, err = parseInt(numt.text)
			if err != nil {
				return p.errorf(numt, "enum %s: bad value %s for %s: %v", e.Name, numt.text, vt.text, err)
			}
		}
		if v < lo || v > hi {
			return p.errorf(vt, "enum %s: value %s = %d does not fit in %s", e.Name, vt.text, v, under)
		}
		if p.isPunct("(") {
			return p.errorf(p.peek(), "attributes on enum values are not supported")
		}
		e.Values = append(e.Values, EnumValue{vt.text, v})
		next = v + 1
		if p.isPunct(",") {
			p.next()
			continue
		}
		if !p.isPunct("}") {
			return p.errorf(p.peek(), "expected ',' or '}' in enum %s, found %s", e.Name, p.peek())
		}
	}
	p.next()
	if len(e.Values) == 0 {
		return p.errorf(nt, "enum %s has no values", e.Name)
	}
	p.s.Enums = append(p.s.Enums, e)
	return nil
}

func (p *parser) parseUnion() error {
	nt, err := p.expectIdent("union name")
	if err != nil {
		return err
	}
	if err := p.declare(nt); err != nil {
		return err
	}
	if err := p.rejectMetadata("unions"); err != nil {
		return err
	}
	if _, err := p.expectPunct("{"); err != nil {
		return err
	}
	u := &Union{Name: nt.text}
	for !p.isPunct("}") {
		name, mt, err := p.qualifiedName("union member (a table name)")
		if err != nil {
			return err
		}
		if name, err = p.typeName(name, mt); err != nil {
			return err
		}
		if name == "NONE" {
			return p.errorf(mt, "union %s: NONE is implicit (type code 0) and cannot be declared", u.Name)
		}
		if p.isPunct(":") || p.isPunct("=") {
			return p.errorf(p.peek(), "union %s: aliased members and explicit type codes are not supported", u.Name)
		}
		if p.isPunct("(") {
			return p.errorf(p.peek(), "attributes on union members are not supported")
		}
		for _, m := range u.Members {
			if m == name {
				return p.errorf(mt, "union %s: member %s declared twice", u.Name, name)
			}
		}
		u.Members = append(u.Members, name)
		if p.isPunct(",") {
			p.next()
			continue
		}
		if !p.isPunct("}") {
			return p.errorf(p.peek(), "expected ',' or '}' in union %s, found %s", u.Name, p.peek())
		}
	}
	p.next()
	if len(u.Members) == 0 {
		return p.errorf(nt, "union %s has no members", u.Name)
	}
	if len(u.Members) > 255 {
		return p.errorf(nt, "union %s has %d members; type codes are one byte (at most 255 members)", u.Name, len(u.Members))
	}
	p.s.Unions = append(p.s.Unions, u)
	return nil
}

func (p *parser) parseTable() error {
	nt, err := p.expectIdent("table name")
	if err != nil {
		return err
	}
	if err := p.declare(nt); err != nil {
		return err
	}
	if err := p.rejectMetadata("tables"); err != nil {
		return err
	}
	if _, err := p.expectPunct("{"); err != nil {
		return err
	}
	t := &Table{Name: nt.text}
	for !p.isPunct("}") {
		f, err := p.parseField(t)
		if err != nil {
			return err
		}
		t.Fields = append(t.Fields, f)
	}
	p.next()
	p.s.Tables = append(p.s.Tables, t)
	return nil
}

// parseType parses a field type; named types are resolved later.
func (p *parser) parseType() (Type, token, error) {
	t := p.peek()
	if p.isPunct("[") {
		p.next()
		elem, et, err := p.parseType()
		if err != nil {
			return Type{}, et, err
		}
		if elem.Kind == TypeVector {
			return Type{}, et, p.errorf(et, "vectors of vectors are not allowed")
		}
		if _, err := p.expectPunct("]"); err != nil {
			return Type{}, t, err
		}
		return Type{Kind: TypeVector, Elem: &elem}, t, nil
	}
	name, nt, err := p.qualifiedName("a type")
	if err != nil {
		return Type{}, nt, err
	}
	if c, ok := canonicalScalar(name); ok {
		return Type{Kind: TypeScalar, Scalar: c}, nt, nil
	}
	if name == "string" {
		return Type{Kind: TypeString}, nt, nil
	}
	name, err = p.typeName(name, nt)
	if err != nil {
		return Type{}, nt, err
	}
	// Kind is resolved once every declaration has been read; the Name is
	// enough until then.
	return Type{Kind: -1, Name: name}, nt, nil
}

type pendingField struct {
	f       *Field
	typeTok token
	defTok  token
	table   *Table
}

func (p *parser) parseField(t *Table) (*Field, error) {
	ft, err := p.expectIdent("field name (or '}')")
	if err != nil {
		return nil, err
	}
	if t.Field(ft.text) != nil {
		return nil, p.errorf(ft, "table %s: field %s declared twice", t.Name, ft.text)
	}
	if _, err := p.expectPunct(":"); err != nil {
		return nil, err
	}
	typ, typeTok, err := p.parseType()
	if err != nil {
		return nil, err
	}
	f := &Field{Name: ft.text, Type: typ, Line: ft.line}
	var defTok token
	if p.isPunct("=") {
		p.next()
		defTok = p.next()
		switch {
		case defTok.kind == tokNumber:
		case defTok.kind == tokIdent && !p.isPunct("."):
		default:
			return nil, p.errorf(defTok, "expected a default value (number, true/false or enum value name), found %s", defTok)
		}
		f.Default = defTok.text
	}
	if p.isPunct("(") {
		p.next()
		for {
			at, err := p.expectIdent("attribute name")
			if err != nil {
				return nil, err
			}
			switch at.text {
			case "force_align":
				if _, err := p.expectPunct(":"); err != nil {
					return nil, err
				}
				vt := p.next()
				n, err := parseInt(vt.text)
				if vt.kind != tokNumber || err != nil || n < 1 || n > 256 || n&(n-1) != 0 {
					return nil, p.errorf(vt, "force_align needs a power of two from 1 to 256, found %s", vt)
				}
				f.ForceAlign = int(n)
			case "deprecated":
				f.Deprecated = true
			default:
				return nil, p.errorf(at, "attribute %s is not supported by this parser (only force_align and deprecated are)", at.text)
			}
			if p.isPunct(",") {
				p.next()
				continue
			}
			if _, err := p.expectPunct(")"); err != nil {
				return nil, err
			}
			break
		}
	}
	if p.isPunct("=") {
		return nil, p.errorf(p.peek(), "the default value must come before the attributes (name:type = default (attrs);)")
	}
	if _, err := p.expectPunct(";"); err != nil {
		return nil, err
	}
	p.pending = append(p.pending, pendingField{f, typeTok, defTok, t})
	return f, nil
}

// resolve resolves named types, validates everything that depends on the
// whole file and assigns vtable slots.
func (p *parser) resolve() error {
	s := p.s
	if !p.sawNS {
		return fmt.Errorf("%s: no namespace declaration", p.name)
	}
	kinds := map[string]TypeKind{}
	for _, e := range s.Enums {
		kinds[e.Name] = TypeEnum
	}
	for _, u := range s.Unions {
		kinds[u.Name] = TypeUnion
	}
	for _, t := range s.Tables {
		kinds[t.Name] = TypeTable
	}
	for _, u := range s.Unions {
		for _, m := range u.Members {
			if kinds[m] != TypeTable || s.Table(m) == nil {
				return fmt.Errorf("%s:%d: union %s: member %s is not a table declared in this file", p.name, p.declLine[u.Name], u.Name, m)
			}
		}
	}
	resolveNamed := func(typ *Type, tok token) error {
		k, ok := kinds[typ.Name]
		if !ok {
			return p.errorf(tok, "unknown type %s", typ.Name)
		}
		typ.Kind = k
		if k == TypeEnum {
			typ.Scalar = s.Enum(typ.Name).Underlying
		}
		return nil
	}
	for _, pf := range p.pending {
		f := pf.f
		if f.Type.Kind == -1 {
			if err := resolveNamed(&f.Type, pf.typeTok); err != nil {
				return err
			}
		}
		if f.Type.Kind == TypeVector && f.Type.Elem.Kind == -1 {
			if err := resolveNamed(f.Type.Elem, pf.typeTok); err != nil {
				return err
			}
			if f.Type.Elem.Kind == TypeUnion {
				return p.errorf(pf.typeTok, "table %s: field %s: vectors of unions are not supported", pf.table.Name, f.Name)
			}
		}
		if f.ForceAlign != 0 && f.Type.Kind != TypeVector {
			return p.errorf(pf.typeTok, "table %s: field %s: force_align is only supported on vectors", pf.table.Name, f.Name)
		}
		if f.Type.Kind == TypeUnion {
			if other := pf.table.Field(f.Name + "_type"); other != nil {
				return p.errorf(pf.typeTok, "table %s: union field %s needs the name %s_type for its type code, but a field has that name", pf.table.Name, f.Name, f.Name)
			}
		}
		if f.Default != "" {
			if err := p.checkDefault(pf); err != nil {
				return err
			}
		}
	}
	for _, t := range s.Tables {
		slot := 0
		for _, f := range t.Fields {
			if f.Type.Kind == TypeUnion {
				slot++ // the type code comes first
			}
			f.Slot = slot
			slot++
		}
	}
	if s.RootType == "" {
		return fmt.Errorf("%s: no root_type declaration", p.name)
	}
	if kinds[s.RootType] != TypeTable {
		return p.errorf(p.rootTok, "root_type %s is not a table declared in this file", s.RootType)
	}
	return nil
}

func (p *parser) checkDefault(pf pendingField) error {
	f, tok := pf.f, pf.defTok
	bad := func(why string) error {
		return p.errorf(tok, "table %s: field %s: bad default %s: %s", pf.table.Name, f.Name, f.Default, why)
	}
	switch f.Type.Kind {
	case TypeScalar:
		switch {
		case f.Type.Scalar == "bool":
			if f.Default != "true" && f.Default != "false" && f.Default != "0" && f.Default != "1" {
				return bad("want true, false, 0 or 1")
			}
		case f.Type.Scalar == "float" || f.Type.Scalar == "double":
			switch f.Default {
			case "nan", "inf", "+inf", "-inf", "infinity", "+infinity", "-infinity":
				return nil
			}
			if _, err := strconv.ParseFloat(f.Default, 64); err != nil {
				return bad("not a number")
			}
		default:
			v, err := parseInt(f.Default)
			if err != nil {
				return bad("not an integer")
			}
			if lo, hi := integerRange(f.Type.Scalar); v < lo || v > hi {
				return bad("out of range for " + f.Type.Scalar)
			}
		}
	case TypeEnum:
		e := p.s.Enum(f.Type.Name)
		if v, err := parseInt(f.Default); err == nil {
			for _, ev := range e.Values {
				if ev.Value == v {
					return nil
				}
			}
			return bad("not a value of enum " + e.Name)
		}
		for _, ev := range e.Values {
			if ev.Name == f.Default {
				return nil
			}
		}
		return bad("not a value of enum " + e.Name)
	default:
		return bad("defaults are only supported on scalar and enum fields")
	}
	return nil
}

func parseInt(s string) (int64, error) {
	neg := false
	t := s
	if strings.HasPrefix(t, "-") {
		neg, t = true, t[1:]
	} else if strings.HasPrefix(t, "+") {
		t = t[1:]
	}
	base := 10
	if strings.HasPrefix(t, "0x") || strings.HasPrefix(t, "0X") {
		base, t = 16, t[2:]
	}
	u, err := strconv.ParseUint(t, base, 64)
	if err != nil {
		return 0, fmt.Errorf("%q is not an integer", s)
	}
	if neg {
		if u > 1<<63 {
			return 0, fmt.Errorf("%s is out of range", s)
		}
		return -int64(u), nil
	}
	if u > math.MaxInt64 {
		return 0, fmt.Errorf("%s is out of range", s)
	}
	return int64(u), nil
}
