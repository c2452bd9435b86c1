package compare

import (
	"fmt"
	"io"
	"text/tabwriter"
)

// WriteText prints the report as a table: the paired tensors in execution
// order, then the outputs, then the summary line.
func (r *Report) WriteText(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	iso := len(r.Tensors) > 0 && r.Tensors[0].Isolated != nil
	head := "op\toperator\ttensor\telements\tSQNR dB\t"
	if iso {
		head += "isolated\t"
	}
	head += "RMSE\tmax|err|\tbias\tscale\tzp\tclipped\t"
	fmt.Fprintln(tw, head)
	for _, t := range r.Tensors {
		m := t.Accumulated
		line := fmt.Sprintf("%d\t%s\t%s\t%d\t%s\t", t.OpIndex, t.Operator, t.Name, t.Elements, m.SQNR)
		if iso {
			line += t.Isolated.SQNR.String() + "\t"
		}
		scale, zp := "-", "-"
		if t.Scale != 0 {
			scale, zp = fmt.Sprintf("%.3g", t.Scale), fmt.Sprint(t.ZeroPoint)
		}
		line += fmt.Sprintf("%.3g\t%.3g\t%+.2g\t%s\t%s\t%s\t", m.RMSE, m.MaxAbs, m.Mean, scale, zp, percent(m.Clipped))
		fmt.Fprintln(tw, line)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(w, "\noutputs (%d samples):\n", r.Samples)
	for _, o := range r.Outputs {
		line := fmt.Sprintf("  %s: SQNR %s dB, RMSE %.3g, max|err| %.3g", o.Name, o.Metrics.SQNR, o.Metrics.RMSE, o.Metrics.MaxAbs)
		if o.Top1 != nil {
			line += fmt.Sprintf(", top-1 agreement %s", percent(*o.Top1))
		}
		if _, err := fmt.Fprintln(w, line); err != nil {
			return err
		}
	}
	_, err := fmt.Fprintln(w, r.Summary())
	return err
}

func percent(f float64) string {
	if f == 0 {
		return "0"
	}
	return fmt.Sprintf("%.3g%%", 100*f)
}
