# berth — run `make run` to start on embedded defaults, `make test` to run everything.
SHELL := /bin/bash
GO ?= go
BERTH_TOOLS ?= $(HOME)/.cache/berth/tools
export BERTH_TOOLS
export GOFLAGS := -buildvcs=false
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -X main.version=$(VERSION)

.PHONY: build run test test-unit tools lint bench bench-quick image clean

build: ## build bin/berth
	$(GO) build -ldflags "$(LDFLAGS)" -o bin/berth ./cmd/berth

run: build ## start berth on embedded defaults (HTTPS on 127.0.0.1:5000, data in ./berth-data)
	./bin/berth serve

tools: ## install the pinned test tools into $(BERTH_TOOLS) when missing
	scripts/install-tools.sh all

test: tools ## every test: unit, driver suites, MinIO, clients, conformance
	$(GO) build -o bin/berth-test ./cmd/berth
	BERTH_BIN=$(CURDIR)/bin/berth-test $(GO) test -short -count=1 -timeout 40m ./...

# Every package whose tests need no server of their own (MinIO, PostgreSQL)
# and no client tool beyond the aws CLI: with the race detector.
UNIT_PKGS = $(shell $(GO) list ./... | grep -v '/tests/')

test-unit: ## every test that needs no external server, with -race (a few minutes)
	BERTH_SKIP_MINIO=1 BERTH_SKIP_POSTGRES=1 $(GO) test -short -race -count=1 -timeout 20m $(UNIT_PKGS)

lint: tools ## gofmt, go vet and staticcheck (pinned, from scripts/install-tools.sh)
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	$(BERTH_TOOLS)/bin/staticcheck ./...

bench: tools ## berth vs the reference registry and raw MinIO; writes bench/results.json
	$(GO) run ./cmd/berth-bench

bench-quick: tools
	BENCH_QUICK=1 $(GO) run ./cmd/berth-bench

image: ## a container image from a static build (works offline: FROM scratch)
	CGO_ENABLED=0 $(GO) build -ldflags "$(LDFLAGS)" -o deploy/image/berth ./cmd/berth
	cp /etc/ssl/certs/ca-certificates.crt deploy/image/ca-certificates.crt
	docker build -t berth:$(VERSION) -t berth:latest deploy/image

clean:
	rm -rf bin deploy/image/berth deploy/image/ca-certificates.crt
