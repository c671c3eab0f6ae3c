# The two commands a newcomer needs are `make run` and `make test` (see README.md).
GO ?= go
export GOTOOLCHAIN ?= local

.PHONY: run test check bench build clean

build:
	$(GO) build -o bin/renewbot ./cmd/renewbot

# Local services (kept in .run/ between runs) + the sandbox web chat on
# http://127.0.0.1:8080. With TELEGRAM_TOKEN set, the bot talks to real Telegram.
run: build
	@mkdir -p .run
	SERVICES_DIR=$(CURDIR)/.run/services scripts/with-services.sh sh -c \
	  'if [ -n "$$TELEGRAM_TOKEN" ]; then exec bin/renewbot serve; else exec bin/renewbot sandbox; fi'

check:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	  if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...

test: check
	scripts/test-deps.sh
	scripts/with-services.sh $(GO) test -count=1 -timeout 15m ./...

bench:
	scripts/with-services.sh $(GO) test -run '^$$' -bench . -benchmem -timeout 30m ./...

clean:
	rm -rf bin .run
