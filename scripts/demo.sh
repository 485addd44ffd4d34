#!/usr/bin/env bash
# demo.sh (make demo): the whole pipeline on this machine, end to end.
# Starts Kafka and Elasticsearch (testenv), installs the index template,
# generates two weeks of realistic API-call logs into Kafka, runs the
# ingester until it has indexed every record, and prints the report of
# what was found per category and reason.
#
# Settings: DEMO_RECORDS (100000), ELASTICSEARCH_INDEX (sdtriage), and the
# testenv.sh port variables.
set -euo pipefail
cd "$(dirname "$0")/.."

records=${DEMO_RECORDS:-100000}
export ELASTICSEARCH_INDEX=${ELASTICSEARCH_INDEX:-sdtriage}
# A topic and group of their own per run, so a second demo does not count
# the first one's records twice.
run_id=$(date +%Y%m%d%H%M%S)
export KAFKA_TOPIC=sdtriage.demo.$run_id KAFKA_GROUP=sdtriage-demo-$run_id
export METRICS_ADDR=127.0.0.1:${DEMO_METRICS_PORT:-9464}

step() { printf '\n==> %s\n' "$*" >&2; }

step "building bin/ingest and bin/report"
go build -o bin/ ./cmd/...

step "starting Kafka and Elasticsearch (testenv/testenv.sh up)"
eval "$(testenv/testenv.sh up)"

step "removing the daily indices of an earlier demo ($ELASTICSEARCH_INDEX-YYYY.MM.DD)"
for index in $(curl -fsS "$ELASTICSEARCH_URL/_cat/indices/$ELASTICSEARCH_INDEX-*?h=index" || true); do
	if [[ $index =~ ^$ELASTICSEARCH_INDEX-[0-9]{4}\.[0-9]{2}\.[0-9]{2}$ ]]; then
		curl -fsS -o /dev/null -X DELETE "$ELASTICSEARCH_URL/$index"
	fi
done

step "installing the index template (ingest setup)"
bin/ingest setup

to=$(date -u +%Y-%m-%dT%H:%M:%SZ)
from=$(date -u -d '14 days ago' +%Y-%m-%dT%H:%M:%SZ)
step "generating $records API calls from $from to $to into Kafka topic $KAFKA_TOPIC"
bin/ingest generate --seed 7 --count "$records" --from "$from" --to "$to" --kafka-topic "$KAFKA_TOPIC"

step "running the ingester until every record is indexed or dead-lettered"
bin/ingest run >.testenv/demo-ingest.log 2>&1 &
ingest=$!
trap 'kill $ingest 2>/dev/null || true' EXIT
metric() { curl -fsS "http://$METRICS_ADDR/metrics" 2>/dev/null | awk -v m="$1" '$1 == m { print $2 }'; }
start=$SECONDS
while :; do
	sleep 2
	kill -0 $ingest 2>/dev/null || { tail -20 .testenv/demo-ingest.log >&2; echo "demo: the ingester exited" >&2; exit 1; }
	consumed=$(metric sdtriage_records_consumed_total)
	inflight=$(metric sdtriage_records_in_flight)
	printf '    %s of %s records consumed, %s in flight\n' "${consumed:-0}" "$records" "${inflight:-?}" >&2
	if [[ ${consumed:-0} == "$records" && ${inflight:-1} == 0 ]]; then break; fi
	((SECONDS - start < 600)) || { echo "demo: not caught up after 10 minutes; see .testenv/demo-ingest.log" >&2; exit 1; }
done
kill -TERM $ingest
wait $ingest
trap - EXIT
elapsed=$((SECONDS - start))
indexed=$(curl -fsS "$ELASTICSEARCH_URL/$ELASTICSEARCH_INDEX-*/_count?filter_path=count" -H 'content-type: application/json' |
	tr -dc '0-9')
printf '    %s documents in %s-* after %ss\n' "$indexed" "$ELASTICSEARCH_INDEX" "$elapsed" >&2

step "what was found, per category and reason (bin/report)"
curl -fsS -o /dev/null -X POST "$ELASTICSEARCH_URL/$ELASTICSEARCH_INDEX-*/_refresh"
bin/report --from "$(date -u -d '14 days ago' +%Y-%m-%d)" --to "$(date -u -d tomorrow +%Y-%m-%d)" --top 5

cat >&2 <<MSG

The servers are still running; the documents are in $ELASTICSEARCH_URL/$ELASTICSEARCH_INDEX-*.
Try:  bin/report --format html --out report.html --from $(date -u -d '14 days ago' +%Y-%m-%d) --to $(date -u -d tomorrow +%Y-%m-%d)
Stop: make down
MSG
