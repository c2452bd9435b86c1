package fbsparse

// The parser: declarations, fields and their defaults, and name resolution.

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

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
