package modelbuild

import (
	"fmt"
	"reflect"
	"strings"

	fb "litequant/core/schema/tflitefb"
)

// OptionsType returns the BuiltinOptions union code for an options value
// such as *tflitefb.Conv2DOptionsT. It panics for a value that is not a
// member of the union (a bug in the caller).
func OptionsType(options any) fb.BuiltinOptions {
	t := reflect.TypeOf(options)
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	name := strings.TrimSuffix(t.Name(), "T")
	code, ok := fb.EnumValuesBuiltinOptions[name]
	if !ok {
		panic(fmt.Sprintf("modelbuild: %T is not a BuiltinOptions member", options))
	}
	return code
}
