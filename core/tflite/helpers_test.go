package tflite_test

import flatbuffers "github.com/google/flatbuffers/go"

func flatbuffersBuilder() *flatbuffers.Builder { return flatbuffers.NewBuilder(1024) }
