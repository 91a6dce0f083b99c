# rota: make run starts the daemon on the example configuration; make test
# runs everything CI runs.

GO      ?= go
VERSION ?= $(shell git describe --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -X main.version=$(VERSION)
BIN     := bin/rotad

.PHONY: all build run test test-short test-go test-postgres test-dates test-deps tree-mark tree-check vet fmt-check fuzz bench bench-go bench-load clean

all: build

build:
	$(GO) build -ldflags "$(LDFLAGS)" -o $(BIN) ./cmd/rotad

# Runs rotad on the embedded defaults: config.example.toml, an SQLite file
# under ./data/, the log notifier. No account or secret is needed. The web
# UI is at http://127.0.0.1:8080/ with the development sign-in (anyone on
# this machine signs in as anyone; loopback only, logged loudly).
run: build
	./$(BIN) serve --config config.example.toml --dev-sign-in

vet:
	$(GO) vet ./...

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi

# The whole suite runs on SQLite; the store, engine and API suites run
# again on PostgreSQL (a private cluster the tests start; see store/pgtest)
# and at pinned instants (test-dates). The tree must be as the run found
# it: test-deps to tree-check below, in this order.
test: test-deps fmt-check vet tree-mark test-go test-postgres test-dates tree-check

# -parallel 4: the end-to-end tests that mostly wait on real time (an
# outage, a full disk, a database stopped and hung, Slack's pacing) run
# side by side. The replay of a generated year goes through the engine,
# ten times slower under the race detector: it runs once without.
test-go:
	$(GO) test -race -count=1 -parallel 4 ./...
	$(GO) test -count=1 -run TestExampleOnAGeneratedYear ./paging/replay

test-postgres:
	ROTA_TEST_STORE=postgres $(GO) test -race -count=1 ./store/... ./paging ./api

# The inner loop: every package on real SQLite files, without the race
# detector and without what runs rotad processes, PostgreSQL or a browser
# (testing.Short). Under a minute on a 2-core machine.
test-short:
	$(GO) test -short -count=1 ./...

# The fast suites at the instants that break calendars: an even and an
# odd week of the fixtures' rotations (from 2026-01-06), the spring and
# autumn changes in Europe and the US in the hour that is skipped or
# repeated, 29 February, and the last seconds of a year. The run's clock
# starts there (ROTA_TEST_NOW; see package clocktest) and runs on. Two
# instants run at a time; each prints its output when it is done.
TEST_DATES ?= 2026-12-09T12:00:00Z 2026-12-16T12:00:00Z \
	2027-03-28T01:59:30+01:00 2027-10-31T02:30:00+02:00 \
	2027-03-14T01:59:30-05:00 2027-11-07T01:30:00-04:00 \
	2028-02-29T12:00:00Z 2026-12-31T23:59:30Z
DATE_PACKAGES ?= . ./scheduler ./policy ./config ./store ./paging ./paging/replay ./api
test-dates:
	@mkdir -p bin; $(GO) test -short -count=1 -run '^$$' $(DATE_PACKAGES) >/dev/null; \
	printf '%s\n' $(TEST_DATES) | xargs -P 2 -I AT sh -c \
		'ROTA_TEST_NOW=AT $(GO) test -short -count=1 $(DATE_PACKAGES) > "bin/dates-AT.txt" 2>&1; s=$$?; echo "== ROTA_TEST_NOW=AT"; cat "bin/dates-AT.txt"; rm -f "bin/dates-AT.txt"; exit $$s' 

# tree-mark notes git status before the tests; tree-check fails if they
# changed it (a clean checkout must stay clean) or if a tracked file is
# over 1 MB (binaries and screenshots belong outside the repository).
TREE_MARK := bin/.tree-before
tree-mark:
	@mkdir -p bin; git status --porcelain > $(TREE_MARK) 2>/dev/null || true
tree-check:
	@if git rev-parse --git-dir >/dev/null 2>&1; then \
		git status --porcelain > $(TREE_MARK).after; \
		if ! cmp -s $(TREE_MARK) $(TREE_MARK).after; then \
			echo "the tests changed the work tree (git status before, then after):"; \
			diff $(TREE_MARK) $(TREE_MARK).after; exit 1; fi; \
		big=$$(git ls-files -z | xargs -0 -r stat -c '%s %n' 2>/dev/null | awk '$$1 > 1048576 {print $$2 " (" $$1 " bytes)"}'); \
		if [ -n "$$big" ]; then echo "tracked files over 1 MB:"; echo "$$big"; exit 1; fi; \
		echo "tree: as the tests found it; no tracked file over 1 MB"; \
	fi

# What the tests need beyond Go, from Debian: python3-icalendar (an
# independent parser the calendar feeds are checked with), chromium (the
# web UI's and the report page's browser tests) and postgresql (the store
# on PostgreSQL). Installed when missing and this is a root shell with
# apt-get (CI, a fresh machine); elsewhere the tests that need them say
# how to install them.
test-deps:
	@missing=""; \
	/usr/bin/python3 -c 'import icalendar' 2>/dev/null || missing="$$missing python3-icalendar"; \
	command -v chromium >/dev/null || missing="$$missing chromium"; \
	command -v prometheus-alertmanager >/dev/null || command -v alertmanager >/dev/null || missing="$$missing prometheus-alertmanager"; \
	command -v initdb >/dev/null || ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing="$$missing postgresql"; \
	if [ -n "$$missing" ]; then \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
			echo "installing$$missing"; \
			(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing) >/dev/null; \
		else echo "note: missing$$missing (apt-get install$$missing): the tests that need them will be skipped"; fi; \
	fi

# Fuzz every decoder of outside input for FUZZTIME each.
FUZZTIME ?= 30s
fuzz:
	for f in FuzzMux FuzzDecodeNative FuzzDecodePagerDuty FuzzDecodeOpsgenie FuzzDecodeAlertmanager FuzzVerifyGrafana FuzzDecodePagerDutyChange FuzzDecodeGitHubDeployment; do \
		$(GO) test ./api -run '^$$' -fuzz "^$$f\$$" -fuzztime $(FUZZTIME) || exit 1; done

# Benchmarks: Go benchmarks, then the HTTP load command against a real
# rotad, including the hard case: a storm over 20 services, on SQLite and
# on PostgreSQL with one and three daemons (statements per incident and
# deadlocks in the server's log are printed). Figures go to docs/PERFORMANCE.md with the command that made them.
bench: bench-go bench-load

bench-go:
	$(GO) test -run '^$$' -bench . -benchmem -count 5 ./scheduler/ ./api/ ./store/ ./paging/ ./paging/replay/

bench-load: build
	$(GO) run ./cmd/rotabench oncall --rotad $(BIN) --rotations 200 --duration 10s --concurrency 16
	$(GO) run ./cmd/rotabench ingest --rotad $(BIN) --duration 10s --concurrency 32
	$(GO) run ./cmd/rotabench ingest --rotad $(BIN) --rate 200 --duration 20s --concurrency 16 --step-delay 2s --group off --services 500
	$(GO) run ./cmd/rotabench ingest --rotad $(BIN) --rate 200 --duration 20s --concurrency 16 --step-delay 2s --group off --services 500 --updates
	$(GO) run ./cmd/rotabench twilio --rotad $(BIN) --alerts 100 --rounds 5
	$(GO) run ./cmd/rotabench ingest --rotad $(BIN) --duration 10s --concurrency 32 --group off --services 20
	$(GO) run ./cmd/rotabench ingest --rotad $(BIN) --duration 10s --concurrency 32 --group off --services 20 --postgres
	$(GO) run ./cmd/rotabench ingest --rotad $(BIN) --duration 10s --concurrency 32 --group off --services 20 --postgres --daemons 3
	$(GO) run ./cmd/rotabench ingest --rotad $(BIN) --duration 10s --concurrency 32 --group off --services 500 --postgres
	$(GO) run ./cmd/rotabench ingest --rotad $(BIN) --duration 10s --concurrency 32 --group off --services 500 --postgres --daemons 3
	$(GO) run ./cmd/rotabench ingest --rotad $(BIN) --rate 200 --duration 20s --concurrency 16 --step-delay 2s --group off --services 500 --postgres
	$(GO) run ./cmd/rotabench ingest --rotad $(BIN) --rate 200 --duration 20s --concurrency 16 --step-delay 2s --group off --services 500 --postgres --daemons 3

clean:
	rm -rf bin
