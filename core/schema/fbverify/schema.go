// Package fbverify is a table-driven FlatBuffers verifier: it checks that
// untrusted bytes are a well-formed buffer of one schema, the way flatc's
// C++ verifier does, before the flatc-generated Go code (which trusts its
// input completely) may read them.
//
// A Schema describes what the verifier needs of a .fbs file: the file
// identifier, the root table, and every table's fields by vtable slot and
// every union's members. scripts/genschema generates one Schema value per
// schema from the .fbs file (core/schema for tflite.fbs, core/schema/metaverify
// for metadata_schema.fbs); those packages wrap Schema.Verify.
package fbverify

import "fmt"

// Kind is the kind of a table field, as far as verifying it goes.
type Kind uint8

const (
	KindScalar       Kind = iota // inline scalar of Size bytes
	KindString                   // offset to a string
	KindTable                    // offset to a table of type Tables[Ref]
	KindUnionType                // ubyte type code of union Unions[Ref]
	KindUnion                    // offset to a member table of union Unions[Ref]
	KindVector                   // offset to a vector of Size-byte scalars (copied by UnPack)
	KindBytes                    // offset to a [ubyte] vector (aliased by UnPack, never copied)
	KindVectorString             // offset to a vector of strings
	KindVectorTable              // offset to a vector of tables of type Tables[Ref]
	KindDeprecated               // a deprecated field: nothing reads it, so it is not checked (as in flatc)
	numKinds
)

// Field describes vtable slot i of a table (its entry is at byte 4+2*i of
// the vtable). A union field takes two slots, its KindUnionType type code
// first.
type Field struct {
	Name string
	Kind Kind
	// Size is the inline size of a KindScalar or KindUnionType field and the
	// element size of a KindVector or KindBytes one; it is unused otherwise.
	Size uint8
	// Ref is the index into Schema.Tables (KindTable, KindVectorTable) or
	// Schema.Unions (KindUnionType, KindUnion) the field refers to.
	Ref uint16
}

// Table describes a table: its fields by vtable slot.
type Table struct {
	Name   string
	Fields []Field
}

// Union describes a union: Members[code-1] is the index into
// Schema.Tables of the member with type code code (code 0 is NONE).
type Union struct {
	Name    string
	Members []uint16
}

// Schema describes a FlatBuffers schema for Verify.
type Schema struct {
	// What names what a valid buffer is, for errors: "not a <What>: ...",
	// e.g. "TensorFlow Lite model".
	What string
	// FileIdentifier is the schema's 4-byte file_identifier (bytes 4 to 8
	// of every buffer).
	FileIdentifier string
	// Root is the index into Tables of the root_type. The lowercased name of
	// that table is the first element of every error path ("model").
	Root   uint16
	Tables []Table
	Unions []Union
}

// Check reports whether s is consistent: an identifier of 4 bytes, a root
// table, known field kinds, and every reference to a table or union in
// range. Verify assumes a consistent schema (it indexes Tables and Unions
// by the references without checking them).
func (s *Schema) Check() error {
	if len(s.FileIdentifier) != 4 {
		return fmt.Errorf("file identifier %q is not 4 bytes", s.FileIdentifier)
	}
	if int(s.Root) >= len(s.Tables) {
		return fmt.Errorf("root table %d is out of range (%d tables)", s.Root, len(s.Tables))
	}
	for _, t := range s.Tables {
		for i, f := range t.Fields {
			var n int
			switch f.Kind {
			case KindTable, KindVectorTable:
				n = len(s.Tables)
			case KindUnionType, KindUnion:
				n = len(s.Unions)
			}
			if f.Kind >= numKinds {
				return fmt.Errorf("table %s: field %d (%s) has unknown kind %d", t.Name, i, f.Name, f.Kind)
			}
			if n > 0 && int(f.Ref) >= n || n == 0 && f.Ref != 0 {
				return fmt.Errorf("table %s: field %d (%s) refers to %d, out of range", t.Name, i, f.Name, f.Ref)
			}
			if (f.Kind == KindScalar || f.Kind == KindVector || f.Kind == KindBytes) && f.Size == 0 {
				return fmt.Errorf("table %s: field %d (%s) has size 0", t.Name, i, f.Name)
			}
			if f.Kind == KindUnionType && f.Size != 1 {
				return fmt.Errorf("table %s: field %d (%s) is a union type code of size %d, want 1", t.Name, i, f.Name, f.Size)
			}
		}
	}
	for _, u := range s.Unions {
		if len(u.Members) > 255 {
			return fmt.Errorf("union %s has %d members, more than a ubyte type code holds", u.Name, len(u.Members))
		}
		for i, m := range u.Members {
			if int(m) >= len(s.Tables) {
				return fmt.Errorf("union %s: member %d refers to table %d, out of range", u.Name, i+1, m)
			}
		}
	}
	return nil
}

// Error is the error Verify returns: what is wrong, and where.
type Error struct {
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

func (e *Error) Error() string {
	if e.Path == "" {
		return e.Reason
	}
	return e.Path + ": " + e.Reason
}

// Limits bound the work of Verify (see there).
type Limits struct {
	MaxDepth    int   // tables nested deeper than this are an error
	MaxTables   int   // visiting more tables than this is an error
	TableSlack  int   // visiting more than this plus one table per 4 bytes is an error
	MaxSize     int64 // buffers of this size or more are an error
	UnpackSlack int64 // bytes UnPack may copy beyond 4 times the buffer size
}

// DefaultLimits returns the limits Verify applies.
func DefaultLimits() Limits {
	return Limits{
		MaxDepth:    64,        // flatbuffers::Verifier's default max_depth
		MaxTables:   1_000_000, // flatbuffers::Verifier's default max_tables
		TableSlack:  10_000,
		MaxSize:     1<<31 - 1, // flatbuffers::FLATBUFFERS_MAX_BUFFER_SIZE
		UnpackSlack: 64 << 20,
	}
}
