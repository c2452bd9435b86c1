package interp

import (
	"errors"
	"fmt"
	"math"

	fb "litequant/core/schema/tflitefb"
	"litequant/core/tflite"
)

// LOG_SOFTMAX over the last axis with int8 or uint8 activations; the
// output has scale 16/256 and zero point 127 (int8) or 255 (uint8), as
// TensorFlow Lite's Prepare requires.
//
// The runtime's optimized kernel (logSoftmaxLUT) works in float32 from a
// table of exp(-input_scale·d) for d = 0..255: per row, the sum of the
// table entries at x - max (in order), its logf, then each output
// rint(x·s_in/s_out - (s_in·max + log sum)/s_out) + zero point, x and max
// taken as unsigned (int8 values offset by 128). TensorFlow Lite's
// reference kernel (fully integer: gemmlowp's exp, a fixed-point log) is
// not what the runtime runs: written out and tested, it gave 17 of 5,200
// int8 outputs up to 3 steps apart at input scale 0.126, where this one
// matches all.

func init() {
	register(fb.BuiltinOperatorLOG_SOFTMAX, &kernel{match: iqLogSoftmaxMatch, prepare: prepareIntLogSoftmax, eval: evalIntLogSoftmax})
}

func iqLogSoftmaxMatch(n *node) bool {
	in := n.input(0)
	return in != nil && (in.Type == fb.TensorTypeINT8 || in.Type == fb.TensorTypeUINT8)
}

type iqLogSoftmaxState struct {
	table     [256]float32 // exp(-inS·d) at index 255-d
	inS, outS float32
	outZ      int32
	offset    int32 // 128 for int8: values read as unsigned
	lo, hi    int32
	src, dst  []int32 // one row, grown as needed
}

func prepareIntLogSoftmax(n *node) error {
	in := n.input(0)
	if len(n.outputs) < 1 {
		return errors.New("needs one input and one output")
	}
	out := n.outputs[0]
	if err := iqSameType(in, out); err != nil {
		return unsupportedf("%s input with %s output", tflite.TypeName(in.Type), tflite.TypeName(out.Type))
	}
	inS, _, err := iqParams(in)
	if err != nil {
		return err
	}
	outS, outZ, err := iqParams(out)
	if err != nil {
		return err
	}
	wantZ := int32(127)
	st := &iqLogSoftmaxState{inS: inS, outS: outS, outZ: outZ, offset: 128}
	if in.Type == fb.TensorTypeUINT8 {
		wantZ, st.offset = 255, 0
	}
	if outS != 16.0/256 || outZ != wantZ {
		return fmt.Errorf("output scale %g and zero point %d, want 0.0625 and %d", outS, outZ, wantZ)
	}
	st.lo, st.hi = iqRange(in.Type)
	for d := range 256 {
		st.table[255-d] = iqExpF(-inS * float32(d))
	}
	n.state = st
	return nil
}

func evalIntLogSoftmax(n *node) error {
	st, ok := n.state.(*iqLogSoftmaxState)
	if !ok {
		return errors.New("integer LOG_SOFTMAX not prepared")
	}
	in := n.input(0)
	if len(in.Shape) < 1 {
		return fmt.Errorf("%v: LOG_SOFTMAX needs at least one dimension", in)
	}
	out := n.output(0, in.Shape)
	depth := in.Shape[len(in.Shape)-1]
	if depth == 0 {
		return nil
	}
	if cap(st.src) < depth {
		st.src, st.dst = make([]int32, depth), make([]int32, depth)
	}
	src, dst := st.src[:depth], st.dst[:depth]
	rows := in.NumElements() / depth
	for r := range rows {
		switch in.Type {
		case fb.TensorTypeINT8:
			for i, v := range in.I8()[r*depth : (r+1)*depth] {
				src[i] = int32(v)
			}
		default:
			for i, v := range in.U8()[r*depth : (r+1)*depth] {
				src[i] = int32(v)
			}
		}
		st.logSoftmaxLUT(dst, src)
		switch in.Type {
		case fb.TensorTypeINT8:
			o := out.I8()[r*depth : (r+1)*depth]
			for i, v := range dst {
				o[i] = int8(v)
			}
		default:
			o := out.U8()[r*depth : (r+1)*depth]
			for i, v := range dst {
				o[i] = uint8(v)
			}
		}
	}
	return nil
}

func (st *iqLogSoftmaxState) logSoftmaxLUT(dst, src []int32) {
	mx := src[0]
	for _, x := range src {
		mx = max(mx, x)
	}
	off := 255 - mx
	var sum float32
	for _, x := range src {
		sum += st.table[off+x]
	}
	logSum := float32(math.Log(float64(sum)))
	scale := st.inS / st.outS
	pre := (st.inS*float32(mx+st.offset) + logSum) / st.outS
	for i, x := range src {
		p := scale*float32(x+st.offset) - pre
		q := int32(math.RoundToEven(float64(p))) + st.outZ
		dst[i] = iqClamp(q, st.lo, st.hi)
	}
}
