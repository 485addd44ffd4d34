package pipeline

import (
	"github.com/prometheus/client_golang/prometheus"
)

// Metrics are the pipeline's Prometheus metrics. Every path a record can
// take is counted: consumed = indexed + dead-lettered + in flight.
type Metrics struct {
	Consumed     prometheus.Counter
	Classified   *prometheus.CounterVec // outcome, category, reason
	Indexed      prometheus.Counter
	DeadLettered *prometheus.CounterVec // reason
	Retries      prometheus.Counter
	BulkLatency  prometheus.Histogram
	InFlight     prometheus.Gauge
	Lag          *prometheus.GaugeVec // partition
	Commits      prometheus.Counter
}

// NewMetrics creates the metrics and registers them with reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		Consumed: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "sdtriage_records_consumed_total",
			Help: "Records fetched from Kafka.",
		}),
		Classified: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sdtriage_records_classified_total",
			Help: "Records classified, by outcome (success, failure) and, for failures, category and reason.",
		}, []string{"outcome", "category", "reason"}),
		Indexed: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "sdtriage_records_indexed_total",
			Help: "Records confirmed by Elasticsearch (created, or already there).",
		}),
		DeadLettered: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sdtriage_records_dead_lettered_total",
			Help: "Records written to the dead-letter topic, by reason.",
		}, []string{"reason"}),
		Retries: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "sdtriage_bulk_item_retries_total",
			Help: "Bulk items resent after a transient failure (429, 5xx, rejected execution, connection error).",
		}),
		BulkLatency: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "sdtriage_bulk_request_duration_seconds",
			Help:    "Duration of Elasticsearch bulk requests, including failed ones.",
			Buckets: prometheus.ExponentialBuckets(0.005, 2, 12),
		}),
		InFlight: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "sdtriage_records_in_flight",
			Help: "Records fetched but not yet indexed or dead-lettered.",
		}),
		Lag: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "sdtriage_consumer_lag",
			Help: "Records between the last fetched record and the end of the partition.",
		}, []string{"partition"}),
		Commits: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "sdtriage_offset_commits_total",
			Help: "Successful offset commits.",
		}),
	}
	reg.MustRegister(m.Consumed, m.Classified, m.Indexed, m.DeadLettered, m.Retries,
		m.BulkLatency, m.InFlight, m.Lag, m.Commits)
	return m
}
