# The README's two commands are `make demo` and `make test`.
SHELL := /bin/bash
export PATH := $(PATH):/usr/local/go/bin:$(HOME)/go/bin
GO ?= go
BIN := bin/contactsync
DEMO_DIR := $(or $(DEMO_DIR),$(shell mktemp -d))

.PHONY: build demo test lint unit fuzz bench deps clean

build:
	$(GO) build -o $(BIN) ./cmd/contactsync

# The main job on the embedded defaults.
demo: build
	$(BIN) --db $(DEMO_DIR)/contacts.db import testdata/sample/addressbook.vcf
	$(BIN) --db $(DEMO_DIR)/contacts.db list
	$(BIN) --db $(DEMO_DIR)/contacts.db changes --since 0 | tail -n 3

deps:
	.ci/deps

lint:
	test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); echo 'gofmt: files above need formatting'; exit 1; }
	$(GO) vet ./...
	staticcheck ./...

unit:
	$(GO) test -race -count=1 -timeout 40m ./...

fuzz:
	.ci/fuzz

# Installs and starts what the tests need, then lints, runs every test with the race detector, and fuzzes briefly.
test: deps lint unit fuzz

bench: build
	bench/run

clean:
	rm -rf bin
