package convert

import (
	"strings"
	"testing"

	fb "litequant/core/schema/tflitefb"
)

func TestParseOps(t *testing.T) {
	ops, err := parseOps(" conv_2d,FULLY_CONNECTED,, ")
	if err != nil || len(ops) != 2 || ops[0] != fb.BuiltinOperatorCONV_2D || ops[1] != fb.BuiltinOperatorFULLY_CONNECTED {
		t.Errorf("parseOps = %v, %v", ops, err)
	}
	if ops, err := parseOps(""); err != nil || len(ops) != 0 {
		t.Errorf("empty list: %v, %v", ops, err)
	}
	_, err = parseOps("CONV2D")
	if err == nil || !strings.Contains(err.Error(), `unknown operator "CONV2D"`) || !strings.Contains(err.Error(), "did you mean CONV_2D?") {
		t.Errorf("err = %v", err)
	}
	if _, err := parseOps("FROBNICATE"); err == nil || strings.Contains(err.Error(), "did you mean") {
		t.Errorf("err = %v", err)
	}
}
