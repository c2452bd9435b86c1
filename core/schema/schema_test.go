package schema

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"litequant/core/schema/tflitefb"
	"litequant/scripts/genschema/fbsparse"
)

func parseSchema(t *testing.T) *fbsparse.Schema {
	t.Helper()
	s, err := fbsparse.ParseFile("tflite.fbs")
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestSchemaFacts checks facts about tflite.fbs that the format fixes.
func TestSchemaFacts(t *testing.T) {
	s := parseSchema(t)
	if s.Namespace != "tflite" || s.FileIdentifier != "TFL3" || s.FileExtension != "tflite" || s.RootType != "Model" {
		t.Errorf("namespace %q, identifier %q, extension %q, root %q", s.Namespace, s.FileIdentifier, s.FileExtension, s.RootType)
	}
	if n := len(s.Table("Model").Fields); n != 8 {
		t.Errorf("Model has %d fields, want 8", n)
	}
	wantOperator := []string{
		"opcode_index", "inputs", "outputs", "builtin_options_type", "builtin_options",
		"custom_options", "custom_options_format", "mutating_variable_inputs", "intermediates",
		"large_custom_options_offset", "large_custom_options_size", "builtin_options_2_type", "builtin_options_2",
	}
	var gotOperator []string
	for _, sl := range s.Table("Operator").Slots() {
		gotOperator = append(gotOperator, sl.Name)
	}
	if strings.Join(gotOperator, " ") != strings.Join(wantOperator, " ") {
		t.Errorf("Operator slots:\n got %v\nwant %v", gotOperator, wantOperator)
	}
	if f := s.Table("Operator").Field("builtin_options_2"); f.Slot != 12 {
		t.Errorf("Operator.builtin_options_2 is in slot %d, want 12 (vtable offset 28)", f.Slot)
	}
	bo := s.Union("BuiltinOptions")
	if len(bo.Members) != int(tflitefb.BuiltinOptionsRightShiftOptions) || bo.Members[len(bo.Members)-1] != "RightShiftOptions" {
		t.Errorf("BuiltinOptions has %d members ending in %s; generated code has RightShiftOptions = %d",
			len(bo.Members), bo.Members[len(bo.Members)-1], tflitefb.BuiltinOptionsRightShiftOptions)
	}
	if len(bo.Members) != 126 {
		t.Errorf("BuiltinOptions has %d members, want 126", len(bo.Members))
	}
	bo2 := s.Union("BuiltinOptions2")
	if len(bo2.Members) != int(tflitefb.BuiltinOptions2StableHLOCompositeOptions) {
		t.Errorf("BuiltinOptions2 has %d members, generated code has %d", len(bo2.Members), tflitefb.BuiltinOptions2StableHLOCompositeOptions)
	}
}

func codeNames[K ~uint8](m map[K]string) map[int]string {
	out := map[int]string{}
	for k, v := range m {
		out[int(k)] = v
	}
	return out
}

// TestUnionsMatchFlatcGo compares every union's members with the enums in
// the flatc-generated Go code.
func TestUnionsMatchFlatcGo(t *testing.T) {
	generated := map[string]map[int]string{
		"QuantizationDetails": codeNames(tflitefb.EnumNamesQuantizationDetails),
		"SparseIndexVector":   codeNames(tflitefb.EnumNamesSparseIndexVector),
		"BuiltinOptions":      codeNames(tflitefb.EnumNamesBuiltinOptions),
		"BuiltinOptions2":     codeNames(tflitefb.EnumNamesBuiltinOptions2),
	}
	s := parseSchema(t)
	if len(s.Unions) != len(generated) {
		t.Errorf("tflite.fbs has %d unions, this test knows %d: add the new ones", len(s.Unions), len(generated))
	}
	for _, u := range s.Unions {
		names, ok := generated[u.Name]
		if !ok {
			t.Errorf("union %s is not checked against generated code", u.Name)
			continue
		}
		if len(names) != len(u.Members)+1 || names[0] != "NONE" {
			t.Errorf("union %s: generated code has %d codes, schema %d members + NONE", u.Name, len(names), len(u.Members))
		}
		for i, m := range u.Members {
			if names[i+1] != m {
				t.Errorf("union %s: code %d is %s in the schema, %s in generated code", u.Name, i+1, m, names[i+1])
			}
		}
	}
}

// camel converts a field name to flatc's Go method name.
func camel(name string) string {
	var b strings.Builder
	up := true
	for _, r := range name {
		if r == '_' {
			up = true
			continue
		}
		if up {
			r = []rune(strings.ToUpper(string(r)))[0]
			up = false
		}
		b.WriteRune(r)
	}
	return b.String()
}

// TestSlotsMatchFlatcGo checks, for every table, the parser's slot numbers
// against the flatc-generated Go file tflitefb/<Table>.go: the slot count in
// <Table>Start, the slot in every <Table>Add<Field> and the vtable offset
// 4+2*slot in every accessor.
func TestSlotsMatchFlatcGo(t *testing.T) {
	s := parseSchema(t)
	for _, tab := range s.Tables {
		src, err := os.ReadFile(filepath.Join("tflitefb", tab.Name+".go"))
		if err != nil {
			t.Errorf("table %s: %v", tab.Name, err)
			continue
		}
		name := regexp.QuoteMeta(tab.Name)
		slots := tab.Slots()

		start := regexp.MustCompile(`func ` + name + `Start\(builder \*flatbuffers\.Builder\) \{\s*builder\.StartObject\((\d+)\)`).FindSubmatch(src)
		if start == nil {
			t.Errorf("table %s: no %sStart in the generated code", tab.Name, tab.Name)
		} else if n, _ := strconv.Atoi(string(start[1])); n != len(slots) {
			t.Errorf("table %s: generated code has %d slots, parser %d", tab.Name, n, len(slots))
		}

		addSlot := map[string]int{}
		for _, m := range regexp.MustCompile(`func `+name+`Add(\w+)\(builder \*flatbuffers\.Builder, [^)]*\) \{\s*builder\.Prepend\w*Slot\((\d+),`).FindAllSubmatch(src, -1) {
			addSlot[string(m[1])], _ = strconv.Atoi(string(m[2]))
		}
		accessorOffset := map[string]int{}
		allOffsets := map[int]bool{}
		for _, m := range regexp.MustCompile(`func \(rcv \*`+name+`\) (\w+)\([^)]*\)[^{]*\{\s*o := flatbuffers\.UOffsetT\(rcv\._tab\.Offset\((\d+)\)\)`).FindAllSubmatch(src, -1) {
			off, _ := strconv.Atoi(string(m[2]))
			accessorOffset[string(m[1])] = off
			allOffsets[off] = true
		}
		live := 0
		for _, sl := range slots {
			if !sl.Field.Deprecated {
				live++
			}
		}
		if len(addSlot) != live {
			t.Errorf("table %s: %d Add functions in the generated code, %d slots not deprecated", tab.Name, len(addSlot), live)
		}
		want := map[int]bool{}
		for _, sl := range slots {
			if sl.Field.Deprecated {
				continue // flatc generates no Go code for it
			}
			want[4+2*sl.Index] = true
			c := camel(sl.Name)
			if got, ok := addSlot[c]; !ok || got != sl.Index {
				t.Errorf("table %s: field %s is slot %d; generated %sAdd%s uses slot %d (found %v)", tab.Name, sl.Name, sl.Index, tab.Name, c, got, ok)
			}
			if got, ok := accessorOffset[c]; !ok || got != 4+2*sl.Index {
				t.Errorf("table %s: field %s is slot %d (vtable offset %d); generated accessor %s reads offset %d (found %v)", tab.Name, sl.Name, sl.Index, 4+2*sl.Index, c, got, ok)
			}
		}
		for off := range allOffsets {
			if !want[off] {
				t.Errorf("table %s: generated code reads vtable offset %d, which is no slot of the parsed table", tab.Name, off)
			}
		}
	}
	// And no generated table is missing from the schema.
	files, _ := filepath.Glob(filepath.Join("tflitefb", "*.go"))
	tablesInGo := 0
	for _, f := range files {
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(src, []byte("\t_tab flatbuffers.Table\n")) {
			tablesInGo++
		}
	}
	if tablesInGo != len(s.Tables) {
		t.Errorf("tflitefb has %d tables, tflite.fbs %d", tablesInGo, len(s.Tables))
	}
}

// TestTablesMatchSchema checks the compiled description against the parser.
func TestTablesMatchSchema(t *testing.T) {
	for _, d := range fbsparse.CompareTables(parseSchema(t), &tfliteSchema) {
		t.Error(d)
	}
	if tfliteSchema.What != "TensorFlow Lite model" || Identifier() != "TFL3" {
		t.Errorf("What %q, identifier %q", tfliteSchema.What, Identifier())
	}
}

// TestGeneratedTablesUpToDate checks that verify_tables_generated.go is what
// `go run ./scripts/genschema` makes of tflite.fbs (that part needs no flatc).
func TestGeneratedTablesUpToDate(t *testing.T) {
	tg := fbsparse.TargetFor("schema")
	if tg == nil || filepath.Base(tg.Out) != "verify_tables_generated.go" || filepath.Base(tg.Schema) != "tflite.fbs" {
		t.Fatalf("genschema's target for package schema is %+v", tg)
	}
	want, err := fbsparse.GoVerifyTables(parseSchema(t), tg.GoTables)
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile("verify_tables_generated.go")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("verify_tables_generated.go is out of date with tflite.fbs: run `go run ./scripts/genschema -tables-only`")
	}
}
