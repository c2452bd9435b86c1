package samples

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	_ "image/gif"  // GIF decoder
	_ "image/jpeg" // JPEG decoder
	_ "image/png"  // PNG decoder
	"math"
	"strconv"

	_ "golang.org/x/image/bmp" // BMP decoder
	"golang.org/x/image/draw"

	fb "litequant/core/schema/tflitefb"
)

// DefaultMaxImagePixels bounds the size of an image to decode when
// Options.MaxImagePixels is 0 (64 megapixels, 256 MB as RGBA), so that a
// small file declaring a huge image (a decompression bomb) is refused from
// its header, before anything is decoded or allocated.
const DefaultMaxImagePixels = 64 << 20

// maxImagePixels is the limit o sets.
func (o Options) maxImagePixels() int64 {
	if o.MaxImagePixels > 0 {
		return o.MaxImagePixels
	}
	return DefaultMaxImagePixels
}

// megapixels writes a pixel count in megapixels: "64", "0.5".
func megapixels(n int64) string { return strconv.FormatFloat(float64(n)/(1<<20), 'f', -1, 64) }

// imageSrc is one image file and how it maps to the input.
type imageSrc struct {
	data    []byte
	format  string
	w, h    int // the image's size
	H, W, C int // the sample's height, width and channels
	shape   []int
	t       fb.TensorType
	norm    normalizer
}

// imageGeometry returns the height, width and channels an NHWC input takes
// (-1 where dynamic; a dynamic C is 3) and whether it has a batch dimension.
func imageGeometry(in Input) (h, w, c int, batch bool, err error) {
	s := in.Shape
	switch {
	case len(s) == 4 && (s[0] == 1 || s[0] == -1):
		batch, s = true, s[1:]
	case len(s) == 3:
	default:
		return 0, 0, 0, false, fmt.Errorf("an image does not fit input %v: image inputs are NHWC, [1, H, W, C] or [H, W, C]", in)
	}
	h, w, c = s[0], s[1], s[2]
	if c == -1 {
		c = 3
	}
	if c != 1 && c != 3 {
		if (h == 1 || h == 3) && c > 4 {
			return 0, 0, 0, false, fmt.Errorf("an image does not fit input %v: it looks channels-first (NCHW); image inputs are NHWC with 1 or 3 channels", in)
		}
		return 0, 0, 0, false, fmt.Errorf("an image does not fit input %v: image inputs have 1 (gray) or 3 (RGB) channels", in)
	}
	switch in.Type {
	case fb.TensorTypeFLOAT32, fb.TensorTypeUINT8, fb.TensorTypeINT8, fb.TensorTypeINT16, fb.TensorTypeINT32:
	default:
		return 0, 0, 0, false, fmt.Errorf("an image does not fit input %v: image inputs are FLOAT32, UINT8, INT8, INT16 or INT32", in)
	}
	return h, w, c, batch, nil
}

// loadImage reads an image's header and maps it to the model's input.
func loadImage(ins []Input, f File, o Options) (*source, error) {
	if len(ins) != 1 {
		return nil, fileErr(f.Name, ins, "an image can only feed a model with one input, not %d", len(ins))
	}
	in := ins[0]
	H, W, C, batch, err := imageGeometry(in)
	if err != nil {
		return nil, fileErr(f.Name, ins, "%v", err)
	}
	cfg, format, err := image.DecodeConfig(bytes.NewReader(f.Data))
	if err != nil {
		return nil, fileErr(f.Name, ins, "cannot decode the image: %v", err)
	}
	if cfg.Width <= 0 || cfg.Height <= 0 {
		return nil, fileErr(f.Name, ins, "%s image of %d×%d pixels is empty", format, cfg.Width, cfg.Height)
	}
	if limit := o.maxImagePixels(); int64(cfg.Width)*int64(cfg.Height) > limit {
		return nil, fileErr(f.Name, ins, "%s image of %d×%d pixels (%.1f megapixels) is larger than the %s-megapixel limit (--max-image-pixels): refused before decoding", format, cfg.Width, cfg.Height, float64(cfg.Width)*float64(cfg.Height)/(1<<20), megapixels(limit))
	}
	w, h := cfg.Width, cfg.Height
	switch {
	case H == -1 && W == -1:
		H, W = h, w
	case H == -1:
		H = max(1, int(math.Round(float64(W)*float64(h)/float64(w))))
	case W == -1:
		W = max(1, int(math.Round(float64(H)*float64(w)/float64(h))))
	}
	if limit := o.maxImagePixels(); int64(H)*int64(W) > limit {
		return nil, fileErr(f.Name, ins, "a %d×%d sample is larger than the %s-megapixel limit (--max-image-pixels)", W, H, megapixels(limit))
	}
	shape := []int{H, W, C}
	if batch {
		shape = []int{1, H, W, C}
	}
	s := &imageSrc{data: f.Data, format: format, w: w, h: h, H: H, W: W, C: C, shape: shape, t: in.Type, norm: newNormalizer(o)}
	if err := s.norm.fits(C); err != nil && in.Type == fb.TensorTypeFLOAT32 {
		return nil, fileErr(f.Name, ins, "%v", err)
	}
	return &source{kind: kindImage, name: f.Name, files: 1, n: 1, img: s}, nil
}

// decode decodes the whole image.
func (s *imageSrc) decode() (image.Image, error) {
	img, _, err := image.Decode(bytes.NewReader(s.data))
	if err != nil {
		return nil, fmt.Errorf("cannot decode the %s image: %v", s.format, err)
	}
	screen := image.Rect(0, 0, s.w, s.h)
	if b := img.Bounds(); s.format == "gif" && b != screen && b.In(screen) {
		// A GIF's first frame may cover part of its logical screen: place
		// it there, on a transparent (so, once flattened, black) canvas.
		canvas := image.NewNRGBA(screen)
		draw.Draw(canvas, b, img, b.Min, draw.Src)
		img = canvas
	}
	if b := img.Bounds(); b.Dx() != s.w || b.Dy() != s.h {
		return nil, fmt.Errorf("the %s image decodes to %d×%d pixels, its header says %d×%d", s.format, b.Dx(), b.Dy(), s.w, s.h)
	}
	return img, nil
}

// verify checks that the whole image decodes.
func (s *imageSrc) verify() error {
	_, err := s.decode()
	return err
}

// centreCrop returns the largest rectangle centred in a w×h image whose
// aspect ratio is W:H (to the nearest pixel), relative to the image's origin.
func centreCrop(w, h, W, H int) image.Rectangle {
	cw, ch := w, h
	if int64(w)*int64(H) > int64(h)*int64(W) {
		// Wider than the target: keep the height.
		cw = int((2*int64(h)*int64(W) + int64(H)) / (2 * int64(H)))
		cw = min(max(cw, 1), w)
	} else {
		ch = int((2*int64(w)*int64(H) + int64(W)) / (2 * int64(W)))
		ch = min(max(ch, 1), h)
	}
	x0, y0 := (w-cw)/2, (h-ch)/2
	return image.Rect(x0, y0, x0+cw, y0+ch)
}

// render decodes the image, crops, resizes and converts it into dst.
func (s *imageSrc) render(dst []byte) error {
	img, err := s.decode()
	if err != nil {
		return err
	}
	crop := centreCrop(s.w, s.h, s.W, s.H).Add(img.Bounds().Min)
	if o, ok := img.(interface{ Opaque() bool }); !ok || !o.Opaque() {
		img = flatten(img, crop)
		crop = img.Bounds()
	}
	rgba := image.NewRGBA(image.Rect(0, 0, s.W, s.H))
	draw.BiLinear.Scale(rgba, rgba.Bounds(), img, crop, draw.Src, nil)
	s.convert(rgba.Pix, dst)
	return nil
}

// flatten copies the region r of img into an opaque image, keeping each
// pixel's colour and dropping its alpha.
func flatten(img image.Image, r image.Rectangle) *image.RGBA {
	out := image.NewRGBA(image.Rect(0, 0, r.Dx(), r.Dy()))
	i := 0
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			var c color.NRGBA
			if n, ok := img.(*image.NRGBA); ok {
				p := n.Pix[n.PixOffset(x, y):]
				c = color.NRGBA{p[0], p[1], p[2], 255}
			} else {
				c = color.NRGBAModel.Convert(img.At(x, y)).(color.NRGBA)
			}
			out.Pix[i], out.Pix[i+1], out.Pix[i+2], out.Pix[i+3] = c.R, c.G, c.B, 255
			i += 4
		}
	}
	return out
}

// convert turns opaque RGBA pixels into the input's channels and type.
func (s *imageSrc) convert(pix []byte, dst []byte) {
	n := len(pix) / 4
	for i := 0; i < n; i++ {
		p := pix[4*i : 4*i+3]
		if s.C == 1 {
			y := math.Round(0.299*float64(p[0]) + 0.587*float64(p[1]) + 0.114*float64(p[2]))
			s.put(dst, i, uint8(min(y, 255)))
		} else {
			for c := 0; c < 3; c++ {
				s.put(dst, 3*i+c, p[c])
			}
		}
	}
}

// put stores pixel value p as element k of the input.
func (s *imageSrc) put(dst []byte, k int, p uint8) {
	switch s.t {
	case fb.TensorTypeFLOAT32:
		putFloat32(dst[4*k:], s.norm.at(k, float32(p)))
	case fb.TensorTypeINT8:
		dst[k] = byte(int8(int(p) - 128))
	default: // UINT8, INT16, INT32: the pixel value
		putInt(dst, k, s.t, int64(p))
	}
}
