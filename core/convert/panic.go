package convert

import (
	"errors"
	"fmt"
	"runtime/debug"
)

// ErrInternal is wrapped by the error Convert returns when litequant
// itself failed (a panic): a bug, never the input's fault. Tests and
// fuzzers treat it as a failure; people get an error instead of a crash.
var ErrInternal = errors.New("internal error in litequant")

// PanicError is a panic caught at Convert's boundary.
type PanicError struct {
	Value any
	Stack []byte // where it happened, for bug reports
}

func (e *PanicError) Error() string {
	return fmt.Sprintf("%v: %v (this is a bug: please report it with the model)", ErrInternal, e.Value)
}

func (e *PanicError) Unwrap() error { return ErrInternal }

// catchPanic turns a panic into *err.
func catchPanic(err *error) {
	if r := recover(); r != nil {
		*err = &PanicError{Value: r, Stack: debug.Stack()}
	}
}
