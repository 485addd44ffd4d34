# The sdtriage image: the static binaries `ingest` and `report` on an empty
# base, run as an unprivileged user. Build it with `docker build -t sdtriage .`
# or let `docker compose up` do it. Run `docker run --rm sdtriage ingest -h`
# or `docker run --rm sdtriage report -h`.
#
# Base images are pinned by version tag: golang:1.26.8 is the toolchain the
# project builds and tests with (go.mod asks for Go 1.26). The runtime stage
# is scratch, which has no version to drift.

FROM golang:1.26.8 AS build
WORKDIR /src
# Modules first, so that a source change does not download them again.
COPY go.mod go.sum ./
RUN go mod download && go mod verify
COPY . .
# Static (no cgo), reproducible (-trimpath) and small (no symbol table or
# DWARF) binaries of every command under cmd/. GOTOOLCHAIN=local: build with
# this image's Go, never fetch another.
ENV CGO_ENABLED=0 GOTOOLCHAIN=local
RUN go build -trimpath -ldflags="-s -w" -o /out/ ./cmd/... \
 && mkdir -p /rootfs/tmp \
 && chmod 1777 /rootfs/tmp

FROM scratch
# CA certificates for Elasticsearch, Kibana and Kafka over TLS; a writable
# /tmp for the few library paths that want one.
COPY --from=build /etc/ssl/certs/ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
COPY --from=build /rootfs/ /
COPY --from=build /out/ /usr/local/bin/
ENV PATH=/usr/local/bin
# 65532 is the conventional "nonroot" user (distroless); no file in the
# image belongs to it, so the binaries cannot be changed by the process.
USER 65532:65532
# The ingester's /metrics, /healthz and /readyz (METRICS_ADDR).
EXPOSE 9464
# The default command is the ingester daemon; `report` and the other
# subcommands are one argument away: `docker run sdtriage ingest setup`.
CMD ["ingest", "run"]
