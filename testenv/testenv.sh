#!/usr/bin/env bash
# testenv.sh starts and stops the real servers that sdtriage's integration
# tests, demo and benchmarks run against: one Apache Kafka broker (KRaft) and
# one Elasticsearch node, both from their own jars on Maven Central, run with
# the machine's Java 17. No Docker.
#
#   testenv.sh up                  start both (harmless when already running)
#   testenv.sh down                stop what `up` started (by pid), remove the state
#   testenv.sh start kafka|elasticsearch   start one, keeping its data
#   testenv.sh stop  kafka|elasticsearch   stop one, keeping its data (fault tests)
#   testenv.sh status              which of them run
#   testenv.sh env                 print the export lines
#   testenv.sh with CMD [ARG...]   run CMD with both servers up and their
#                                  variables exported; stops afterwards only
#                                  what it had to start
#
# The broker also has a SASL_SSL listener (KAFKA_SASL_PORT, 9094) on a
# certificate signed by a CA generated here (.testenv/kafka/tls/ca.crt), with
# the user sdtriage / sdtriage-secret for PLAIN, SCRAM-SHA-256 and
# SCRAM-SHA-512, so that secure connections are tested for real.
#
# Settings (environment): SDTRIAGE_STATE (default: <repo>/.testenv), KAFKA_PORT
# (9092), KAFKA_CONTROLLER_PORT (9093), KAFKA_SASL_PORT (9094), ES_PORT (9200),
# ES_TRANSPORT_PORT (9300), KAFKA_HEAP (512m), ES_HEAP (1g).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(dirname "$here")
state=${SDTRIAGE_STATE:-$root/.testenv}
kafka_port=${KAFKA_PORT:-9092}
controller_port=${KAFKA_CONTROLLER_PORT:-9093}
sasl_port=${KAFKA_SASL_PORT:-9094}
sasl_user=sdtriage
sasl_password=sdtriage-secret
es_port=${ES_PORT:-9200}
es_transport_port=${ES_TRANSPORT_PORT:-9300}
kafka_heap=${KAFKA_HEAP:-512m}
es_heap=${ES_HEAP:-1g}
# A fixed KRaft cluster id: base64url of the 16 bytes "sdtriage-testenv".
kafka_cluster_id=c2R0cmlhZ2UtdGVzdGVudg

say() { printf 'testenv: %s\n' "$*" >&2; }
die() { say "$*"; exit 1; }

need() {
	command -v java >/dev/null || die "java not found: install a JDK 17 (Debian: apt-get install openjdk-17-jdk-headless)"
	command -v mvn >/dev/null || die "mvn not found: install Maven (Debian: apt-get install maven)"
	command -v curl >/dev/null || die "curl not found (Debian: apt-get install curl)"
}

# classpath SERVICE prints the classpath of a service's pom, resolving its
# jars into ~/.m2 on first use. The result is cached beside ~/.m2, keyed by the
# pom's checksum, so a warm start runs no Maven at all.
classpath() {
	local pom=$here/$1/pom.xml cache sum out
	sum=$(sha256sum "$pom" | cut -c1-16)
	cache=${XDG_CACHE_HOME:-$HOME/.cache}/sdtriage-testenv
	out=$cache/$1-$sum.classpath
	if [[ -s $out ]] && all_exist "$(cat "$out")"; then
		cat "$out"
		return
	fi
	mkdir -p "$cache" "$state/$1"
	say "$1: resolving jars from Maven Central into ~/.m2 (first start only)"
	mvn -q -B -f "$pom" dependency:build-classpath -Dmdep.outputFile="$out.tmp" >"$state/$1/mvn.log" 2>&1 ||
		{ cat "$state/$1/mvn.log" >&2; die "$1: mvn could not resolve $pom"; }
	mv "$out.tmp" "$out"
	cat "$out"
}

all_exist() {
	local jar
	IFS=: read -ra jars <<<"$1"
	for jar in "${jars[@]}"; do [[ -f $jar ]] || return 1; done
}

pidfile() { printf '%s/%s/pid' "$state" "$1"; }

running() {
	local f
	f=$(pidfile "$1")
	[[ -f $f ]] && kill -0 "$(cat "$f")" 2>/dev/null
}

port_free() {
	! ss -Hltn "sport = :$1" 2>/dev/null | grep -q .
}

check_port() {
	port_free "$1" || die "port $1 ($2) is already in use by another process: stop it, or choose another port with $3"
}

wait_for() { # wait_for SERVICE SECONDS CHECK...
	local service=$1 seconds=$2
	shift 2
	local deadline=$((SECONDS + seconds))
	until "$@" >/dev/null 2>&1; do
		if ! running "$service"; then
			tail -n 40 "$state/$service/stdout.log" >&2 || true
			die "$service exited during start; its log is $state/$service/stdout.log"
		fi
		((SECONDS < deadline)) || die "$service did not become ready within ${seconds}s; log: $state/$service/stdout.log"
		sleep 0.5
	done
}

# make_tls DIR makes a CA and a broker certificate for 127.0.0.1 / localhost
# signed by it, once per state folder.
make_tls() {
	local d=$1
	[[ -f $d/broker.p12 ]] && return
	command -v openssl >/dev/null || die "openssl not found (Debian: apt-get install openssl)"
	mkdir -p "$d"
	{
		openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj "/CN=sdtriage testenv CA" \
			-keyout "$d/ca.key" -out "$d/ca.crt"
		openssl req -newkey rsa:2048 -nodes -subj "/CN=localhost" -keyout "$d/broker.key" -out "$d/broker.csr"
		printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\n' >"$d/san.ext"
		openssl x509 -req -in "$d/broker.csr" -CA "$d/ca.crt" -CAkey "$d/ca.key" -CAcreateserial -days 3650 \
			-extfile "$d/san.ext" -out "$d/broker.crt"
		openssl pkcs12 -export -in "$d/broker.crt" -inkey "$d/broker.key" -certfile "$d/ca.crt" \
			-name broker -passout pass:testenv -out "$d/broker.p12"
	} >"$d/openssl.log" 2>&1 || { cat "$d/openssl.log" >&2; die "kafka: making the test certificates failed"; }
}

kafka_ready() {
	# The broker is ready once it has registered and opened its listener.
	grep -q 'Kafka Server started' "$state/kafka/stdout.log" && ! port_free "$kafka_port"
}

start_kafka() {
	if running kafka; then
		say "kafka already running (pid $(cat "$(pidfile kafka)"))"
		return
	fi
	check_port "$kafka_port" "Kafka" KAFKA_PORT
	check_port "$controller_port" "Kafka controller" KAFKA_CONTROLLER_PORT
	check_port "$sasl_port" "Kafka SASL_SSL" KAFKA_SASL_PORT
	local cp dir=$state/kafka
	cp=$(classpath kafka)
	mkdir -p "$dir/data"
	make_tls "$dir/tls"
	cat >"$dir/server.properties" <<EOF
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$controller_port
listeners=PLAINTEXT://127.0.0.1:$kafka_port,CONTROLLER://127.0.0.1:$controller_port,SASL_SSL://127.0.0.1:$sasl_port
advertised.listeners=PLAINTEXT://127.0.0.1:$kafka_port,SASL_SSL://127.0.0.1:$sasl_port
controller.listener.names=CONTROLLER
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT,SASL_SSL:SASL_SSL
inter.broker.listener.name=PLAINTEXT
sasl.enabled.mechanisms=PLAIN,SCRAM-SHA-256,SCRAM-SHA-512
listener.name.sasl_ssl.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required user_$sasl_user="$sasl_password";
listener.name.sasl_ssl.scram-sha-256.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;
listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;
listener.name.sasl_ssl.ssl.keystore.type=PKCS12
listener.name.sasl_ssl.ssl.keystore.location=$dir/tls/broker.p12
listener.name.sasl_ssl.ssl.keystore.password=testenv
log.dirs=$dir/data
num.partitions=1
offsets.topic.replication.factor=1
offsets.topic.num.partitions=10
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
group.initial.rebalance.delay.ms=0
auto.create.topics.enable=false
EOF
	cat >"$dir/log4j.properties" <<EOF
log4j.rootLogger=INFO, stdout
log4j.appender.stdout=org.apache.log4j.ConsoleAppender
log4j.appender.stdout.layout=org.apache.log4j.PatternLayout
log4j.appender.stdout.layout.ConversionPattern=[%d] %p %m (%c)%n
log4j.logger.kafka=INFO
log4j.logger.org.apache.kafka=WARN
log4j.logger.state.change.logger=WARN
EOF
	local jvm=(-Xms"$kafka_heap" -Xmx"$kafka_heap" -XX:+UseG1GC -Djava.awt.headless=true
		-Dlog4j.configuration="file:$dir/log4j.properties" -cp "$cp")
	if [[ ! -f $dir/data/meta.properties ]]; then
		java "${jvm[@]}" kafka.tools.StorageTool format -t "$kafka_cluster_id" -c "$dir/server.properties" \
			--add-scram "SCRAM-SHA-256=[name=$sasl_user,password=$sasl_password]" \
			--add-scram "SCRAM-SHA-512=[name=$sasl_user,password=$sasl_password]" \
			>"$dir/format.log" 2>&1 || { cat "$dir/format.log" >&2; die "kafka: formatting the KRaft log failed"; }
	fi
	: >"$dir/stdout.log"
	nohup java "${jvm[@]}" kafka.Kafka "$dir/server.properties" >>"$dir/stdout.log" 2>&1 </dev/null &
	echo $! >"$(pidfile kafka)"
	wait_for kafka 90 kafka_ready
	say "kafka ready on 127.0.0.1:$kafka_port (pid $(cat "$(pidfile kafka)"))"
}

es_ready() {
	curl -fsS --max-time 2 "http://127.0.0.1:$es_port/_cluster/health?wait_for_status=yellow&timeout=1s"
}

start_elasticsearch() {
	if running elasticsearch; then
		say "elasticsearch already running (pid $(cat "$(pidfile elasticsearch)"))"
		return
	fi
	check_port "$es_port" "Elasticsearch HTTP" ES_PORT
	check_port "$es_transport_port" "Elasticsearch transport" ES_TRANSPORT_PORT
	local cp dir=$state/elasticsearch
	cp=$(classpath elasticsearch)
	mkdir -p "$dir/classes"
	javac -nowarn -d "$dir/classes" -cp "$cp" "$here"/elasticsearch/src/org/elasticsearch/node/*.java \
		>"$dir/javac.log" 2>&1 || { cat "$dir/javac.log" >&2; die "elasticsearch: compiling the launcher failed"; }
	: >"$dir/stdout.log"
	nohup java -Xms"$es_heap" -Xmx"$es_heap" -XX:+UseG1GC -Djava.awt.headless=true \
		-Dio.netty.allocator.type=pooled -Dlog4j2.disable.jmx=true \
		-cp "$dir/classes:$cp" org.elasticsearch.node.SdtriageTestNode "$dir" "$es_port" "$es_transport_port" \
		>>"$dir/stdout.log" 2>&1 </dev/null &
	echo $! >"$(pidfile elasticsearch)"
	wait_for elasticsearch 120 es_ready
	say "elasticsearch ready on 127.0.0.1:$es_port (pid $(cat "$(pidfile elasticsearch)"))"
}

stop() {
	local f pid
	f=$(pidfile "$1")
	[[ -f $f ]] || return 0
	pid=$(cat "$f")
	if kill -0 "$pid" 2>/dev/null; then
		kill -TERM "$pid"
		for _ in $(seq 1 60); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.5
		done
		if kill -0 "$pid" 2>/dev/null; then
			say "$1 (pid $pid) did not stop in 30s; killing it"
			kill -KILL "$pid" 2>/dev/null || true
		fi
		say "$1 stopped (pid $pid)"
	fi
	rm -f "$f"
}

print_env() {
	printf 'export KAFKA_BROKERS=127.0.0.1:%s\n' "$kafka_port"
	printf 'export KAFKA_SASL_BROKERS=127.0.0.1:%s KAFKA_SASL_USERNAME=%s KAFKA_SASL_PASSWORD=%s KAFKA_SASL_CA_FILE=%s\n' \
		"$sasl_port" "$sasl_user" "$sasl_password" "$state/kafka/tls/ca.crt"
	printf 'export ELASTICSEARCH_URL=http://127.0.0.1:%s\n' "$es_port"
}

service() {
	case ${1:-} in
	kafka | elasticsearch) ;;
	*) die "unknown service '${1:-}': use kafka or elasticsearch" ;;
	esac
}

case ${1:-} in
up)
	need
	mkdir -p "$state"
	start_kafka
	start_elasticsearch
	print_env
	;;
down)
	stop elasticsearch
	stop kafka
	rm -rf "$state"
	;;
start)
	need
	service "${2:-}"
	mkdir -p "$state"
	"start_$2"
	;;
stop)
	service "${2:-}"
	stop "$2"
	;;
status)
	for s in kafka elasticsearch; do
		if running $s; then echo "$s: running (pid $(cat "$(pidfile $s)"))"; else echo "$s: stopped"; fi
	done
	;;
env) print_env ;;
with)
	shift
	(($#)) || die "usage: testenv.sh with CMD [ARG...]"
	need
	mkdir -p "$state"
	started=()
	cleanup() {
		local s
		for s in "${started[@]}"; do stop "$s"; done
		if ((${#started[@]} == 2)); then rm -rf "$state"; fi
	}
	trap cleanup EXIT
	for s in kafka elasticsearch; do
		if ! running $s; then
			"start_$s"
			started+=("$s")
		fi
	done
	export KAFKA_BROKERS=127.0.0.1:$kafka_port ELASTICSEARCH_URL=http://127.0.0.1:$es_port
	export KAFKA_SASL_BROKERS=127.0.0.1:$sasl_port KAFKA_SASL_USERNAME=$sasl_user KAFKA_SASL_PASSWORD=$sasl_password
	export KAFKA_SASL_CA_FILE=$state/kafka/tls/ca.crt
	"$@"
	;;
*)
	sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//' >&2
	exit 2
	;;
esac
