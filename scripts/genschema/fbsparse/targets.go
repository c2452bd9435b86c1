package fbsparse

// Target is one verifier description that genschema generates for
// litequant, and that the generated package's tests check is current.
type Target struct {
	Schema string // the .fbs file, relative to the repository root
	Out    string // the generated Go file, relative to the repository root
	GoTables
}

// Targets lists litequant's generated verifier descriptions.
var Targets = []Target{
	{
		Schema:   "core/schema/tflite.fbs",
		Out:      "core/schema/verify_tables_generated.go",
		GoTables: GoTables{Package: "schema", Var: "tfliteSchema", Source: "tflite.fbs", What: "TensorFlow Lite model"},
	},
	{
		Schema:   "core/schema/metadata_schema.fbs",
		Out:      "core/schema/metaverify/tables_generated.go",
		GoTables: GoTables{Package: "metaverify", Var: "metadataSchema", Source: "metadata_schema.fbs", What: "TFLite model metadata buffer"},
	},
}

// TargetFor returns the entry of Targets for Go package pkg, or nil.
func TargetFor(pkg string) *Target {
	for i := range Targets {
		if Targets[i].Package == pkg {
			return &Targets[i]
		}
	}
	return nil
}
