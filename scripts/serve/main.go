// Command serve builds litequant's static page and serves it locally:
//
//	go run ./scripts/serve                  # build into dist/site, serve at http://127.0.0.1:8080
//	go run ./scripts/serve -serve=false     # build only (make site)
//	go run ./scripts/serve -build=false     # serve an existing folder
//
// The folder it writes is the whole deployable page: copy it to any static
// host. The server adds what a plain host may not: application/wasm, gzip,
// and the Content-Security-Policy header (see sitebuild.Handler).
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"time"

	"litequant/scripts/serve/sitebuild"
)

func main() {
	dir := flag.String("dir", "dist/site", "the site folder to build and serve")
	addr := flag.String("addr", "127.0.0.1:8080", "address to serve on")
	build := flag.Bool("build", true, "build the site into -dir first")
	serve := flag.Bool("serve", true, "serve -dir")
	version := flag.String("version", "", "version string of the converter (default: git describe)")
	flag.Parse()
	log.SetFlags(0)
	log.SetPrefix("serve: ")

	if *build {
		v := *version
		if v == "" {
			v = gitVersion()
		}
		start := time.Now()
		info, err := sitebuild.Build(context.Background(), sitebuild.Options{Root: ".", Out: *dir, Version: v})
		if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("built %s in %.1fs: %d files, litequant.wasm %.1f MiB, build %s\n",
			*dir, time.Since(start).Seconds(), len(info.Files), float64(info.WasmBytes)/(1<<20), info.Build)
	}
	if !*serve {
		return
	}
	if _, err := os.Stat(*dir); err != nil {
		log.Fatal(err)
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("serving %s at http://%s/ (Ctrl-C to stop)\n", *dir, ln.Addr())
	srv := &http.Server{Handler: sitebuild.Handler(*dir), ReadHeaderTimeout: 10 * time.Second}
	log.Fatal(srv.Serve(ln))
}

// gitVersion describes the working tree, or returns "dev".
func gitVersion() string {
	out, err := exec.Command("git", "describe", "--always", "--dirty").Output()
	if err != nil {
		return "dev"
	}
	return strings.TrimSpace(string(out))
}
