# litequant: see README.md. The two commands a fresh machine needs are
# `make serve` and `make test`; everything they need is installed here.

GO      ?= go
BIN     := bin
NPM_DIR := scripts

.PHONY: all build serve test deps npm-deps vet unit fuzz generate clean

all: build

## build: the native CLI at bin/litequant
build:
	$(GO) build -o $(BIN)/litequant ./core/cmd/litequant

# The in-browser converter: wasm/ (GOOS=js GOARCH=wasm) + site/, assembled by
# scripts/serve into one static folder.
SITE_DIR ?= dist/site
.PHONY: site test-wasm wasm-npm-deps chromium-deps

## serve: build the page into $(SITE_DIR) and serve it at http://127.0.0.1:8080
serve:
	$(GO) run ./scripts/serve -dir $(SITE_DIR) -addr 127.0.0.1:8080

## site: write the deployable static page to $(SITE_DIR) (copy it to any static host)
site:
	$(GO) run ./scripts/serve -serve=false -dir $(SITE_DIR)

## test-wasm: vet and test wasm/ as js/wasm under Node (npm's fake-indexeddb
## stands in for the browser's IndexedDB); the browser end-to-end tests are
## in wasm/e2e and run with the native `go test ./...`
test-wasm: wasm-npm-deps
	GOOS=js GOARCH=wasm $(GO) vet ./wasm/...
	NODE_OPTIONS="--require=$(CURDIR)/wasm/node_modules/fake-indexeddb/auto/index.js" \
	  GOOS=js GOARCH=wasm $(GO) test -timeout 10m -exec="$$($(GO) env GOROOT)/lib/wasm/go_js_wasm_exec" ./wasm/

wasm-npm-deps: wasm/node_modules/.package-lock.json

wasm/node_modules/.package-lock.json: wasm/package.json wasm/package-lock.json
	@command -v node >/dev/null || { echo "node is required (Debian: apt-get install nodejs npm)"; exit 1; }
	cd wasm && npm ci --no-audit --no-fund
	@touch $@

# Debian's chromium for the browser end-to-end tests (never a browser download).
chromium-deps:
	@command -v chromium >/dev/null || { \
	  echo "installing Debian's chromium for the browser tests"; \
	  apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y chromium; }

## deps: what the tests need on a fresh Debian machine
deps: npm-deps wasm-npm-deps chromium-deps

# The real TensorFlow Lite runtime (WebAssembly, run by Node) used to check
# every model the project produces.
npm-deps: $(NPM_DIR)/node_modules/.package-lock.json

$(NPM_DIR)/node_modules/.package-lock.json: $(NPM_DIR)/package.json $(NPM_DIR)/package-lock.json
	@command -v node >/dev/null || { echo "node is required (Debian: apt-get install nodejs npm)"; exit 1; }
	cd $(NPM_DIR) && npm ci --no-audit --no-fund
	@touch $@

## vet: static checks
vet:
	@unformatted="$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))"; \
	  if [ -n "$$unformatted" ]; then echo "gofmt needed:"; echo "$$unformatted"; exit 1; fi
	$(GO) vet ./...

## test: install what tests need, then vet and run every test (fuzz seed
## corpora included)
test: deps vet test-wasm
	$(GO) test -timeout 40m ./...

## fuzz: run each fuzz target for FUZZTIME (default 5m), one after the
## other with FUZZPARALLEL workers (default 1: the machine may be shared);
## crashers land in the package's testdata/fuzz, which `make test` replays
FUZZTIME ?= 5m
FUZZPARALLEL ?= 1
FUZZ = $(GO) test -run XXX -fuzztime $(FUZZTIME) -fuzzminimizetime 100x -parallel $(FUZZPARALLEL)
fuzz:
	$(FUZZ) -fuzz '^FuzzLoad$$' ./core/tflite
	$(FUZZ) -fuzz '^FuzzVerify$$' ./core/schema
	$(FUZZ) -fuzz '^FuzzRead$$' ./core/npy
	$(FUZZ) -fuzz '^FuzzSamples$$' ./core/samples
	$(FUZZ) -fuzz '^FuzzWAV$$' ./core/samples
	$(FUZZ) -fuzz '^FuzzNPYSample$$' ./core/samples
	$(FUZZ) -fuzz '^FuzzRun$$' ./core/interp
	$(FUZZ) -fuzz '^FuzzConvert$$' ./core/convert

## generate: regenerate code derived from core/schema/tflite.fbs and
## core/schema/metadata_schema.fbs (needs
## Debian's flatbuffers-compiler, flatc 2.0.8)
generate:
	$(GO) run ./scripts/genschema

clean:
	rm -rf $(BIN)
