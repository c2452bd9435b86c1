package main

import "strings"

// pathList is a repeatable flag of file or folder paths.
type pathList []string

func (l *pathList) String() string     { return strings.Join(*l, ",") }
func (l *pathList) Set(v string) error { *l = append(*l, v); return nil }
