package samples

import "fmt"

// normalizer maps pixel values to (p - mean[c]) / std[c], c the channel
// (the last axis): one mean and std for every channel, or one per channel
// (Options.ImageMeans and ImageStds, as a model's metadata gives them).
type normalizer struct {
	mean, std []float32
}

func newNormalizer(o Options) normalizer {
	if len(o.ImageMeans) > 0 {
		n := max(len(o.ImageMeans), len(o.ImageStds))
		mean, std := make([]float32, n), make([]float32, n)
		for c := range n {
			mean[c] = o.ImageMeans[min(c, len(o.ImageMeans)-1)]
			std[c] = o.ImageStds[min(c, len(o.ImageStds)-1)]
		}
		return normalizer{mean, std}
	}
	return normalizer{[]float32{o.ImageMean}, []float32{o.ImageStd}}
}

// at normalizes element k of a sample with channels innermost.
func (n normalizer) at(k int, p float32) float32 {
	c := k % len(n.mean)
	return (p - n.mean[c]) / n.std[c]
}

// fits checks that per-channel values match a sample's channel count.
func (n normalizer) fits(channels int) error {
	if len(n.mean) > 1 && len(n.mean) != channels {
		return fmt.Errorf("the image normalization has %d channels (mean %v, std %v) but the input has %d", len(n.mean), n.mean, n.std, channels)
	}
	return nil
}

// checkPerChannel validates Options.ImageMeans and ImageStds.
func checkPerChannel(o Options) error {
	if len(o.ImageMeans) == 0 && len(o.ImageStds) == 0 {
		return nil
	}
	m, s := len(o.ImageMeans), len(o.ImageStds)
	if m == 0 || s == 0 || (m != s && m != 1 && s != 1) {
		return fmt.Errorf("per-channel image normalization: %d means and %d stds (want as many of each, or one)", m, s)
	}
	for _, v := range o.ImageMeans {
		if !finite(float64(v)) {
			return fmt.Errorf("image mean %v is not a finite number", v)
		}
	}
	for _, v := range o.ImageStds {
		if !(v > 0) || !finite(float64(v)) {
			return fmt.Errorf("image std %v is not a positive finite number", v)
		}
	}
	return nil
}
