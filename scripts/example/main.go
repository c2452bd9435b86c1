// Command example makes the float model and calibration samples behind the
// page's "Try an example" button (site/example): a tiny image classifier
// that tells horizontal, vertical and diagonal stripes apart, trained here
// with plain SGD on images this program draws, from a fixed seed. The
// outputs are the project's own small files, committed so the page works
// without running this; regenerate them with
//
//	go run ./scripts/example            # writes site/example
//	go run ./scripts/example -o DIR
//
// The run is deterministic: the same source gives the same bytes (the test
// checks the committed files against a fresh run).
//
// The network: input [1, 16, 16, 3] (pixels p normalised to (p-127.5)/127.5,
// the converter's default for images) → CONV_2D 3×3, stride 2, SAME, 8
// filters, ReLU → RESHAPE [1, 512] → FULLY_CONNECTED 3 → SOFTMAX.
package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"

	"litequant/core/modelbuild"
	fb "litequant/core/schema/tflitefb"
)

const (
	size     = 16 // image side
	channels = 3
	filters  = 8
	outSide  = size / 2                    // after the stride-2 convolution
	features = outSide * outSide * filters // 512
	kernel   = 3                           // convolution kernel side
	convW    = filters * kernel * kernel * channels
	seed     = 20240601
	perClass = 4 // calibration samples written per class
)

// Classes are the stripe directions, in output order.
var Classes = []string{"horizontal", "vertical", "diagonal"}

func main() {
	out := flag.String("o", filepath.Join("site", "example"), "output folder")
	flag.Parse()
	acc, err := Generate(*out)
	if err != nil {
		fmt.Fprintln(os.Stderr, "example:", err)
		os.Exit(1)
	}
	fmt.Printf("wrote %s (held-out accuracy %.1f%%)\n", *out, 100*acc)
}

// Manifest describes the example for the page (manifest.json).
type Manifest struct {
	Description string   `json:"description"`
	Model       string   `json:"model"`
	Samples     []string `json:"samples"`
	Labels      []string `json:"labels"` // class of each sample
	Classes     []string `json:"classes"`
	Mode        string   `json:"mode"` // the mode the button selects
	Accuracy    float64  `json:"held_out_accuracy"`
}

// Generate trains the network and writes model.tflite, the sample PNGs and
// manifest.json to dir. It returns the float model's held-out accuracy.
func Generate(dir string) (float64, error) {
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	train := dataset(rng, 600)
	test := dataset(rng, 300)
	net := newNet(rng)
	net.train(rng, train, 12, 0.02)
	acc := net.accuracy(test)
	if acc < 0.9 {
		return acc, fmt.Errorf("training reached only %.1f%% held-out accuracy", 100*acc)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return acc, err
	}
	if err := os.WriteFile(filepath.Join(dir, "model.tflite"), net.model(), 0o644); err != nil {
		return acc, err
	}
	man := Manifest{
		Description: "A tiny float classifier of stripe directions (16×16 RGB), trained by scripts/example, with calibration images it drew.",
		Model:       "model.tflite", Classes: Classes, Mode: "int8", Accuracy: math.Round(acc*1000) / 1000,
	}
	for i := 0; i < perClass*len(Classes); i++ {
		c := i % len(Classes)
		img := draw(rng, c)
		var b bytes.Buffer
		if err := (&png.Encoder{CompressionLevel: png.BestCompression}).Encode(&b, img); err != nil {
			return acc, err
		}
		name := fmt.Sprintf("%s-%d.png", Classes[c], i/len(Classes))
		if err := os.WriteFile(filepath.Join(dir, name), b.Bytes(), 0o644); err != nil {
			return acc, err
		}
		man.Samples = append(man.Samples, name)
		man.Labels = append(man.Labels, Classes[c])
	}
	js, err := json.MarshalIndent(man, "", "  ")
	if err != nil {
		return acc, err
	}
	return acc, os.WriteFile(filepath.Join(dir, "manifest.json"), append(js, '\n'), 0o644)
}

// example is one training image, normalised, with its class.
type example struct {
	x     []float32 // HWC
	class int
}

func dataset(rng *rand.Rand, n int) []example {
	out := make([]example, n)
	for i := range out {
		c := i % len(Classes)
		out[i] = example{x: Normalize(draw(rng, c)), class: c}
	}
	return out
}

// draw paints stripes of class c: random period, phase, colours and noise.
func draw(rng *rand.Rand, c int) *image.NRGBA {
	period := 3 + 3*rng.Float64()
	phase := 2 * math.Pi * rng.Float64()
	var fg, bg [3]float64
	for {
		for k := range fg {
			fg[k], bg[k] = 255*rng.Float64(), 255*rng.Float64()
		}
		if math.Abs(luma(fg)-luma(bg)) > 60 {
			break
		}
	}
	img := image.NewNRGBA(image.Rect(0, 0, size, size))
	for y := 0; y < size; y++ {
		for x := 0; x < size; x++ {
			var t float64
			switch c {
			case 0:
				t = float64(y)
			case 1:
				t = float64(x)
			default:
				t = float64(x+y) / math.Sqrt2
			}
			col := bg
			if math.Sin(2*math.Pi*t/period+phase) > 0 {
				col = fg
			}
			var px [3]uint8
			for k := range px {
				v := col[k] + 16*rng.NormFloat64()
				px[k] = uint8(math.Max(0, math.Min(255, math.Round(v))))
			}
			img.SetNRGBA(x, y, color.NRGBA{px[0], px[1], px[2], 255})
		}
	}
	return img
}

func luma(c [3]float64) float64 { return 0.299*c[0] + 0.587*c[1] + 0.114*c[2] }

// Normalize returns the image as the model's input: HWC float32,
// (p - 127.5) / 127.5, as the converter feeds images by default.
func Normalize(img *image.NRGBA) []float32 {
	x := make([]float32, size*size*channels)
	for y := 0; y < size; y++ {
		for xx := 0; xx < size; xx++ {
			p := img.NRGBAAt(xx, y)
			for k, v := range []uint8{p.R, p.G, p.B} {
				x[(y*size+xx)*channels+k] = (float32(v) - 127.5) / 127.5
			}
		}
	}
	return x
}

// net holds the weights in TFLite's layouts: convolution [filters, kh, kw,
// channels], fully connected [classes, features] (features in NHWC order).
type net struct {
	cw, cb []float32
	fw, fb []float32
}

func newNet(rng *rand.Rand) *net {
	n := &net{cw: make([]float32, convW), cb: make([]float32, filters),
		fw: make([]float32, len(Classes)*features), fb: make([]float32, len(Classes))}
	cs := math.Sqrt(2.0 / (kernel * kernel * channels))
	for i := range n.cw {
		n.cw[i] = float32(cs * rng.NormFloat64())
	}
	fs := math.Sqrt(1.0 / features)
	for i := range n.fw {
		n.fw[i] = float32(fs * rng.NormFloat64())
	}
	return n
}

// forward returns the convolution's pre-activation and activation (HWC) and
// the class probabilities.
func (n *net) forward(x []float32) (pre, act, prob []float32) {
	pre = make([]float32, features)
	act = make([]float32, features)
	for oy := 0; oy < outSide; oy++ {
		for ox := 0; ox < outSide; ox++ {
			for f := 0; f < filters; f++ {
				s := n.cb[f]
				for ky := 0; ky < kernel; ky++ {
					for kx := 0; kx < kernel; kx++ {
						// SAME padding with stride 2 on 16: no padding
						// before, one row/column after.
						iy, ix := 2*oy+ky, 2*ox+kx
						if iy >= size || ix >= size {
							continue
						}
						for c := 0; c < channels; c++ {
							s += float32(n.cw[((f*kernel+ky)*kernel+kx)*channels+c] * x[(iy*size+ix)*channels+c])
						}
					}
				}
				i := (oy*outSide+ox)*filters + f
				pre[i] = s
				act[i] = max(s, 0)
			}
		}
	}
	logits := make([]float64, len(Classes))
	for k := range logits {
		s := n.fb[k]
		for i, a := range act {
			s += float32(n.fw[k*features+i] * a)
		}
		logits[k] = float64(s)
	}
	prob = softmax(logits)
	return pre, act, prob
}

func softmax(z []float64) []float32 {
	m := z[0]
	for _, v := range z {
		m = math.Max(m, v)
	}
	var sum float64
	e := make([]float64, len(z))
	for i, v := range z {
		e[i] = math.Exp(v - m)
		sum += e[i]
	}
	p := make([]float32, len(z))
	for i := range e {
		p[i] = float32(e[i] / sum)
	}
	return p
}

// train runs SGD on the cross-entropy loss, one example at a time.
func (n *net) train(rng *rand.Rand, data []example, epochs int, lr float32) {
	order := make([]int, len(data))
	for i := range order {
		order[i] = i
	}
	dact := make([]float32, features)
	for e := 0; e < epochs; e++ {
		rng.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
		for _, idx := range order {
			ex := data[idx]
			pre, act, prob := n.forward(ex.x)
			clear(dact)
			for k := range prob {
				g := prob[k]
				if k == ex.class {
					g--
				}
				for i, a := range act {
					dact[i] += float32(g * n.fw[k*features+i])
					n.fw[k*features+i] -= float32(lr * g * a)
				}
				n.fb[k] -= lr * g
			}
			for oy := 0; oy < outSide; oy++ {
				for ox := 0; ox < outSide; ox++ {
					for f := 0; f < filters; f++ {
						i := (oy*outSide+ox)*filters + f
						if pre[i] <= 0 {
							continue
						}
						g := dact[i]
						n.cb[f] -= lr * g
						for ky := 0; ky < kernel; ky++ {
							for kx := 0; kx < kernel; kx++ {
								iy, ix := 2*oy+ky, 2*ox+kx
								if iy >= size || ix >= size {
									continue
								}
								for c := 0; c < channels; c++ {
									n.cw[((f*kernel+ky)*kernel+kx)*channels+c] -= float32(lr * g * ex.x[(iy*size+ix)*channels+c])
								}
							}
						}
					}
				}
			}
		}
	}
}

// Predict returns the most probable class.
func (n *net) predict(x []float32) int {
	_, _, p := n.forward(x)
	return Argmax(p)
}

// Argmax returns the index of the largest value.
func Argmax(p []float32) int {
	best := 0
	for i, v := range p {
		if v > p[best] {
			best = i
		}
	}
	return best
}

func (n *net) accuracy(data []example) float64 {
	ok := 0
	for _, ex := range data {
		if n.predict(ex.x) == ex.class {
			ok++
		}
	}
	return float64(ok) / float64(len(data))
}

// model builds the TFLite model of the network.
func (n *net) model() []byte {
	b := modelbuild.New()
	b.Model().Description = "litequant example: stripe direction classifier (scripts/example)"
	in := b.Tensor("image", fb.TensorTypeFLOAT32, 1, size, size, channels)
	cw := b.ConstFloat32("conv/weights", []int32{filters, kernel, kernel, channels}, n.cw)
	cb := b.ConstFloat32("conv/bias", []int32{filters}, n.cb)
	conv := b.Tensor("conv/relu", fb.TensorTypeFLOAT32, 1, outSide, outSide, filters)
	b.Op(fb.BuiltinOperatorCONV_2D, &fb.Conv2DOptionsT{Padding: fb.PaddingSAME, StrideW: 2, StrideH: 2,
		FusedActivationFunction: fb.ActivationFunctionTypeRELU, DilationWFactor: 1, DilationHFactor: 1},
		[]int32{in, cw, cb}, []int32{conv})
	shape := b.ConstInt32("flatten/shape", []int32{2}, []int32{1, features})
	flat := b.Tensor("flatten", fb.TensorTypeFLOAT32, 1, features)
	b.Op(fb.BuiltinOperatorRESHAPE, &fb.ReshapeOptionsT{NewShape: []int32{1, features}}, []int32{conv, shape}, []int32{flat})
	fw := b.ConstFloat32("dense/weights", []int32{int32(len(Classes)), features}, n.fw)
	fbias := b.ConstFloat32("dense/bias", []int32{int32(len(Classes))}, n.fb)
	logits := b.Tensor("dense", fb.TensorTypeFLOAT32, 1, int32(len(Classes)))
	b.Op(fb.BuiltinOperatorFULLY_CONNECTED, &fb.FullyConnectedOptionsT{}, []int32{flat, fw, fbias}, []int32{logits})
	prob := b.Tensor("probabilities", fb.TensorTypeFLOAT32, 1, int32(len(Classes)))
	b.Op(fb.BuiltinOperatorSOFTMAX, &fb.SoftmaxOptionsT{Beta: 1}, []int32{logits}, []int32{prob})
	b.Inputs(in)
	b.Outputs(prob)
	return b.Bytes()
}
