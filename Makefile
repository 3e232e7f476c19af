# imgmgr: `make run` sets up and starts the server; `make test` sets up and
# runs every test. Both install what they need (scripts/deps.sh) and are
# safe to run again. See README.md.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.NOTPARALLEL:
.DEFAULT_GOAL := build
MAKEFLAGS += --no-print-directory

export PATH := $(PATH):/usr/local/go/bin

BIN      := imgmgr
ARGS     ?=
TEST_ENV := .cache/test-env
STEP     := scripts/step.sh
# Loads the addresses scripts/services.sh wrote (IMGMGR_TEST_*), if any.
LOAD_TEST_ENV := if [ -f $(TEST_ENV) ]; then set -a; . ./$(TEST_ENV); set +a; fi;
# npm packages with tests: web/ and each e2e/*/ that has a package.json.
NPM_DIRS := $(patsubst %/package.json,%,$(wildcard web/package.json e2e/*/package.json))

.PHONY: build web go run test deps deps-test services services-stop vet fmt test-npm test-go clean

## build: the web UI (when web/ exists), then the imgmgr binary (when cmd/imgmgr exists)
build: web go

# The UI is rebuilt only when a file under web/ is newer than the last build.
web:
	@if [ -f web/package.json ]; then \
		if [ -f web/dist/index.html ] && [ -d web/node_modules ] && [ -z "$$(find web \( -path web/node_modules -o -path web/dist \) -prune \
			-o -type f -newer web/dist/index.html -print -quit)" ]; then \
			printf '\n==> web: up to date (web/dist is newer than every file under web/)\n'; \
		else \
			$(STEP) "web: npm ci + npm run build" bash -c 'scripts/npm-ci.sh web && cd web && npm run build'; \
		fi; \
	else \
		printf '\n==> web: skipped (no web/package.json yet)\n'; \
	fi

go:
	@if [ -d cmd/imgmgr ]; then \
		$(STEP) "go build -o $(BIN) ./cmd/imgmgr" go build -o $(BIN) ./cmd/imgmgr; \
	else \
		printf '\n==> go build: skipped (no cmd/imgmgr yet)\n'; \
	fi

## run: install what is missing, build, start the server on embedded defaults (ARGS=... for flags)
run: deps build
	@if [ ! -x ./$(BIN) ]; then echo "nothing to run: cmd/imgmgr does not exist yet"; exit 0; fi; \
	printf '\n==> ./%s %s\n' "$(BIN)" "$(ARGS)"; \
	exec ./$(BIN) $(ARGS)

## test: install what is missing, start the test services, build, vet, gofmt, npm tests, go test
# go test runs last so that its closing lines end the output.
test: deps-test services build vet fmt test-npm test-go

deps:
	@scripts/deps.sh build

deps-test:
	@scripts/deps.sh test

services:
	@scripts/services.sh start

services-stop:
	@scripts/services.sh stop

vet:
	@$(STEP) "go vet ./..." go vet ./...

fmt:
	@$(STEP) "gofmt check" bash -c '\
		out=$$(find . \( -name .git -o -name node_modules -o -name .cache \) -prune -o -name "*.go" -print0 | xargs -0 -r gofmt -l); \
		if [ -n "$$out" ]; then echo "these files need gofmt -w:"; echo "$$out"; exit 1; fi'

# In a package with an "e2e" script and a non-empty e2e/ folder, the browser
# suite runs too (npm run e2e), with IMGMGR_BIN naming the built server.
test-npm:
	@if [ -z "$(NPM_DIRS)" ]; then printf '\n==> npm tests: skipped (no web/ or e2e/*/ package.json yet)\n'; fi
	@$(LOAD_TEST_ENV) export IMGMGR_BIN="$$PWD/$(BIN)"; \
	for d in $(NPM_DIRS); do \
		$(STEP) "$$d: npm ci" scripts/npm-ci.sh "$$d"; \
		$(STEP) "$$d: npm test" bash -c "cd $$d && npm test"; \
		if [ -n "$$(ls -A $$d/e2e 2>/dev/null)" ] && \
			node -e 'process.exit(require("./'$$d'/package.json").scripts?.e2e ? 0 : 1)'; then \
			$(STEP) "$$d: npm run e2e (browser, against ./$(BIN))" bash -c "cd $$d && npm run e2e"; \
		fi; \
	done

# ./... skips testdata/, so the hostile corpus generator's check is named.
test-go:
	@$(LOAD_TEST_ENV) printf '\n==> go test -race -count=1 ./... ./testdata/hostile/gen\n'; \
	go test -race -count=1 ./... ./testdata/hostile/gen

## clean: remove build outputs and installed node_modules (not ./data, not the services)
clean:
	rm -f $(BIN)
	if [ -d web/dist ]; then find web/dist -mindepth 1 -not -name .gitkeep -delete; fi
	rm -rf web/node_modules e2e/*/node_modules .cache
