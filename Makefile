# sdtriage: the two commands a newcomer needs are `make demo` and `make test`.
# Everything that talks to Kafka or Elasticsearch runs against real servers
# started by testenv/testenv.sh (Java 17 + Maven; no Docker needed).

GO       ?= go
TESTENV  := testenv/testenv.sh
FUZZTIME ?= 10s

.PHONY: build up down test vet fuzz bench report-bench demo soak clean

## demo: start the servers, generate two weeks of traffic, ingest it, print the report
demo:
	scripts/demo.sh

build:
	$(GO) build -o bin/ ./cmd/...

## up: start Kafka (127.0.0.1:9092) and Elasticsearch (127.0.0.1:9200); prints export lines
up:
	@$(TESTENV) up

## down: stop what `make up` started and remove its state
down:
	@$(TESTENV) down

vet:
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { echo "gofmt needed:"; gofmt -l $$(git ls-files '*.go'); exit 1; }
	$(GO) vet ./...

## test: vet, then every test with -race against the real servers (started
## when not running, and stopped afterwards if this target started them),
## then a short run of every fuzz target.
test: vet
	$(TESTENV) with $(GO) test -race -count=1 ./...
	@$(MAKE) --no-print-directory fuzz

# Every fuzz target, as package:Target; `make fuzz FUZZTIME=5m` for a longer run.
FUZZ_TARGETS := \
	./rules:FuzzParse \
	./rules:FuzzParseTests \
	./classify:FuzzClassify \
	./classify:FuzzAppendDocument \
	./classify:FuzzScanObject \
	./classify:FuzzMask \
	./classify:FuzzAppendJSONString \
	./pipeline:FuzzParseBulkResponse \
	./cmd/ingest:FuzzConfig \
	./report:FuzzFromNDJSON \
	./report:FuzzMessageTemplate \
	./kibana:FuzzParse

fuzz:
	@FUZZTIME=$(FUZZTIME) GO=$(GO) bash scripts/fuzz.sh $(FUZZ_TARGETS)

## bench: the micro-benchmarks on one core, then the end-to-end run on the
## real servers: records/s against the consume and index ceilings, with the
## node on CPUs of its own and then sharing them (BENCH_PLACEMENT), and the
## ingester's peak memory with a backlog of BENCH_RECORDS records.
BENCH_RECORDS ?= 1000000
BENCH_PLACEMENT ?= split,shared
bench: build
	$(GO) test -run='^$$' -bench=. -benchmem -cpu 1 ./classify ./pipeline ./cmd/ingest
	$(TESTENV) with $(GO) run ./internal/e2ebench --records $(BENCH_RECORDS) --placement $(BENCH_PLACEMENT)

## report-bench: the weekly report over an index of REPORT_BENCH_DOCS
## documents (1,000,000), from Elasticsearch and from the same NDJSON.
REPORT_BENCH_DOCS ?= 1000000
report-bench:
	$(TESTENV) with env REPORT_BENCH_DOCS=$(REPORT_BENCH_DOCS) $(GO) test ./report -run '^$$' -bench Large -benchtime 3x -timeout 60m -v

## soak: SOAK_RECORDS records (1,000,000) through a Kafka restart, a
## rebalance (a second ingester joins, then leaves) and an Elasticsearch
## restart, then every position checked: nothing lost, nothing duplicated,
## memory within bound. It runs on a separate pair of servers (ports 39092 and
## 39200, state in SOAK_STATE), started and stopped here, never the shared
## ones. Not part of `make test`; CI runs `make soak SOAK_RECORDS=50000`.
SOAK_RECORDS ?= 1000000
SOAK_STATE   ?= /tmp/sdtriage-soak
soak: build
	SDTRIAGE_STATE=$(SOAK_STATE) KAFKA_PORT=39092 KAFKA_CONTROLLER_PORT=39093 KAFKA_SASL_PORT=39094 \
		ES_PORT=39200 ES_TRANSPORT_PORT=39300 $(TESTENV) with $(GO) run ./internal/soak --records $(SOAK_RECORDS)

clean:
	rm -rf bin
