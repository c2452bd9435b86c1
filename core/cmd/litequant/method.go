package main

import (
	"fmt"
	"io"

	"litequant/core/convert"
)

// writeMethod prints the calibration method of the text report, and for
// auto how many tensors each method won and which whole model was kept.
func writeMethod(w io.Writer, c *convert.CalibrationInfo) error {
	if c.Method == "" || (c.Method == "minmax" && c.Auto == nil) {
		return nil
	}
	line := "ranges: " + c.Method
	if c.Percentile != 0 && c.Method == "percentile" {
		line += fmt.Sprintf(" %g", c.Percentile)
	}
	if len(c.Methods) > 0 {
		won := map[string]int{}
		for _, m := range c.Methods {
			won[m.Method]++
		}
		line += "; per tensor (least quantization error):"
		for _, m := range []string{"minmax", "percentile", "mse", "entropy"} {
			if won[m] > 0 {
				line += fmt.Sprintf(" %s %d", m, won[m])
			}
		}
	}
	if a := c.Auto; a != nil {
		if a.Note != "" {
			line += "; " + a.Note
		} else {
			line += "; whole model kept: " + a.Kept + " ("
			for i, x := range a.Candidates {
				if i > 0 {
					line += ", "
				}
				line += fmt.Sprintf("%s %.1f dB", x.Method, float64(x.Worst))
			}
			line += " worst output SQNR on the verification samples)"
		}
	}
	_, err := fmt.Fprintln(w, line)
	return err
}
