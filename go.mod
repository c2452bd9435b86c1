module litequant

go 1.26.0

require (
	github.com/google/flatbuffers v25.12.19+incompatible // indirect
	golang.org/x/image v0.48.0
)
