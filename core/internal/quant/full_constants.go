// Full-integer quantization, phase 3: constants, the weights, biases and
// constant operands of quantized operators, quantized.

package quant

import (
	"encoding/binary"
	"fmt"
	"math"

	"litequant/core/internal/opspec"
	"litequant/core/internal/qparams"
	fb "litequant/core/schema/tflitefb"
	"litequant/core/tflite"
)

// constReq is a constant read by a quantized operator.
type constReq struct {
	role   opspec.Role
	values []float32
	shape  []int32
	srcBuf uint32 // the buffer the values come from (for sharing)
	tensor int32  // the constant tensor (or the DEQUANTIZE output) read
	// Results.
	typ    fb.TensorType
	scales []float32
	zps    []int64
	axis   int
	data   []byte
	// corr is a weight's bias correction per output channel; tuned names
	// the operator a tuned weight or corrected bias belongs to.
	corr  []float64
	tuned string
	// cleared counts the weights set to zero because the input channel
	// they apply to is proven 0 (see clearDead).
	cleared int
}

// countWeightReaders fills weightReaders.
func (p *fullPlan) countWeightReaders() {
	p.weightReaders = map[uint32]int{}
	for _, f := range p.sgs {
		for oi, op := range f.info.sg.Operators {
			if !f.quant[oi] {
				continue
			}
			spec := opspec.Lookup(p.g.m.Builtin(op))
			for _, w := range spec.Weights {
				if w.Input < len(op.Inputs) && op.Inputs[w.Input] >= 0 && spec.Role(w.Input) == opspec.WeightRole {
					p.weightReaders[p.constSource(f, op.Inputs[w.Input])]++
				}
			}
		}
	}
}

// constValues returns the float values of constant tensor t (FLOAT32,
// FLOAT16, or INT8/UINT8 with quantization parameters; directly or behind
// a DEQUANTIZE), or nil.
func (p *fullPlan) constValues(f *fullSG, t int32) []float32 {
	sg := f.info.sg
	tt := sg.Tensors[t]
	if pr := f.info.producer[t]; pr >= 0 && f.constDeq[pr] {
		tt = sg.Tensors[sg.Operators[pr].Inputs[0]]
	}
	data := p.g.constData(tt)
	if data == nil {
		return nil
	}
	switch tt.Type {
	case fb.TensorTypeFLOAT32:
		return decodeFloat32(data)
	case fb.TensorTypeFLOAT16:
		return decodeFloat16(data)
	case fb.TensorTypeINT8, fb.TensorTypeUINT8:
		q := tt.Quantization
		if q == nil || len(q.Scale) == 0 {
			return nil
		}
		return dequantizeBytes(data, tt.Type, tt.Shape, q)
	}
	return nil
}

// constSource returns the buffer constant t's values come from.
func (p *fullPlan) constSource(f *fullSG, t int32) uint32 {
	sg := f.info.sg
	if pr := f.info.producer[t]; pr >= 0 && f.constDeq[pr] {
		return sg.Tensors[sg.Operators[pr].Inputs[0]].Buffer
	}
	return sg.Tensors[t].Buffer
}

// dequantizeBytes decodes integer data of type typ (8 to 64 bits) in
// shape with per-tensor or per-channel parameters q, or returns nil when
// they do not fit.
func dequantizeBytes(data []byte, typ fb.TensorType, shape []int32, q *fb.QuantizationParametersT) []float32 {
	size := tflite.TypeBits(typ) / 8
	n := tflite.NumElements(shape)
	if size == 0 || n < 0 || len(data) != size*n || len(q.Scale) == 0 {
		return nil
	}
	out := make([]float32, n)
	inner, channels := n, 1
	if len(q.Scale) > 1 {
		axis := int(q.QuantizedDimension)
		if axis >= len(shape) || int(shape[axis]) != len(q.Scale) {
			return nil
		}
		channels, inner = len(q.Scale), 1
		for _, d := range shape[axis+1:] {
			inner *= int(d)
		}
	}
	for i := range out {
		var v int64
		switch {
		case typ == fb.TensorTypeINT8:
			v = int64(int8(data[i]))
		case size == 1:
			v = int64(data[i])
		case size == 2:
			v = int64(int16(binary.LittleEndian.Uint16(data[2*i:])))
		case size == 4:
			v = int64(int32(binary.LittleEndian.Uint32(data[4*i:])))
		case size == 8:
			v = int64(binary.LittleEndian.Uint64(data[8*i:]))
		default:
			return nil
		}
		c := (i / inner) % channels
		zp := int64(0)
		if c < len(q.ZeroPoint) {
			zp = q.ZeroPoint[c]
		}
		out[i] = float32(v-zp) * q.Scale[c]
	}
	return out
}

// constants quantizes every constant a quantized operator of f reads:
// weights symmetric int8, biases int32/int64 at input scale × weight
// scale, constant activations with the parameters assign chose.
func (p *fullPlan) constants(f *fullSG) error {
	m := p.g.m
	sg := f.info.sg
	for oi, op := range sg.Operators {
		if !f.quant[oi] {
			continue
		}
		spec := opspec.Lookup(m.Builtin(op))
		s := p.opScheme(f.si, oi)
		// Weights first: biases need their scales.
		var wreq *constReq
		for _, w := range spec.Weights {
			if w.Input >= len(op.Inputs) || op.Inputs[w.Input] < 0 || spec.Role(w.Input) != opspec.WeightRole {
				continue
			}
			t := op.Inputs[w.Input]
			tt := sg.Tensors[t]
			axis := -1
			if s.weight == fb.TensorTypeINT8 && spec.Full.WeightScales != opspec.PerTensor && w.ChannelAxis >= 0 && w.ChannelAxis < len(tt.Shape) {
				axis = w.ChannelAxis
			}
			req := &constReq{role: opspec.WeightRole, values: p.constValues(f, t), shape: tt.Shape,
				srcBuf: p.constSource(f, t), tensor: t, typ: s.weight, axis: axis}
			p.clearDead(f, op, w, req)
			var q []int64
			var zp, qlo, qhi int64
			if s.weight == fb.TensorTypeUINT8 {
				// The legacy scheme: asymmetric per-tensor over [0, 255],
				// from the weights' FAKE_QUANT range when they have one,
				// else from their own values.
				var r rep
				if x, ok := p.fq.exact(f.si, int(t), s); ok {
					r = x
				} else {
					// Without a trained range, the range whose rounding
					// error costs the output least (see clipRange).
					lo, hi, _ := finiteRange(req.values)
					var imp []float64
					if ps, ok := p.ranges.(PatchSource); ok && !p.opts.PlainWeights {
						imp = importance(w, len(req.values), tt.Shape, ps.Patch(f.si, oi))
					}
					r = clipRange(s, req.values, lo, hi, imp)
				}
				req.scales, req.zps = []float32{r.scale}, []int64{r.zp}
				q = quantizeValues(req.values, r)
				zp, qlo, qhi = r.zp, 0, 255
			} else {
				var q8 []int8
				req.scales, q8 = symmetricInt8(req.values, tt.Shape, axis)
				req.zps = make([]int64, len(req.scales))
				q = make([]int64, len(q8))
				for i, x := range q8 {
					q[i] = int64(x)
				}
				qlo, qhi = -qmax, qmax
			}
			if ps, ok := p.ranges.(PatchSource); ok && !p.opts.PlainWeights && wreq == nil {
				if st := ps.Patch(f.si, oi); st != nil {
					hasBias := false
					for _, b := range spec.Biases {
						hasBias = hasBias || b < len(op.Inputs) && op.Inputs[b] >= 0
					}
					single := p.weightReaders[req.srcBuf] == 1
					req.corr = tuneInts(w, req.values, tt.Shape, req.scales, zp, qlo, qhi, q, st, hasBias, single)
					if single {
						req.tuned = fmt.Sprintf("%d/%d", f.si, oi)
					}
				}
			}
			req.data = encodeInts(q, req.typ)
			f.reqs[ref{oi, w.Input}] = req
			if wreq == nil {
				wreq = req
			}
		}
		for _, b := range spec.Biases {
			if b >= len(op.Inputs) || op.Inputs[b] < 0 {
				continue
			}
			t := op.Inputs[b]
			if wreq == nil || len(spec.Full.Inputs) == 0 {
				return fmt.Errorf("internal error: %s has a bias but no weight or input", m.OpName(op))
			}
			in, ok := f.inRep[ref{oi, spec.Full.Inputs[0]}]
			if !ok {
				if r := f.reqs[ref{oi, spec.Full.Inputs[0]}]; r != nil {
					in = rep{scale: r.scales[0]}
				}
			}
			req := &constReq{role: opspec.BiasRole, values: p.constValues(f, t), shape: sg.Tensors[t].Shape,
				srcBuf: p.constSource(f, t), tensor: t, typ: s.bias}
			if len(wreq.corr) == len(req.values) {
				for c := range req.values {
					req.values[c] -= float32(wreq.corr[c])
				}
				req.tuned = fmt.Sprintf("%d/%d", f.si, oi)
			}
			if err := p.quantizeBias(req, wreq, in.scale); err != nil {
				return fmt.Errorf("%s (operator %d of subgraph %d): %w", m.OpName(op), oi, f.si, err)
			}
			f.reqs[ref{oi, b}] = req
		}
		for k, t := range op.Inputs {
			req := f.reqs[ref{oi, k}]
			if t < 0 || req == nil || req.role != opspec.Activation {
				continue
			}
			req.values, req.shape, req.srcBuf, req.tensor = p.constValues(f, t), sg.Tensors[t].Shape, p.constSource(f, t), t
			r := rep{typ: req.typ, scale: req.scales[0], zp: req.zps[0]}
			req.data = encodeInts(quantizeValues(req.values, r), req.typ)
		}
	}
	return nil
}

// dequantized returns the real values of a quantized constant (c.data in
// c.typ with c.scales and c.zps along c.axis), or nil.
func (c *constReq) dequantized() []float32 {
	return dequantizeBytes(c.data, c.typ, c.shape, &fb.QuantizationParametersT{Scale: c.scales, ZeroPoint: c.zps, QuantizedDimension: int32(max(c.axis, 0))})
}

// quantizeBias quantizes a bias for weight w and the given input scale.
// An int32 bias that would overflow widens the scale of its channel's
// weights (requantizing them) until it fits, as TensorFlow's quantizer
// does.
func (p *fullPlan) quantizeBias(b, w *constReq, inScale float32) error {
	n := len(b.values)
	if len(w.scales) != 1 && len(w.scales) != n {
		return fmt.Errorf("bias has %d values for %d weight scales", n, len(w.scales))
	}
	wscale := func(c int) float32 {
		if len(w.scales) == 1 {
			return w.scales[0]
		}
		return w.scales[c]
	}
	limit := float64(math.MaxInt32)
	if b.typ == fb.TensorTypeINT64 {
		limit = math.MaxInt64 / 2
	}
	widened := false
	for c, v := range b.values {
		s := float64(inScale * wscale(c))
		if s == 0 || math.Abs(float64(v))/s <= limit || len(w.scales) != n || w.typ != fb.TensorTypeINT8 {
			continue
		}
		// Widen this channel's weight scale so that the bias fits.
		need := float32(math.Abs(float64(v)) / (limit * float64(inScale)) * (1 + 1e-6))
		w.scales[c] = max(w.scales[c], need)
		widened = true
	}
	if widened {
		w.data = int8Bytes(requantizeSymmetric(w.values, w.shape, w.axis, w.scales))
	}
	b.scales = make([]float32, 0, len(w.scales))
	for _, s := range w.scales {
		b.scales = append(b.scales, inScale*s)
	}
	b.zps = make([]int64, len(b.scales))
	b.axis = 0
	if len(b.scales) == 1 {
		b.axis = -1
	}
	q := make([]int64, n)
	for c, v := range b.values {
		s := b.scales[0]
		if len(b.scales) > 1 {
			s = b.scales[c]
		}
		r := math.Round(float64(v) / float64(s))
		if s == 0 || r != r {
			r = 0
		}
		q[c] = int64(math.Max(-limit, math.Min(limit, r)))
	}
	b.data = encodeInts(q, b.typ)
	return nil
}

// requantizeSymmetric quantizes values with the given per-slice scales
// (zero point 0, [-127, 127]).
func requantizeSymmetric(values []float32, shape []int32, axis int, scales []float32) []int8 {
	channels, inner := 1, len(values)
	if axis >= 0 {
		channels, inner = int(shape[axis]), 1
		for _, d := range shape[axis+1:] {
			inner *= int(d)
		}
	}
	q := make([]int8, len(values))
	for i, v := range values {
		s := scales[(i/inner)%channels]
		r := math.Round(float64(v) / float64(s))
		q[i] = int8(math.Max(-qmax, math.Min(qmax, r)))
	}
	return q
}

// quantizeValues quantizes values with r, clamping to r's type.
func quantizeValues(values []float32, r rep) []int64 {
	lo, hi := r.bounds()
	q := make([]int64, len(values))
	for i, v := range values {
		q[i] = qparams.Quantize(v, r.scale, r.zp, lo, hi)
	}
	return q
}

// encodeInts stores integers little-endian in type typ.
func encodeInts(q []int64, typ fb.TensorType) []byte {
	size := tflite.TypeBits(typ) / 8
	out := make([]byte, size*len(q))
	for i, v := range q {
		switch size {
		case 1:
			out[i] = byte(v)
		case 2:
			binary.LittleEndian.PutUint16(out[2*i:], uint16(v))
		case 4:
			binary.LittleEndian.PutUint32(out[4*i:], uint32(v))
		case 8:
			binary.LittleEndian.PutUint64(out[8*i:], uint64(v))
		}
	}
	return out
}

// key names a quantized constant's content, so equal ones share a buffer.
func (c *constReq) key() string {
	return fmt.Sprintf("%d|%v|%d|%v|%v|%d|%s", c.srcBuf, c.shape, c.typ, c.scales, c.zps, c.axis, c.tuned)
}
