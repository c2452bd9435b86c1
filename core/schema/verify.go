package schema

import (
	"encoding/binary"
	"fmt"
	"strconv"
	"strings"
)

// Identifier returns the FlatBuffers file identifier of TensorFlow Lite
// models, "TFL3" (bytes 4 to 8 of every model).
func Identifier() string { return fileIdentifier }

// VerifyError is the error Verify returns: what is wrong, and where.
type VerifyError struct {
	// Path is the place of the problem in schema terms, e.g.
	// "model.subgraphs[0].tensors[12].shape" or
	// "model.subgraphs[0].operators[5].builtin_options (Conv2DOptions)";
	// it is empty for problems with the buffer as a whole.
	Path string
	// Reason says what is wrong there.
	Reason string
	// Needs, when the problem is something running past the end of the
	// buffer, is the buffer size that would hold it (so a caller can say
	// "the file ends at byte N but the model needs M"); 0 otherwise.
	Needs int64
}

func (e *VerifyError) Error() string {
	if e.Path == "" {
		return e.Reason
	}
	return e.Path + ": " + e.Reason
}

// Verify checks that buf is a well-formed TensorFlow Lite FlatBuffer
// (tflite.fbs, identifier "TFL3"), the way flatc's C++ verifier does, so
// that the generated tflitefb code can read it without going out of bounds:
//
//   - the buffer holds at least 8 bytes, is smaller than 2 GiB and carries the
//     identifier "TFL3";
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
// its encoding. Data is never copied; the bytes of Buffer.data vectors are
// only range-checked, so verifying takes time proportional to the number of
// tables, not the size of the weights.
//
// Errors are *VerifyError values.
func Verify(buf []byte) error {
	return verify(buf, &defaultLimits)
}

type limits struct {
	maxDepth    int   // tables nested deeper than this are an error
	maxTables   int   // visiting more tables than this is an error
	tableSlack  int   // visiting more than this plus one table per 4 bytes is an error
	maxSize     int64 // buffers of this size or more are an error
	unpackSlack int64 // bytes UnPack may copy beyond 4 times the buffer size
}

var defaultLimits = limits{
	maxDepth:    64,        // flatbuffers::Verifier's default max_depth
	maxTables:   1_000_000, // flatbuffers::Verifier's default max_tables
	tableSlack:  10_000,
	maxSize:     1<<31 - 1, // flatbuffers::FLATBUFFERS_MAX_BUFFER_SIZE
	unpackSlack: 64 << 20,
}

// The descriptions in verify_tables_generated.go use these types.

type fieldKind uint8

const (
	kindScalar       fieldKind = iota // inline scalar of size bytes
	kindString                        // offset to a string
	kindTable                         // offset to a table of type ref
	kindUnionType                     // ubyte type code of union ref
	kindUnion                         // offset to a member table of union ref
	kindVector                        // offset to a vector of size-byte scalars (copied by UnPack)
	kindBytes                         // offset to a [ubyte] vector (aliased by UnPack, never copied)
	kindVectorString                  // offset to a vector of strings
	kindVectorTable                   // offset to a vector of tables of type ref
	kindDeprecated                    // a deprecated field: nothing reads it, so it is not checked (as in flatc)
)

// fieldDesc describes vtable slot i of a table (its entry is at byte 4+2*i
// of the vtable).
type fieldDesc struct {
	name string
	kind fieldKind
	size uint8  // inline size (kindScalar, kindUnionType), element size (kindVector, kindBytes)
	ref  uint16 // index into tables (kindTable, kindVectorTable) or unions (kindUnionType, kindUnion)
}

type tableDesc struct {
	name   string
	fields []fieldDesc // by vtable slot
}

type unionDesc struct {
	name    string
	members []uint16 // members[code-1] is the index into tables of type code code
}

// rootName is the first element of every error path: "model".
var rootName = strings.ToLower(tables[rootTable].name)

type pathElem struct {
	name   string // field name
	index  int    // element index in a vector field, or -1
	member string // member table of a union field, or ""
}

type verifier struct {
	buf      []byte
	size     int64
	lim      *limits
	depth    int
	tables   int   // tables visited
	maxTabs  int   // limit of tables
	unpacked int64 // bytes UnPack would copy from vectors
	budget   int64 // limit of unpacked
	path     []pathElem
}

func verify(buf []byte, lim *limits) error {
	size := int64(len(buf))
	if size < 8 {
		return &VerifyError{Reason: fmt.Sprintf("not a TensorFlow Lite model: %d bytes is too short for a FlatBuffer (need at least 8)", size)}
	}
	if size >= lim.maxSize {
		return &VerifyError{Reason: fmt.Sprintf("buffer of %d bytes is too large: a FlatBuffer must be smaller than %d bytes", size, lim.maxSize)}
	}
	if id := string(buf[4:8]); id != fileIdentifier {
		return &VerifyError{Reason: fmt.Sprintf("not a TensorFlow Lite model: file identifier is %q, want %q", id, fileIdentifier)}
	}
	v := &verifier{
		buf:    buf,
		size:   size,
		lim:    lim,
		budget: lim.unpackSlack + 4*size,
		path:   make([]pathElem, 0, 16),
	}
	v.maxTabs = lim.maxTables
	if n := int(size/4) + lim.tableSlack; n < v.maxTabs {
		v.maxTabs = n
	}
	v.push(rootName)
	root, err := v.follow(0)
	if err != nil {
		return err
	}
	return v.table(root, rootTable)
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
	return &VerifyError{Path: v.pathString(), Reason: fmt.Sprintf(format, args...)}
}

// failPast is fail for something that would need the buffer to be need
// bytes long.
func (v *verifier) failPast(need int64, format string, args ...any) error {
	return &VerifyError{Path: v.pathString(), Reason: fmt.Sprintf(format, args...), Needs: need}
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

// table verifies the table of type tables[ti] at byte t.
func (v *verifier) table(t int64, ti uint16) error {
	desc := &tables[ti]
	v.depth++
	if v.depth > v.lim.maxDepth {
		return v.fail("%s table at byte %d: tables are nested more than %d deep", desc.name, t, v.lim.maxDepth)
	}
	v.tables++
	if v.tables > v.maxTabs {
		if v.maxTabs < v.lim.maxTables {
			return v.fail("%s table at byte %d: more than %d tables reached in a %d-byte buffer (the limit is one per 4 bytes plus %d): offsets share subtrees", desc.name, t, v.maxTabs, v.size, v.lim.tableSlack)
		}
		return v.fail("%s table at byte %d: more than %d tables reached (offsets shared or looping?)", desc.name, t, v.lim.maxTables)
	}
	size := v.size
	if t+4 > size {
		return v.failPast(t+4, "%s table at byte %d: its 4-byte vtable offset runs past the end of the %d-byte buffer", desc.name, t, size)
	}
	soff := int64(int32(binary.LittleEndian.Uint32(v.buf[t:])))
	vt := t - soff
	if vt < 0 || vt+4 > size {
		return v.fail("%s table at byte %d: its vtable offset %d points to byte %d, outside the %d-byte buffer", desc.name, t, soff, vt, size)
	}
	vsize := v.u16(vt)
	if vsize < 4 || vsize&1 != 0 {
		return v.fail("%s table at byte %d: its vtable at byte %d has size %d, want an even size of at least 4", desc.name, t, vt, vsize)
	}
	if vt+vsize > size {
		return v.failPast(vt+vsize, "%s table at byte %d: its vtable at byte %d with size %d runs past the end of the %d-byte buffer", desc.name, t, vt, vsize, size)
	}
	tsize := v.u16(vt + 2)
	if t+tsize > size {
		return v.failPast(t+tsize, "%s table at byte %d with inline size %d runs past the end of the %d-byte buffer", desc.name, t, tsize, size)
	}
	fields := desc.fields
	if n := int((vsize - 4) / 2); len(fields) > n {
		fields = fields[:n] // the rest are absent (an older writer)
	}
	var utype byte // the type code of the union whose value slot comes next
	for i := range fields {
		f := &fields[i]
		if f.kind == kindDeprecated {
			continue
		}
		fo := v.u16(vt + 4 + 2*int64(i))
		if fo == 0 {
			if f.kind == kindUnionType {
				utype = 0
			}
			continue
		}
		fsize := int64(4)
		if f.kind == kindScalar || f.kind == kindUnionType {
			fsize = int64(f.size)
		}
		if fo+fsize > tsize {
			return v.fail("field %d (%s) at offset %d with size %d runs past the end of the table (inline size %d)", i, f.name, fo, fsize, tsize)
		}
		p := t + fo
		switch f.kind {
		case kindScalar:
		case kindUnionType:
			utype = v.buf[p]
			if u := &unions[f.ref]; int(utype) > len(u.members) {
				v.push(f.name)
				return v.fail("unknown %s type code %d (valid codes are 0 to %d)", u.name, utype, len(u.members))
			}
		default:
			v.push(f.name)
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
func (v *verifier) offsetField(p int64, f *fieldDesc, utype byte) error {
	tgt, err := v.follow(p)
	if err != nil {
		return err
	}
	switch f.kind {
	case kindString:
		return v.str(tgt)
	case kindTable:
		return v.table(tgt, f.ref)
	case kindUnion:
		if utype == 0 {
			return nil // NONE: readers never look at the value
		}
		ti := unions[f.ref].members[utype-1]
		v.path[len(v.path)-1].member = tables[ti].name
		return v.table(tgt, ti)
	case kindBytes:
		_, err := v.vector(tgt, 1)
		return err
	case kindVector:
		n, err := v.vector(tgt, int64(f.size))
		if err != nil {
			return err
		}
		return v.charge(n * int64(f.size))
	case kindVectorString:
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
	case kindVectorTable:
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
			if err := v.table(t, f.ref); err != nil {
				return err
			}
		}
		v.path[top].index = -1
		return nil
	}
	return v.fail("internal error: unknown field kind %d", f.kind)
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
