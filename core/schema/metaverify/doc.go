// Package metaverify checks untrusted TFLITE_METADATA bytes (a
// ModelMetadata flatbuffer, schema core/schema/metadata_schema.fbs) before
// the flatc package metadatafb may read them: the same table-driven
// verifier as core/schema's, with the metadata schema's tables. Both
// generated files come from `go run ./scripts/genschema`.
package metaverify
