package fbsparse

import (
	"fmt"
	"strings"

	"litequant/core/schema/fbverify"
)

// CompareTables checks a compiled verifier description v against the
// parsed schema s and returns the differences (none when they agree). It
// derives what each slot must be from the parser's slots by itself, not
// through VerifySchema, so the generated packages' tests check the
// generator as well as the generated file.
func CompareTables(s *Schema, v *fbverify.Schema) []string {
	var diffs []string
	errf := func(format string, args ...any) { diffs = append(diffs, fmt.Sprintf(format, args...)) }
	if len(v.Tables) != len(s.Tables) || len(v.Unions) != len(s.Unions) {
		return []string{fmt.Sprintf("%d tables and %d unions compiled, schema has %d and %d", len(v.Tables), len(v.Unions), len(s.Tables), len(s.Unions))}
	}
	if err := v.Check(); err != nil {
		return []string{"compiled schema is inconsistent: " + err.Error()}
	}
	if v.Tables[v.Root].Name != s.RootType || v.FileIdentifier != s.FileIdentifier {
		errf("root %s, identifier %q; schema has %s, %q", v.Tables[v.Root].Name, v.FileIdentifier, s.RootType, s.FileIdentifier)
	}
	kinds := map[SlotKind]fbverify.Kind{
		SlotScalar: fbverify.KindScalar, SlotString: fbverify.KindString, SlotTable: fbverify.KindTable,
		SlotUnionType: fbverify.KindUnionType, SlotUnion: fbverify.KindUnion, SlotVectorScalar: fbverify.KindVector,
		SlotVectorString: fbverify.KindVectorString, SlotVectorTable: fbverify.KindVectorTable,
	}
	for i, tab := range s.Tables {
		d := v.Tables[i]
		if d.Name != tab.Name {
			errf("Tables[%d] is %s, schema has %s", i, d.Name, tab.Name)
			continue
		}
		slots := tab.Slots()
		if len(d.Fields) != len(slots) {
			errf("%s: %d fields compiled, %d slots in the schema", tab.Name, len(d.Fields), len(slots))
			continue
		}
		for j, sl := range slots {
			f := d.Fields[j]
			k, ok := kinds[sl.Kind]
			if !ok {
				errf("%s slot %d: unknown slot kind %v", tab.Name, j, sl.Kind)
				continue
			}
			if sl.Kind == SlotVectorScalar && sl.Scalar == "ubyte" {
				k = fbverify.KindBytes
			}
			size, wantRef := 0, sl.Ref
			switch sl.Kind {
			case SlotScalar, SlotVectorScalar:
				size = sl.Size
			case SlotUnionType:
				size = 1
			}
			if sl.Field.Deprecated {
				k, size, wantRef = fbverify.KindDeprecated, 0, ""
			}
			ref := ""
			switch f.Kind {
			case fbverify.KindTable, fbverify.KindVectorTable:
				ref = v.Tables[f.Ref].Name
			case fbverify.KindUnion, fbverify.KindUnionType:
				ref = v.Unions[f.Ref].Name
			default:
				if f.Ref != 0 {
					ref = fmt.Sprintf("ref %d", f.Ref)
				}
			}
			got := fmt.Sprintf("%s %d %d %s", f.Name, f.Kind, f.Size, ref)
			want := fmt.Sprintf("%s %d %d %s", sl.Name, k, size, wantRef)
			if got != want {
				errf("%s slot %d: compiled %q, schema %q", tab.Name, j, got, want)
			}
		}
	}
	for i, u := range s.Unions {
		var got []string
		for _, m := range v.Unions[i].Members {
			got = append(got, v.Tables[m].Name)
		}
		if v.Unions[i].Name != u.Name || strings.Join(got, ",") != strings.Join(u.Members, ",") {
			errf("Unions[%d] is %s %v, schema has %s %v", i, v.Unions[i].Name, got, u.Name, u.Members)
		}
	}
	return diffs
}
