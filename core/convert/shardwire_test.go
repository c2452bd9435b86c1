package convert

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"strings"
	"testing"

	"litequant/core/samples"
)

// A shard's wire encoding gives back the statistics it encoded (the same
// EncodeStats bytes), and damaged or foreign bytes are errors.
func TestShardWire(t *testing.T) {
	req := Request{Model: imageNet(), Calib: []samples.File{pixels(t, 30)}, Options: Options{Mode: "int8"}}
	st, err := CalibrateShard(context.Background(), req, 1, 2)
	if err != nil {
		t.Fatal(err)
	}
	want, err := EncodeStats(st)
	if err != nil {
		t.Fatal(err)
	}
	wire, err := EncodeShard(st)
	if err != nil {
		t.Fatal(err)
	}
	if again, _ := EncodeStats(st); !bytes.Equal(again, want) {
		t.Fatal("EncodeShard changed the statistics it encoded")
	}
	back, err := DecodeShard(wire)
	if err != nil {
		t.Fatal(err)
	}
	got, err := EncodeStats(back)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("decoded shard encodes to %d bytes of JSON, want the original's %d", len(got), len(want))
	}
	if !bytes.Contains(want, []byte(`"parts"`)) {
		t.Error("the shard has no patch parts: the test does not exercise the arrays")
	}
	for _, c := range []struct {
		name string
		b    []byte
		want string
	}{
		{"empty", nil, "not a shard's statistics"},
		{"JSON", want, "not a shard's statistics"},
		{"truncated", wire[:len(wire)-3], "array"},
		{"extra byte", append(append([]byte{}, wire...), 0), "after the last array"},
		{"short JSON", wire[:20], "JSON of"},
	} {
		if _, err := DecodeShard(c.b); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want an error with %q", c.name, err, c.want)
		}
	}
}

// A shard decodes only its own images: an image whose header reads but
// whose pixels do not fails the shard that calibrates it, naming the
// file, and not the other shard (a single conversion fails on it too).
func TestShardDecodesOwnImages(t *testing.T) {
	var files []samples.File
	for i := 0; i < 17; i++ { // blocks 0, 1, 2 of 8 samples: shard 1 has block 1
		img := image.NewRGBA(image.Rect(0, 0, 6, 6))
		for k := range img.Pix {
			img.Pix[k] = uint8(37*i + 11*k)
		}
		img.Set(0, 0, color.RGBA{uint8(i), 0, 0, 255})
		var b bytes.Buffer
		if err := png.Encode(&b, img); err != nil {
			t.Fatal(err)
		}
		data := b.Bytes()
		if i == 9 {
			data = data[:len(data)-20] // the header is intact, the pixels are cut
		}
		files = append(files, samples.File{Name: fmt.Sprintf("img%02d.png", i), Data: data})
	}
	req := Request{Model: imageNet(), Calib: files, Options: Options{Mode: "int8"}}
	if _, err := CalibrateShard(context.Background(), req, 0, 2); err != nil {
		t.Errorf("shard 0, without the damaged image: %v", err)
	}
	if _, err := CalibrateShard(context.Background(), req, 1, 2); err == nil || strings.Count(err.Error(), "img09.png") != 1 {
		t.Errorf("shard 1, with the damaged image: %v, want an error naming img09.png once", err)
	}
	if _, err := Convert(context.Background(), req); err == nil || !strings.Contains(err.Error(), "img09.png") {
		t.Errorf("a single conversion: %v, want an error naming img09.png", err)
	}
}
