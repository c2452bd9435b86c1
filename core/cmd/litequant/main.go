// Command litequant inspects, runs and quantizes TensorFlow Lite models:
// the command-line front end over litequant's core packages (the browser
// page is the other one).
//
// Usage:
//
//	litequant inspect [--json] MODEL.tflite
//
// Run `litequant help` for every command.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"litequant/core/convert"
	"os"
	"runtime/debug"
	"sort"
	"strings"
)

// command is one subcommand: its one-line usage and its body. run returns
// errors; main prints them on one line and exits 1.
type command struct {
	usage string
	run   func(args []string, stdout io.Writer) error
}

var commands = map[string]command{
	"inspect":  {"inspect [--json] MODEL.tflite", runInspect},
	"run":      {runUsage, runRun},
	"quantize": {quantizeUsage, runQuantize},
	"compare":  {compareUsage, runCompare},
}

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run executes one command line and returns the exit status. No panic
// escapes it: one is reported as an internal error.
func run(args []string, stdout, stderr io.Writer) (status int) {
	defer func() {
		if r := recover(); r != nil {
			fmt.Fprintf(stderr, "litequant: internal error: %v\n", r)
			if os.Getenv("LITEQUANT_DEBUG") != "" {
				stderr.Write(debug.Stack())
			}
			status = 1
		}
	}()
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		usage(stdout)
		return 0
	}
	cmd, ok := commands[args[0]]
	if !ok {
		fmt.Fprintf(stderr, "litequant: unknown command %q (run `litequant help`)\n", args[0])
		return 2
	}
	if err := cmd.run(args[1:], stdout); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		var ue usageError
		if errors.As(err, &ue) {
			fmt.Fprintf(stderr, "litequant %s: %v\nusage: litequant %s\n", args[0], err, cmd.usage)
			return 2
		}
		fmt.Fprintf(stderr, "litequant %s: %s\n", args[0], oneLine(err.Error()))
		var pe *convert.PanicError
		if errors.As(err, &pe) && os.Getenv("LITEQUANT_DEBUG") != "" {
			stderr.Write(pe.Stack)
		}
		return 1
	}
	return 0
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "litequant: TensorFlow Lite post-training quantization\n\nusage:")
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  litequant %s\n", commands[n].usage)
	}
}

// usageError is a mistake in the command line itself.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func oneLine(s string) string { return strings.ReplaceAll(strings.TrimSpace(s), "\n", "; ") }

// parseArgs parses flags that may come before, between or after positional
// arguments, and returns the positional ones.
func parseArgs(fs *flag.FlagSet, args []string) ([]string, error) {
	fs.SetOutput(io.Discard)
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, err
			}
			return nil, usageError{err.Error()}
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		if args[0] == "--" {
			return append(pos, args[1:]...), nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}
