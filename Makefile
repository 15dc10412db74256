# The README's two commands are `make demo` and `make test`.
SHELL := /bin/bash
export PATH := $(PATH):/usr/local/go/bin:$(HOME)/go/bin
GO ?= go
BIN := bin/contactsync
DEMO_DIR := $(or $(DEMO_DIR),$(shell mktemp -d))

.PHONY: build demo demo-store test lint unit fuzz bench deps clean

build:
	$(GO) build -o $(BIN) ./cmd/contactsync

# The main job: the multi-device test bed on the embedded CardDAV server (in-process, loopback, temp data):
# 3 devices, 500 contacts, random concurrent edits, worker processes SIGKILLed and restarted, 10% injected
# faults, then a convergence report. DEMO_FLAGS overrides the run (e.g. DEMO_FLAGS='--seed 9 --json').
DEMO_FLAGS ?= --devices 3 --contacts 500 --ops 50 --kill-rate 1 --fault-rate 0.1 --duration 10s --seed 1

demo: build
	$(BIN) testbed $(DEMO_FLAGS)

# The store on its own: import the sample address book shipped in the repo into a fresh store and list it.
demo-store: build
	$(BIN) --db $(DEMO_DIR)/contacts.db import testdata/sample/addressbook.vcf
	$(BIN) --db $(DEMO_DIR)/contacts.db list
	$(BIN) --db $(DEMO_DIR)/contacts.db changes --since 0 | tail -n 3

deps:
	.ci/deps

lint:
	test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); echo 'gofmt: files above need formatting'; exit 1; }
	$(GO) mod tidy -diff || { echo 'go.mod/go.sum: run go mod tidy'; exit 1; }
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
