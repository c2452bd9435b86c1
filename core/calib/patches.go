package calib

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"

	"litequant/core/interp"
	fb "litequant/core/schema/tflitefb"
	"litequant/core/tflite"
)

// PatchStats describe what one operator's weights are applied to: the
// input patches of a CONV_2D (kh × kw × in values, in the filter's layout),
// the per-channel kh × kw windows of a DEPTHWISE_CONV_2D, the input rows of
// a FULLY_CONNECTED. With them a quantizer can see what rounding a weight
// costs at the operator's output: the error of output channel o is
// Σ Δw[o]·x over the patches x, whose mean is Δw·Mean and whose mean
// square is Δwᵀ·Moment·Δw.
type PatchStats struct {
	// Dims is the patch length P; Groups is 1, or the input channels of a
	// depthwise convolution (one set of statistics per channel).
	Dims   int `json:"dims"`
	Groups int `json:"groups"`
	// Patches is how many patches were seen (per group).
	Patches float64 `json:"patches"`
	// Mean is the mean patch, Groups × Dims.
	Mean []float64 `json:"mean"`
	// Moment is the mean of x·xᵀ, or nil when Dims exceeds MaxMomentDims:
	// for each group, the upper triangle row by row (Dims·(Dims+1)/2
	// values; see At). It encodes to JSON as base64 little-endian float32.
	Moment Float32s `json:"moment,omitempty"`

	sum    []float64
	moment []float64
}

// MaxMomentDims bounds the patch length whose second moment is kept (its
// size is Dims² per group).
const MaxMomentDims = 256

// maxPositions bounds the output positions sampled per sample and operator
// (evenly spaced), which bounds the cost of patch statistics.
const maxPositions = 1024

// patchOp is one weight operator whose input patches are recorded.
type patchOp struct {
	op    int
	kind  fb.BuiltinOperator
	st    *PatchStats
	kh    int // filter height and width (1 for FULLY_CONNECTED)
	kw    int
	in    int // input channels
	sh    int // strides, dilations
	sw    int
	dh    int
	dw    int
	same  bool
	fcDim int // FULLY_CONNECTED input row length
}

// patchOps finds the CONV_2D, DEPTHWISE_CONV_2D and FULLY_CONNECTED
// operators of subgraph si with constant weights and float input, keyed by
// their input tensor.
func patchOps(m *tflite.Model, si int) map[int][]*patchOp {
	sg := m.Subgraphs[si]
	out := map[int][]*patchOp{}
	for oi, op := range sg.Operators {
		if len(op.Inputs) < 2 || op.Inputs[0] < 0 || op.Inputs[1] < 0 {
			continue
		}
		in, w := sg.Tensors[op.Inputs[0]], sg.Tensors[op.Inputs[1]]
		if in.Type != fb.TensorTypeFLOAT32 {
			continue
		}
		p := &patchOp{op: oi, kind: m.Builtin(op), sh: 1, sw: 1, dh: 1, dw: 1}
		var opts any
		if op.BuiltinOptions != nil {
			opts = op.BuiltinOptions.Value
		}
		switch p.kind {
		case fb.BuiltinOperatorCONV_2D:
			o, _ := opts.(*fb.Conv2DOptionsT)
			if o == nil || len(w.Shape) != 4 || len(in.Shape) != 4 || in.Shape[3] != w.Shape[3] {
				continue // grouped convolution is not recorded
			}
			p.kh, p.kw, p.in = int(w.Shape[1]), int(w.Shape[2]), int(w.Shape[3])
			p.sh, p.sw, p.dh, p.dw, p.same = int(o.StrideH), int(o.StrideW), int(o.DilationHFactor), int(o.DilationWFactor), o.Padding == fb.PaddingSAME
			p.st = &PatchStats{Dims: p.kh * p.kw * p.in, Groups: 1}
		case fb.BuiltinOperatorDEPTHWISE_CONV_2D:
			o, _ := opts.(*fb.DepthwiseConv2DOptionsT)
			if o == nil || len(w.Shape) != 4 || len(in.Shape) != 4 {
				continue
			}
			p.kh, p.kw, p.in = int(w.Shape[1]), int(w.Shape[2]), int(in.Shape[3])
			p.sh, p.sw, p.dh, p.dw, p.same = int(o.StrideH), int(o.StrideW), int(o.DilationHFactor), int(o.DilationWFactor), o.Padding == fb.PaddingSAME
			p.st = &PatchStats{Dims: p.kh * p.kw, Groups: p.in}
		case fb.BuiltinOperatorFULLY_CONNECTED:
			if len(w.Shape) != 2 {
				continue
			}
			p.fcDim = int(w.Shape[1])
			p.st = &PatchStats{Dims: p.fcDim, Groups: 1}
		default:
			continue
		}
		p.sh, p.sw, p.dh, p.dw = max(p.sh, 1), max(p.sw, 1), max(p.dh, 1), max(p.dw, 1)
		d := p.st.Dims
		p.st.sum = make([]float64, p.st.Groups*d)
		if d <= MaxMomentDims {
			p.st.moment = make([]float64, p.st.Groups*d*d)
		}
		out[int(op.Inputs[0])] = append(out[int(op.Inputs[0])], p)
	}
	return out
}

// observe adds the patches of input tensor t.
func (p *patchOp) observe(t *interp.Tensor) {
	x := t.F32()
	st := p.st
	d := st.Dims
	if p.kind == fb.BuiltinOperatorFULLY_CONNECTED {
		if p.fcDim == 0 || len(x)%p.fcDim != 0 {
			return
		}
		rows := len(x) / p.fcDim
		step := max(1, rows/maxPositions)
		patch := make([]float64, d)
		for r := 0; r < rows; r += step {
			for i := range patch {
				patch[i] = float64(x[r*d+i])
			}
			st.add(0, patch)
		}
		return
	}
	if len(t.Shape) != 4 || t.Shape[3] != p.in {
		return
	}
	n, h, w, c := t.Shape[0], t.Shape[1], t.Shape[2], t.Shape[3]
	effH, effW := (p.kh-1)*p.dh+1, (p.kw-1)*p.dw+1
	var oh, ow, padT, padL int
	if p.same {
		oh, ow = (h+p.sh-1)/p.sh, (w+p.sw-1)/p.sw
		padT = max(0, (oh-1)*p.sh+effH-h) / 2
		padL = max(0, (ow-1)*p.sw+effW-w) / 2
	} else {
		oh, ow = (h-effH)/p.sh+1, (w-effW)/p.sw+1
	}
	if oh <= 0 || ow <= 0 {
		return
	}
	positions := n * oh * ow
	step := max(1, positions/maxPositions)
	patch := make([]float64, d)
	at := func(b, y, xx, ch int) float64 {
		if y < 0 || y >= h || xx < 0 || xx >= w {
			return 0
		}
		return float64(x[((b*h+y)*w+xx)*c+ch])
	}
	for pos := 0; pos < positions; pos += step {
		b, rest := pos/(oh*ow), pos%(oh*ow)
		y0, x0 := (rest/ow)*p.sh-padT, (rest%ow)*p.sw-padL
		if p.kind == fb.BuiltinOperatorCONV_2D {
			for a := 0; a < p.kh; a++ {
				for e := 0; e < p.kw; e++ {
					for ch := 0; ch < c; ch++ {
						patch[(a*p.kw+e)*c+ch] = at(b, y0+a*p.dh, x0+e*p.dw, ch)
					}
				}
			}
			st.add(0, patch)
			continue
		}
		for ch := 0; ch < c; ch++ {
			for a := 0; a < p.kh; a++ {
				for e := 0; e < p.kw; e++ {
					patch[a*p.kw+e] = at(b, y0+a*p.dh, x0+e*p.dw, ch)
				}
			}
			st.add(ch, patch)
		}
	}
}

// add accumulates one patch of group g.
func (st *PatchStats) add(g int, patch []float64) {
	d := st.Dims
	sum := st.sum[g*d : (g+1)*d]
	for i, v := range patch {
		sum[i] += v
	}
	if g == 0 {
		st.Patches++
	}
	if st.moment == nil {
		return
	}
	mom := st.moment[g*d*d : (g+1)*d*d]
	for i, v := range patch {
		if v == 0 {
			continue
		}
		row := mom[i*d+i : i*d+d]
		if len(row) < 8 {
			rest := patch[i:d]
			rest = rest[:len(row)]
			for j, x := range rest {
				row[j] += v * x
			}
			continue
		}
		axpy(row, patch[i:d], v)
	}
}

// axpy adds v·x to row (len(x) ≥ len(row)), four at a time.
func axpy(row, x []float64, v float64) {
	x = x[:len(row)]
	j := 0
	for ; j+4 <= len(row); j += 4 {
		r, y := row[j:j+4:j+4], x[j:j+4:j+4]
		r[0] += v * y[0]
		r[1] += v * y[1]
		r[2] += v * y[2]
		r[3] += v * y[3]
	}
	for ; j < len(row); j++ {
		row[j] += v * x[j]
	}
}

// finish normalises the sums into means.
func (st *PatchStats) finish() {
	if st.Patches == 0 {
		return
	}
	d := st.Dims
	st.Mean = make([]float64, len(st.sum))
	for i, v := range st.sum {
		st.Mean[i] = v / st.Patches
	}
	if st.moment != nil {
		tri := d * (d + 1) / 2
		st.Moment = make([]float32, st.Groups*tri)
		for g := 0; g < st.Groups; g++ {
			mom := st.moment[g*d*d : (g+1)*d*d]
			out := st.Moment[g*tri : (g+1)*tri]
			k := 0
			for i := 0; i < d; i++ {
				for j := i; j < d; j++ {
					out[k] = float32(mom[i*d+j] / st.Patches)
					k++
				}
			}
		}
	}
	st.sum, st.moment = nil, nil
}

// HasMoment reports whether the second moments were kept.
func (st *PatchStats) HasMoment() bool {
	return st.Moment != nil && len(st.Moment) == st.Groups*st.Dims*(st.Dims+1)/2
}

// At returns the second moment E[x_i·x_j] of group g (HasMoment must hold).
func (st *PatchStats) At(g, i, j int) float32 {
	if i > j {
		i, j = j, i
	}
	d := st.Dims
	// Row i of the upper triangle starts after i rows of d, d-1, ... values.
	return st.Moment[g*d*(d+1)/2+i*d-i*(i-1)/2+(j-i)]
}

// Float32s is a []float32 that encodes to JSON as a base64 string of its
// little-endian bytes (a quarter of the size of decimal numbers).
type Float32s []float32

// MarshalJSON encodes f as base64.
func (f Float32s) MarshalJSON() ([]byte, error) {
	b := make([]byte, 4*len(f))
	for i, v := range f {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(v))
	}
	return json.Marshal(b)
}

// UnmarshalJSON decodes what MarshalJSON wrote.
func (f *Float32s) UnmarshalJSON(data []byte) error {
	var b []byte
	if err := json.Unmarshal(data, &b); err != nil {
		return err
	}
	if len(b)%4 != 0 {
		return fmt.Errorf("float32 data of %d bytes", len(b))
	}
	out := make([]float32, len(b)/4)
	for i := range out {
		out[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
	}
	*f = out
	return nil
}
