package calib

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"

	"litequant/core/internal/opspec"
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
	// Parts are the raw sums of a partial run (Options.Shards), one per
	// block of samples, which Merge adds up in block order; a complete
	// result has none.
	Parts []*PatchPart `json:"parts,omitempty"`

	// sum, moment and n accumulate the current block of samples (see
	// SampleBlock); endBlock adds them to tot (a complete run) or keeps
	// them as a part (a partial run).
	sum    []float64
	moment []float64
	n      float64
	tot    *PatchPart
}

// PatchPart is what one block of SampleBlock samples added to a
// PatchStats: the patch count, the sum of the patches (Groups × Dims) and
// the sum of their products (per group, the upper triangle row by row, as
// PatchStats.Moment; nil without moments).
type PatchPart struct {
	Block   int      `json:"block"`
	Patches float64  `json:"patches"`
	Sum     Float64s `json:"sum"`
	Moment  Float64s `json:"moment,omitempty"`
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
	rows  bool // the weight applies to input rows (FULLY_CONNECTED)
	dwise bool // depthwise: one group per input channel
	st    *PatchStats
	kh    int // filter height and width (1 for FULLY_CONNECTED)
	kw    int
	in    int // input channels
	sh    int // strides, dilations
	sw    int
	dh    int
	dw    int
	same  bool
	fcDim int       // FULLY_CONNECTED input row length
	buf   *patchBuf // CONV_2D, FULLY_CONNECTED: patches gathered for addBlock
	dwBuf []float64 // DEPTHWISE_CONV_2D: windows of every channel
}

// patchOps finds the operators of subgraph si with a weight whose layout
// opspec gives (CONV_2D, DEPTHWISE_CONV_2D, FULLY_CONNECTED) and float
// input, keyed by their input tensor.
func patchOps(m *tflite.Model, si int) map[int][]*patchOp {
	sg := m.Subgraphs[si]
	out := map[int][]*patchOp{}
	for oi, op := range sg.Operators {
		wt, k, ok := opspec.Lookup(m.Builtin(op)).LaidOut()
		if !ok || !present(op, k) || !present(op, wt.Input) {
			continue
		}
		in, w := sg.Tensors[op.Inputs[k]], sg.Tensors[op.Inputs[wt.Input]]
		if in.Type != fb.TensorTypeFLOAT32 {
			continue
		}
		l := wt.Layout
		p := &patchOp{op: oi, rows: l.Rank == 2, dwise: l.Depthwise, sh: 1, sw: 1, dh: 1, dw: 1}
		var opts any
		if op.BuiltinOptions != nil {
			opts = op.BuiltinOptions.Value
		}
		switch {
		case p.rows:
			if len(w.Shape) != 2 {
				continue
			}
			p.fcDim = int(w.Shape[l.In])
			p.st = &PatchStats{Dims: p.fcDim, Groups: 1}
		case p.dwise:
			o, _ := opts.(*fb.DepthwiseConv2DOptionsT)
			if o == nil || len(w.Shape) != 4 || len(in.Shape) != 4 {
				continue
			}
			p.kh, p.kw, p.in = int(w.Shape[1]), int(w.Shape[2]), int(in.Shape[3])
			p.window(o.StrideH, o.StrideW, o.DilationHFactor, o.DilationWFactor, o.Padding)
			p.st = &PatchStats{Dims: p.kh * p.kw, Groups: p.in}
		default:
			o, _ := opts.(*fb.Conv2DOptionsT)
			if o == nil || len(w.Shape) != 4 || len(in.Shape) != 4 || in.Shape[3] != w.Shape[l.In] {
				continue // grouped convolution is not recorded
			}
			p.kh, p.kw, p.in = int(w.Shape[1]), int(w.Shape[2]), int(w.Shape[l.In])
			p.window(o.StrideH, o.StrideW, o.DilationHFactor, o.DilationWFactor, o.Padding)
			p.st = &PatchStats{Dims: p.kh * p.kw * p.in, Groups: 1}
		}
		p.sh, p.sw, p.dh, p.dw = max(p.sh, 1), max(p.sw, 1), max(p.dh, 1), max(p.dw, 1)
		d := p.st.Dims
		if d <= 0 || p.st.Groups <= 0 || int64(p.st.Groups)*int64(d) > maxPatchValues {
			continue // a damaged shape: no statistics to record (found by the sweep)
		}
		p.st.sum = make([]float64, p.st.Groups*d)
		if d <= MaxMomentDims {
			p.st.moment = make([]float64, p.st.Groups*d*d)
		}
		out[int(op.Inputs[0])] = append(out[int(op.Inputs[0])], p)
	}
	return out
}

// maxPatchValues bounds Groups × Dims of the patch statistics of one
// operator (real models stay far below: 3×3×512 is 4608).
const maxPatchValues = 1 << 24

// present reports whether op has an input at position k.
func present(op *fb.OperatorT, k int) bool { return k < len(op.Inputs) && op.Inputs[k] >= 0 }

// window sets a convolution's strides, dilations and padding.
func (p *patchOp) window(strideH, strideW, dilationH, dilationW int32, padding fb.Padding) {
	p.sh, p.sw, p.dh, p.dw, p.same = int(strideH), int(strideW), int(dilationH), int(dilationW), padding == fb.PaddingSAME
}

// patchBlock is how many patches observe gathers before adding them to
// the statistics in one pass (PatchStats.addBlock): one pass over the
// second-moment matrix per block rather than per patch.
const patchBlock = 64

// patchBuf holds up to patchBlock patches of one group, transposed: value
// i of patch b is x[i*patchBlock+b].
type patchBuf struct {
	x []float64
	n int
}

// flush adds the gathered patches to group g of st.
func (b *patchBuf) flush(st *PatchStats, g int) {
	if b.n > 0 {
		st.addBlock(g, b.x, patchBlock, b.n)
		b.n = 0
	}
}

// observe adds the patches of input tensor t.
func (p *patchOp) observe(t *interp.Tensor) {
	x := t.F32()
	st := p.st
	d := st.Dims
	if p.buf == nil && !p.dwise {
		p.buf = &patchBuf{x: make([]float64, d*patchBlock)}
	}
	buf := p.buf
	if p.rows {
		if p.fcDim == 0 || len(x)%p.fcDim != 0 {
			return
		}
		rows := len(x) / p.fcDim
		step := max(1, rows/maxPositions)
		for r := 0; r < rows; r += step {
			row := x[r*d : (r+1)*d]
			for i, v := range row {
				buf.x[i*patchBlock+buf.n] = float64(v)
			}
			if buf.n++; buf.n == patchBlock {
				buf.flush(st, 0)
			}
		}
		buf.flush(st, 0)
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
	// window writes the kh × kw window at output position pos, value
	// (a, e, ch) of it to dst[((a·kw+e)·c+ch)·patchBlock]: zeros where
	// the window leaves the input (padding).
	window := func(pos int, dst []float64) {
		b, rest := pos/(oh*ow), pos%(oh*ow)
		y0, x0 := (rest/ow)*p.sh-padT, (rest%ow)*p.sw-padL
		for a := 0; a < p.kh; a++ {
			y := y0 + a*p.dh
			for e := 0; e < p.kw; e++ {
				xx := x0 + e*p.dw
				out := dst[(a*p.kw+e)*c*patchBlock:]
				if y < 0 || y >= h || xx < 0 || xx >= w {
					for ch := 0; ch < c; ch++ {
						out[ch*patchBlock] = 0
					}
					continue
				}
				px := x[((b*h+y)*w+xx)*c : ((b*h+y)*w+xx+1)*c]
				for ch, v := range px {
					out[ch*patchBlock] = float64(v)
				}
			}
		}
	}
	if !p.dwise {
		for pos := 0; pos < positions; pos += step {
			window(pos, buf.x[buf.n:])
			if buf.n++; buf.n == patchBlock {
				buf.flush(st, 0)
			}
		}
		buf.flush(st, 0)
		return
	}
	// DEPTHWISE_CONV_2D: each channel is its own group. The windows of
	// all channels are gathered at once (reading the input in order) into
	// a buffer laid out (a, e, ch); channel ch's value k is then the
	// column at (k·c + ch)·patchBlock.
	if len(p.dwBuf) != d*c*patchBlock {
		p.dwBuf = make([]float64, d*c*patchBlock)
	}
	filled := 0
	flush := func() {
		inParallel(c, c*d*d*filled/2, false, func(from, to int) {
			for ch := from; ch < to; ch++ {
				st.addBlock(ch, p.dwBuf[ch*patchBlock:], c*patchBlock, filled)
			}
		})
		filled = 0
	}
	for pos := 0; pos < positions; pos += step {
		window(pos, p.dwBuf[filled:])
		if filled++; filled == patchBlock {
			flush()
		}
	}
	if filled > 0 {
		flush()
	}
}

// addBlock accumulates n patches of group g, given transposed: value i of
// patch b is x[i*stride+b]. The second moment is the product of the block
// with itself, computed in 2×4 tiles whose sums stay in registers, so
// that each value loaded serves two or four products.
func (st *PatchStats) addBlock(g int, x []float64, stride, n int) {
	d := st.Dims
	col := func(i int) []float64 { return x[i*stride : i*stride+n] }
	sum := st.sum[g*d : (g+1)*d]
	for i := range sum {
		s := 0.0
		for _, v := range col(i) {
			s += v
		}
		sum[i] += s
	}
	if g == 0 {
		st.n += float64(n)
	}
	if st.moment == nil {
		return
	}
	mom := st.moment[g*d*d : (g+1)*d*d]
	d4 := d &^ 3
	rows := func(from, to int) { // rows [from, to) of the moment, from and to multiples of 4 or d
		for i := from; i < min(to, d4); i += 4 {
			a0, a1, a2, a3 := col(i), col(i+1), col(i+2), col(i+3)
			for j := i; j < d4; j += 4 {
				b0, b1, b2, b3 := col(j), col(j+1), col(j+2), col(j+3)
				tile4x4(mom[i*d+j:], d, a0, a1, a2, a3, b0, b1, b2, b3)
			}
			for j := d4; j < d; j++ {
				b := col(j)
				mom[i*d+j] += dot(a0, b)
				mom[(i+1)*d+j] += dot(a1, b)
				mom[(i+2)*d+j] += dot(a2, b)
				mom[(i+3)*d+j] += dot(a3, b)
			}
		}
		for i := max(from, d4); i < to; i++ {
			a := col(i)
			for j := i; j < d; j++ {
				mom[i*d+j] += dot(a, col(j))
			}
		}
	}
	inParallel(d, d*d*n/2, true, rows)
}

// tile4x4 adds to the 4×4 block of m (row stride d) at its start the
// products of rows a0..a3 with b0..b3 (all of one length), as two 2×4
// blocks (whose sums fit in the machine's registers).
func tile4x4(m []float64, d int, a0, a1, a2, a3, b0, b1, b2, b3 []float64) {
	tile2x4(m, d, a0, a1, b0, b1, b2, b3)
	tile2x4(m[2*d:], d, a2, a3, b0, b1, b2, b3)
}

// tile2x4 adds to the 2×4 block of m (row stride d) at its start the
// products of rows a0, a1 with b0..b3.
func tile2x4(m []float64, d int, a0, a1, b0, b1, b2, b3 []float64) {
	n := len(a0)
	a1 = a1[:n]
	b0, b1, b2, b3 = b0[:n], b1[:n], b2[:n], b3[:n]
	var c00, c01, c02, c03, c10, c11, c12, c13 float64
	for k, x0 := range a0 {
		x1 := a1[k]
		y0, y1, y2, y3 := b0[k], b1[k], b2[k], b3[k]
		c00 += x0 * y0
		c01 += x0 * y1
		c02 += x0 * y2
		c03 += x0 * y3
		c10 += x1 * y0
		c11 += x1 * y1
		c12 += x1 * y2
		c13 += x1 * y3
	}
	r := m[:d+4]
	r[0] += c00
	r[1] += c01
	r[2] += c02
	r[3] += c03
	r[d] += c10
	r[d+1] += c11
	r[d+2] += c12
	r[d+3] += c13
}

// dot returns the inner product of a and b (of one length).
func dot(a, b []float64) float64 {
	b = b[:len(a)]
	s := 0.0
	for k, v := range a {
		s += v * b[k]
	}
	return s
}

// endBlock ends the block of samples being accumulated: its sums are
// added to the total (fold) or kept as part block of a partial result.
// A block that saw no patch adds nothing (adding zeros changes no sum).
func (st *PatchStats) endBlock(block int, fold bool) {
	if st.n == 0 {
		return
	}
	part := st.triangle(block)
	if fold {
		if st.tot == nil {
			st.tot = &PatchPart{Sum: make([]float64, len(part.Sum))}
			if part.Moment != nil {
				st.tot.Moment = make([]float64, len(part.Moment))
			}
		}
		st.tot.add(part)
	} else {
		st.Parts = append(st.Parts, part)
	}
	clear(st.sum)
	clear(st.moment)
	st.n = 0
}

// triangle returns the current block's sums as a part (the moments'
// upper triangles).
func (st *PatchStats) triangle(block int) *PatchPart {
	part := &PatchPart{Block: block, Patches: st.n, Sum: append(Float64s(nil), st.sum...)}
	if st.moment != nil {
		d := st.Dims
		part.Moment = make([]float64, 0, st.Groups*d*(d+1)/2)
		for g := 0; g < st.Groups; g++ {
			mom := st.moment[g*d*d : (g+1)*d*d]
			for i := 0; i < d; i++ {
				part.Moment = append(part.Moment, mom[i*d+i:(i+1)*d]...)
			}
		}
	}
	return part
}

// add adds part q's sums to p's, element by element.
func (p *PatchPart) add(q *PatchPart) {
	p.Patches += q.Patches
	for i, v := range q.Sum {
		p.Sum[i] += v
	}
	for i, v := range q.Moment {
		p.Moment[i] += v
	}
}

// finish normalises the total sums into means (a complete run: the
// current block has been ended).
func (st *PatchStats) finish() {
	tot := st.tot
	st.sum, st.moment, st.tot = nil, nil, nil
	if tot == nil || tot.Patches == 0 {
		st.Patches = 0
		return
	}
	st.Patches = tot.Patches
	st.Mean = make([]float64, len(tot.Sum))
	for i, v := range tot.Sum {
		st.Mean[i] = v / st.Patches
	}
	if tot.Moment != nil {
		st.Moment = make([]float32, len(tot.Moment))
		for i, v := range tot.Moment {
			st.Moment[i] = float32(v / st.Patches)
		}
	}
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

// Float64s is a []float64 that encodes to JSON as a base64 string of its
// little-endian bytes: exact, and a third of the size of decimal numbers.
type Float64s []float64

// MarshalJSON encodes f as base64.
func (f Float64s) MarshalJSON() ([]byte, error) {
	b := make([]byte, 8*len(f))
	for i, v := range f {
		binary.LittleEndian.PutUint64(b[8*i:], math.Float64bits(v))
	}
	return json.Marshal(b)
}

// UnmarshalJSON decodes what MarshalJSON wrote.
func (f *Float64s) UnmarshalJSON(data []byte) error {
	var b []byte
	if err := json.Unmarshal(data, &b); err != nil {
		return err
	}
	if len(b)%8 != 0 {
		return fmt.Errorf("float64 data of %d bytes", len(b))
	}
	out := make([]float64, len(b)/8)
	for i := range out {
		out[i] = math.Float64frombits(binary.LittleEndian.Uint64(b[8*i:]))
	}
	*f = out
	return nil
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
