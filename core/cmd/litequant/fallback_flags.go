package main

import (
	"flag"
	"strings"

	"litequant/core/convert"
)

// registerFallback adds the float fallback flags of `quantize`:
// --target-sqnr, --float-ops and --int16-ops.
func registerFallback(fs *flag.FlagSet, o *convert.Options) {
	fs.Float64Var(&o.TargetSQNR, "target-sqnr", 0, "leave float, one at a time, the operators doing the most damage until every output's SQNR on the verification samples reaches DB (needs --verify or --verify-split; int8, int16x8, uint8)")
	fs.Func("float-ops", "comma-separated operators, named by their first output tensor (as the report names them), that stay float (int8, int16x8, uint8)", nameList(&o.FloatOps))
	fs.Func("int16-ops", "comma-separated operators to run on int16 activations (16x8) in int8 mode", nameList(&o.Int16Ops))
}

// nameList appends the comma-separated names of a flag value to dst.
func nameList(dst *[]string) func(string) error {
	return func(v string) error {
		for _, n := range strings.Split(v, ",") {
			if n = strings.TrimSpace(n); n != "" {
				*dst = append(*dst, n)
			}
		}
		return nil
	}
}
