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

## serve: build and serve the page (the browser converter arrives with its
## own issue; until then this builds the CLI and says so)
serve: build
	@echo "litequant CLI built at $(BIN)/litequant."
	@echo "The in-browser page (wasm/ + site/) is not built yet: nothing to serve at http://127.0.0.1:8080 until it lands."

## deps: what the tests need on a fresh Debian machine
deps: npm-deps

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
test: deps vet
	$(GO) test -timeout 40m ./...

## fuzz: run each fuzz target for FUZZTIME (default 5m)
FUZZTIME ?= 5m
fuzz:
	$(GO) test -run XXX -fuzz FuzzLoad -fuzztime $(FUZZTIME) -fuzzminimizetime 100x ./core/tflite
	$(GO) test -run XXX -fuzz FuzzVerify -fuzztime $(FUZZTIME) -fuzzminimizetime 100x ./core/schema

## generate: regenerate code derived from core/schema/tflite.fbs (needs
## Debian's flatbuffers-compiler, flatc 2.0.8)
generate:
	$(GO) run ./scripts/genschema

clean:
	rm -rf $(BIN)
