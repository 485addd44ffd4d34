package pipeline

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"sync/atomic"
	"time"

	"github.com/cenkalti/backoff/v5"
	"github.com/elastic/go-elasticsearch/v8"
	"github.com/elastic/go-elasticsearch/v8/esapi"
	"go.uber.org/zap"
)

// FatalError is an Elasticsearch answer that retrying cannot fix and that
// would fail every document the same way (401, 403, a missing index). The
// pipeline stops on it and commits nothing past the batch that got it.
type FatalError struct {
	Status int
	Type   string // the Elasticsearch error type, e.g. security_exception
	Reason string
}

func (e *FatalError) Error() string {
	hint := ""
	switch e.Status {
	case 401:
		hint = "; check ELASTICSEARCH_API_KEY or ELASTICSEARCH_USERNAME/ELASTICSEARCH_PASSWORD"
	case 403:
		hint = "; the credentials need the create_doc and create_index privileges on the index pattern"
	case 404:
		hint = "; allow automatic creation of the daily indices (action.auto_create_index) or create them"
	}
	return fmt.Sprintf("elasticsearch refused the request: HTTP %d %s: %s%s", e.Status, e.Type, e.Reason, hint)
}

// rejection is a bulk item that Elasticsearch rejected for good.
type rejection struct {
	item   int // index in the bulkBody
	status int
	reason string // "<type>: <reason>", unmasked: it may quote the document
}

// sink writes bulk bodies to Elasticsearch with create actions and reads
// every item of every response: created or already there (409) is done;
// 429, 5xx, rejected execution and connection errors are resent (only those
// items) with capped exponential backoff and jitter for as long as it takes;
// other 4xx items are returned as rejections for the dead-letter topic.
type sink struct {
	client  *elasticsearch.Client
	metrics *Metrics
	log     *zap.Logger

	// newBackOff returns the retry schedule of one Write.
	newBackOff func() backoff.BackOff
	retrying   atomic.Int32 // Writes currently waiting to retry
}

// newSink returns a sink writing through client. The client's own retries
// should be disabled: the sink retries per item.
func newSink(client *elasticsearch.Client, m *Metrics, log *zap.Logger) *sink {
	return &sink{
		client:  client,
		metrics: m,
		log:     log,
		newBackOff: func() backoff.BackOff {
			b := backoff.NewExponentialBackOff()
			b.InitialInterval = 200 * time.Millisecond
			b.MaxInterval = 10 * time.Second
			return b
		},
	}
}

// Healthy reports whether no Write is waiting for Elasticsearch to recover.
func (s *sink) Healthy() bool { return s.retrying.Load() == 0 }

// Write sends body and resends the items that can succeed later until every
// item is indexed or rejected, ctx ends, or Elasticsearch answers with a
// FatalError. It returns the rejected items.
func (s *sink) Write(ctx context.Context, body *bulkBody) ([]rejection, error) {
	pending := make([]int, body.len()) // indexes into body of the items still to send
	for i := range pending {
		pending[i] = i
	}
	send := body
	var (
		bo       backoff.BackOff
		rejected []rejection
		results  []itemResult
	)
	for attempt := 1; ; attempt++ {
		var err error
		results, err = s.bulk(ctx, send, results[:0])
		var retry []int
		switch {
		case err == nil:
			for i, r := range results {
				switch itemOutcome(r.status, r.errType) {
				case outcomeDone:
					s.metrics.Indexed.Inc()
				case outcomeRetry:
					retry = append(retry, pending[i])
				case outcomeReject:
					rejected = append(rejected, rejection{item: pending[i], status: r.status, reason: r.errType + ": " + r.reason})
				case outcomeFatal:
					return nil, &FatalError{Status: r.status, Type: r.errType, Reason: r.reason}
				}
			}
			if len(retry) == 0 {
				return rejected, nil
			}
			s.log.Warn("elasticsearch asked to retry bulk items",
				zap.Int("items", len(retry)), zap.Int("status", firstRetryStatus(results)), zap.Int("attempt", attempt))
		case ctx.Err() != nil:
			return nil, ctx.Err()
		case errors.As(err, new(*FatalError)):
			return nil, err
		default:
			retry = pending
			s.log.Warn("bulk request failed; retrying", zap.Error(err),
				zap.Int("items", len(retry)), zap.Int("attempt", attempt))
		}
		s.metrics.Retries.Add(float64(len(retry)))
		if len(retry) != len(pending) {
			send = body.subset(retry)
			pending = retry
		}
		if bo == nil {
			bo = s.newBackOff()
		}
		if err := s.wait(ctx, bo.NextBackOff()); err != nil {
			return nil, err
		}
	}
}

// wait sleeps for d, marking the sink unhealthy meanwhile.
func (s *sink) wait(ctx context.Context, d time.Duration) error {
	s.retrying.Add(1)
	defer s.retrying.Add(-1)
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// firstRetryStatus returns the status of the first retryable item, for logs.
func firstRetryStatus(results []itemResult) int {
	for _, r := range results {
		if itemOutcome(r.status, r.errType) == outcomeRetry {
			return r.status
		}
	}
	return 0
}

// bulkFilter keeps of a bulk response what the sink reads: per item its
// status and error, and the error of a request refused as a whole. The rest
// (index, id, version, shards, sequence numbers: about 200 bytes per item)
// Elasticsearch would render, and the sink read, for nothing.
var bulkFilter = []string{"errors", "items.*.status", "items.*.error", "error", "status"}

// bulk sends one bulk request and parses its items. A transport error or a
// 429/5xx answer to the whole request is returned as a plain (retryable)
// error; any other 4xx as a FatalError.
func (s *sink) bulk(ctx context.Context, body *bulkBody, dst []itemResult) ([]itemResult, error) {
	start := time.Now()
	res, err := esapi.BulkRequest{Body: bytes.NewReader(body.buf), FilterPath: bulkFilter}.Do(ctx, s.client)
	if err != nil {
		s.metrics.BulkLatency.Observe(time.Since(start).Seconds())
		return nil, err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	s.metrics.BulkLatency.Observe(time.Since(start).Seconds())
	if err != nil {
		return nil, fmt.Errorf("reading bulk response: %w", err)
	}
	switch {
	case res.StatusCode == 429 || res.StatusCode >= 500:
		return nil, fmt.Errorf("bulk request: HTTP %d: %s", res.StatusCode, errorSummary(b))
	case res.StatusCode >= 400:
		typ, reason := errorTypeReason(b)
		return nil, &FatalError{Status: res.StatusCode, Type: typ, Reason: reason}
	}
	return parseBulkResponse(b, body.len(), dst)
}
