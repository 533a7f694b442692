# gatehouse — developer and CI entry points. `make test` is what CI runs.

GO            ?= go
VERSION       := $(shell git describe --always --dirty 2>/dev/null || echo dev)
LDFLAGS       := -X main.version=$(VERSION)
REDOCLY_CLI   := @redocly/cli@2.77.0
STATICCHECK   := honnef.co/go/tools/cmd/staticcheck@v0.8.2
TEST_TIMEOUT  ?= 10m

# The spec linter: a redocly of the pinned version on the PATH (.ci/run
# installs one), else npx fetches it. Redocly warns about operations
# without a 4XX response (healthz, readyz, ...); warnings pass, errors fail.
REDOCLY = $(shell v=$$(redocly --version 2>/dev/null); [ "$$v" = "$(lastword $(subst @, ,$(REDOCLY_CLI)))" ] && echo redocly || echo npx --yes $(REDOCLY_CLI))
export REDOCLY_TELEMETRY := off
export REDOCLY_SUPPRESS_UPDATE_NOTICE := true

# An execution count, not a duration: a duration-based -fuzztime races the
# fuzzing coordinator's deadline under load and fails with a bare "context
# deadline exceeded" and no crasher (golang/go#75804, unfixed in go1.26).
FUZZTIME      ?= 20000x

.PHONY: console all generate build run test test-postgres postgres-stop vet lint-spec lint bench bench-growth bench-go tidy-check fuzz js-deps sdk

all: build

generate:
	$(GO) generate ./...

build:
	$(GO) build -ldflags "$(LDFLAGS)" -o bin/gatehouse ./cmd/gatehouse

run:
	$(GO) run ./cmd/gatehouse serve

vet:
	$(GO) vet ./...

lint-spec:
	$(REDOCLY) lint openapi.yaml

# The npm clients contract_test's TestJavaScriptClients runs (openid-client,
# oauth4webapi, jose, openapi-typescript, openapi-fetch), exactly as
# interop/js/package-lock.json pins them, and the TypeScript SDK's tools
# (openapi-typescript, typescript, openapi-fetch) as sdk/typescript's lock
# pins them, and the console's (preact, vite, typescript, playwright-core)
# as console's lock pins them. `go build` needs none of them.
js-deps:
	npm ci --prefix interop/js --no-audit --no-fund --loglevel=error
	npm ci --prefix sdk/typescript --no-audit --no-fund --loglevel=error
	npm ci --prefix console --no-audit --no-fund --loglevel=error

# Rebuilds the admin console into console/dist (committed; contract_test's
# TestConsoleBuildFresh fails when it is stale).
console: js-deps
	npm run build --prefix console

# Regenerates the TypeScript SDK from openapi.yaml (src/schema.ts) and
# compiles it with tsc --strict (dist/); contract_test's
# TestTypeScriptSDKFresh fails when the committed files are stale.
sdk: js-deps
	cd sdk/typescript && npm run all

# In order: the npm clients, vet, the spec lint, every test under the race detector with
# PostgreSQL (a throwaway cluster from .ci/postgres.sh, which installs it
# from Debian's packages when missing: the store conformance suite runs on
# SQLite and PostgreSQL, the contract suite and the multi-node test on
# PostgreSQL), the contract suite again on SQLite, then each fuzz target
# briefly (FUZZTIME executions; run longer with `make fuzz FUZZTIME=2000000x`).
test: js-deps vet lint-spec
	url=$$(.ci/postgres.sh) && GATEHOUSE_TEST_POSTGRES="$$url" $(GO) test -race -count=1 -timeout $(TEST_TIMEOUT) ./...
	GATEHOUSE_TEST_POSTGRES= $(GO) test -race -count=1 -timeout $(TEST_TIMEOUT) -skip '^TestMultiNode' ./contract_test/
	$(MAKE) fuzz

# The PostgreSQL tests alone: the store conformance suite on both backends,
# the contract suite and the multi-node test on PostgreSQL.
test-postgres:
	url=$$(.ci/postgres.sh) && GATEHOUSE_TEST_POSTGRES="$$url" $(GO) test -race -count=1 -timeout $(TEST_TIMEOUT) ./store/... ./contract_test/

# Stops the throwaway PostgreSQL cluster and deletes its directory.
postgres-stop:
	.ci/postgres.sh stop

fuzz:
	$(GO) test -run '^$$' -fuzz '^FuzzVerifyAccessToken$$' -fuzztime $(FUZZTIME) ./auth/
	$(GO) test -run '^$$' -fuzz '^FuzzCheckRedirectURI$$' -fuzztime $(FUZZTIME) ./auth/
	$(GO) test -run '^$$' -fuzz '^FuzzValidateAuthRequest$$' -fuzztime $(FUZZTIME) ./auth/
	$(GO) test -run '^$$' -fuzz '^FuzzDialectRequests$$' -fuzztime $(FUZZTIME) ./contract_test/

lint: vet lint-spec
	$(GO) run $(STATICCHECK) ./...

# Load benchmark (bench/README.md): builds the server, seeds a temporary
# database, alternates a minimal baseline and gatehouse per scenario, prints
# req/s, p50, p99, errors and gatehouse/baseline, then a 500-client login
# flood with the server's peak RSS. e.g. make bench BENCH_FLAGS='-users 100000 -out bench.json'
BENCH_FLAGS ?=
bench:
	$(GO) run ./bench/loadgen $(BENCH_FLAGS)

# Login/refresh p50 at 10,000 vs 1,000,000 users, and the seeding time (~11 min here).
bench-growth:
	$(GO) run ./bench/loadgen -growth $(BENCH_FLAGS)

# The Go micro-benchmarks, and login/refresh on PostgreSQL against SQLite.
bench-go:
	$(GO) test -run '^$$' -bench . -benchmem ./auth/ ./bench/
	url=$$(.ci/postgres.sh) && GATEHOUSE_TEST_POSTGRES="$$url" $(GO) test -run '^$$' -bench Grants ./store/

tidy-check:
	$(GO) mod tidy -diff
