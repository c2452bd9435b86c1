package metaverify

// Verify checks that buf is a well-formed ModelMetadata FlatBuffer
// (metadata_schema.fbs, identifier "M001"), so that the generated
// metadatafb code can read it without going out of bounds: fbverify's
// Schema.Verify with the tables of metadata_schema.fbs
// (tables_generated.go) and the default limits. Error paths start with
// "modelmetadata".
//
// Errors are *fbverify.Error values (core/schema/fbverify).
func Verify(buf []byte) error {
	return metadataSchema.Verify(buf)
}
