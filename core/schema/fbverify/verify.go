package fbverify

import (
	"encoding/binary"
	"fmt"
	"strconv"
	"strings"
)

// Verify checks that buf is a well-formed FlatBuffer of schema s, the way
// flatc's C++ verifier does, so that the flatc-generated code can read it
// without going out of bounds:
//
//   - the buffer holds at least 8 bytes, is smaller than 2 GiB and carries the
//     identifier s.FileIdentifier;
//   - every table reached from the root has its vtable, its inline part and
//     every field the schema knows of inside the buffer (fields also inside the
//     table's inline size), and every offset points forward into the buffer;
//   - every string's bytes and NUL terminator, and every vector's elements,
//     are inside the buffer (tables and strings in vectors are checked one by
//     one);
//   - every union type code names a member of its union; its value is checked
//     as that member's table. As in TensorFlow Lite's verifier, a member type
//     without a value is accepted, and so is a value with type NONE (readers
//     ignore it; only its offset is checked);
//   - tables nest at most 64 deep and at most 1,000,000 tables are visited,
//     like flatc's defaults, which bounds the work on crafted files whose
//     offsets share subtrees.
//
// Beyond flatc, two limits keep the work and UnPack's allocations
// proportional to the buffer's size. A file whose offsets share subtrees (a
// vector of 1000 subgraphs that are all the same subgraph of 1000
// tensors...) costs what it expands to, not what it weighs, so:
//
//   - at most one table per 4 bytes of buffer, plus 10,000, may be visited
//     (without shared subtrees each table is visited once, and every table
//     takes at least 8 bytes: its vtable offset and the offset to it);
//   - the vectors that UnPack copies, counted each time they are reached,
//     may add up to at most 4 times the buffer size plus 64 MiB.
//
// Alignment is not checked (the Go runtime reads unaligned), nor are field
// values (enum ranges, tensor indices): those are the model's meaning, not
// its encoding. Data is never copied; the bytes of [ubyte] vectors (such as
// TensorFlow Lite's Buffer.data) are only range-checked, so verifying takes
// time proportional to the number of tables, not the size of the weights.
//
// s must be consistent (see Check; the generated schemas' tests check
// theirs). Errors are *Error values.
func (s *Schema) Verify(buf []byte) error {
	return s.VerifyLimits(buf, DefaultLimits())
}

type pathElem struct {
	name   string // field name
	index  int    // element index in a vector field, or -1
	member string // member table of a union field, or ""
}

type verifier struct {
	s        *Schema
	buf      []byte
	size     int64
	lim      Limits
	depth    int
	tables   int   // tables visited
	maxTabs  int   // limit of tables
	unpacked int64 // bytes UnPack would copy from vectors
	budget   int64 // limit of unpacked
	path     []pathElem
}

// VerifyLimits is Verify with the limits lim in place of DefaultLimits():
// MaxDepth, MaxTables and TableSlack for the tables, UnpackSlack for the
// bytes UnPack may copy beyond 4 times the buffer size, and MaxSize for the
// buffer.
func (s *Schema) VerifyLimits(buf []byte, lim Limits) error {
	size := int64(len(buf))
	if size < 8 {
		return &Error{Reason: fmt.Sprintf("not a %s: %d bytes is too short for a FlatBuffer (need at least 8)", s.What, size)}
	}
	if size >= lim.MaxSize {
		return &Error{Reason: fmt.Sprintf("buffer of %d bytes is too large: a FlatBuffer must be smaller than %d bytes", size, lim.MaxSize)}
	}
	if id := string(buf[4:8]); id != s.FileIdentifier {
		return &Error{Reason: fmt.Sprintf("not a %s: file identifier is %q, want %q", s.What, id, s.FileIdentifier)}
	}
	v := &verifier{
		s:      s,
		buf:    buf,
		size:   size,
		lim:    lim,
		budget: lim.UnpackSlack + 4*size,
		path:   make([]pathElem, 0, 16),
	}
	v.maxTabs = lim.MaxTables
	if n := int(size/4) + lim.TableSlack; n < v.maxTabs {
		v.maxTabs = n
	}
	v.push(strings.ToLower(s.Tables[s.Root].Name))
	root, err := v.follow(0)
	if err != nil {
		return err
	}
	return v.table(root, s.Root)
}

func (v *verifier) push(name string) {
	v.path = append(v.path, pathElem{name: name, index: -1})
}

func (v *verifier) pop() { v.path = v.path[:len(v.path)-1] }

func (v *verifier) pathString() string {
	var b strings.Builder
	for i, e := range v.path {
		if i > 0 {
			b.WriteByte('.')
		}
		b.WriteString(e.name)
		if e.index >= 0 {
			b.WriteByte('[')
			b.WriteString(strconv.Itoa(e.index))
			b.WriteByte(']')
		}
		if e.member != "" {
			b.WriteString(" (")
			b.WriteString(e.member)
			b.WriteByte(')')
		}
	}
	return b.String()
}

func (v *verifier) fail(format string, args ...any) error {
	return &Error{Path: v.pathString(), Reason: fmt.Sprintf(format, args...)}
}

// failPast is fail for something that would need the buffer to be need
// bytes long.
func (v *verifier) failPast(need int64, format string, args ...any) error {
	return &Error{Path: v.pathString(), Reason: fmt.Sprintf(format, args...), Needs: need}
}

func (v *verifier) u16(p int64) int64 { return int64(binary.LittleEndian.Uint16(v.buf[p:])) }
func (v *verifier) u32(p int64) int64 { return int64(binary.LittleEndian.Uint32(v.buf[p:])) }

// follow reads the uoffset at p and returns the position it points to,
// checking it like flatbuffers::Verifier::VerifyOffset: not 0, below 2^31
// (offsets only point forward) and inside the buffer.
func (v *verifier) follow(p int64) (int64, error) {
	if p < 0 || p+4 > v.size {
		return 0, v.failPast(p+4, "4-byte offset at byte %d runs past the end of the %d-byte buffer", p, v.size)
	}
	o := v.u32(p)
	if o == 0 {
		return 0, v.fail("offset at byte %d is 0", p)
	}
	if o >= 1<<31 {
		return 0, v.fail("offset %d at byte %d is out of range (offsets must be below 2^31)", o, p)
	}
	if p+o >= v.size {
		return 0, v.failPast(p+o+1, "offset %d at byte %d points to byte %d, past the end of the %d-byte buffer", o, p, p+o, v.size)
	}
	return p + o, nil
}

// table verifies the table of type v.s.Tables[ti] at byte t.
func (v *verifier) table(t int64, ti uint16) error {
	desc := &v.s.Tables[ti]
	v.depth++
	if v.depth > v.lim.MaxDepth {
		return v.fail("%s table at byte %d: tables are nested more than %d deep", desc.Name, t, v.lim.MaxDepth)
	}
	v.tables++
	if v.tables > v.maxTabs {
		if v.maxTabs < v.lim.MaxTables {
			return v.fail("%s table at byte %d: more than %d tables reached in a %d-byte buffer (the limit is one per 4 bytes plus %d): offsets share subtrees", desc.Name, t, v.maxTabs, v.size, v.lim.TableSlack)
		}
		return v.fail("%s table at byte %d: more than %d tables reached (offsets shared or looping?)", desc.Name, t, v.lim.MaxTables)
	}
	size := v.size
	if t+4 > size {
		return v.failPast(t+4, "%s table at byte %d: its 4-byte vtable offset runs past the end of the %d-byte buffer", desc.Name, t, size)
	}
	soff := int64(int32(binary.LittleEndian.Uint32(v.buf[t:])))
	vt := t - soff
	if vt < 0 || vt+4 > size {
		return v.fail("%s table at byte %d: its vtable offset %d points to byte %d, outside the %d-byte buffer", desc.Name, t, soff, vt, size)
	}
	vsize := v.u16(vt)
	if vsize < 4 || vsize&1 != 0 {
		return v.fail("%s table at byte %d: its vtable at byte %d has size %d, want an even size of at least 4", desc.Name, t, vt, vsize)
	}
	if vt+vsize > size {
		return v.failPast(vt+vsize, "%s table at byte %d: its vtable at byte %d with size %d runs past the end of the %d-byte buffer", desc.Name, t, vt, vsize, size)
	}
	tsize := v.u16(vt + 2)
	if t+tsize > size {
		return v.failPast(t+tsize, "%s table at byte %d with inline size %d runs past the end of the %d-byte buffer", desc.Name, t, tsize, size)
	}
	fields := desc.Fields
	if n := int((vsize - 4) / 2); len(fields) > n {
		fields = fields[:n] // the rest are absent (an older writer)
	}
	var utype byte // the type code of the union whose value slot comes next
	for i := range fields {
		f := &fields[i]
		if f.Kind == KindDeprecated {
			continue
		}
		fo := v.u16(vt + 4 + 2*int64(i))
		if fo == 0 {
			if f.Kind == KindUnionType {
				utype = 0
			}
			continue
		}
		fsize := int64(4)
		if f.Kind == KindScalar || f.Kind == KindUnionType {
			fsize = int64(f.Size)
		}
		if fo+fsize > tsize {
			return v.fail("field %d (%s) at offset %d with size %d runs past the end of the table (inline size %d)", i, f.Name, fo, fsize, tsize)
		}
		p := t + fo
		switch f.Kind {
		case KindScalar:
		case KindUnionType:
			utype = v.buf[p]
			if u := &v.s.Unions[f.Ref]; int(utype) > len(u.Members) {
				v.push(f.Name)
				return v.fail("unknown %s type code %d (valid codes are 0 to %d)", u.Name, utype, len(u.Members))
			}
		default:
			v.push(f.Name)
			if err := v.offsetField(p, f, utype); err != nil {
				return err
			}
			v.pop()
		}
	}
	v.depth--
	return nil
}

// offsetField verifies the string, table, union value or vector that the
// offset field f at byte p points to; the path ends with f.
func (v *verifier) offsetField(p int64, f *Field, utype byte) error {
	tgt, err := v.follow(p)
	if err != nil {
		return err
	}
	switch f.Kind {
	case KindString:
		return v.str(tgt)
	case KindTable:
		return v.table(tgt, f.Ref)
	case KindUnion:
		if utype == 0 {
			return nil // NONE: readers never look at the value
		}
		ti := v.s.Unions[f.Ref].Members[utype-1]
		v.path[len(v.path)-1].member = v.s.Tables[ti].Name
		return v.table(tgt, ti)
	case KindBytes:
		_, err := v.vector(tgt, 1)
		return err
	case KindVector:
		n, err := v.vector(tgt, int64(f.Size))
		if err != nil {
			return err
		}
		return v.charge(n * int64(f.Size))
	case KindVectorString:
		n, err := v.vector(tgt, 4)
		if err != nil {
			return err
		}
		if err := v.charge(16 * n); err != nil {
			return err
		}
		e := &v.path[len(v.path)-1]
		for i := int64(0); i < n; i++ {
			e.index = int(i)
			s, err := v.follow(tgt + 4 + 4*i)
			if err != nil {
				return err
			}
			if err := v.str(s); err != nil {
				return err
			}
		}
		e.index = -1
		return nil
	case KindVectorTable:
		n, err := v.vector(tgt, 4)
		if err != nil {
			return err
		}
		if err := v.charge(8 * n); err != nil {
			return err
		}
		top := len(v.path) - 1
		for i := int64(0); i < n; i++ {
			v.path[top].index = int(i)
			t, err := v.follow(tgt + 4 + 4*i)
			if err != nil {
				return err
			}
			if err := v.table(t, f.Ref); err != nil {
				return err
			}
		}
		v.path[top].index = -1
		return nil
	}
	return v.fail("internal error: unknown field kind %d", f.Kind)
}

// vector checks the vector of elemSize-byte elements at byte p and returns
// its length.
func (v *verifier) vector(p, elemSize int64) (int64, error) {
	if p+4 > v.size {
		return 0, v.failPast(p+4, "4-byte vector length at byte %d runs past the end of the %d-byte buffer", p, v.size)
	}
	n := v.u32(p)
	if p+4+n*elemSize > v.size {
		return 0, v.failPast(p+4+n*elemSize, "vector of %d-byte elements with length %d runs past the end of the %d-byte buffer (vector at byte %d)", elemSize, n, v.size, p)
	}
	return n, nil
}

// str checks the string at byte p: its length, bytes and NUL terminator.
func (v *verifier) str(p int64) error {
	if p+4 > v.size {
		return v.failPast(p+4, "4-byte string length at byte %d runs past the end of the %d-byte buffer", p, v.size)
	}
	n := v.u32(p)
	end := p + 4 + n
	if end+1 > v.size {
		return v.failPast(end+1, "string of length %d and its NUL terminator run past the end of the %d-byte buffer (string at byte %d)", n, v.size, p)
	}
	if v.buf[end] != 0 {
		return v.fail("string of length %d at byte %d is not NUL-terminated", n, p)
	}
	return nil
}

// charge counts n bytes that UnPack would allocate and fails once the total
// exceeds the budget.
func (v *verifier) charge(n int64) error {
	v.unpacked += n
	if v.unpacked > v.budget {
		return v.fail("vectors reached through shared offsets add up to more than %d bytes, which unpacking a %d-byte buffer may allocate", v.budget, v.size)
	}
	return nil
}
