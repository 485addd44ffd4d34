package pipeline

import (
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/tidwall/gjson"
)

// indexDateLayout names the daily indices: <prefix>-2006.01.02.
const indexDateLayout = "2006.01.02"

// bulkBody is one bulk request under construction: NDJSON "create" actions,
// each followed by its document. ends[i] is where item i ends in buf, so a
// retry can resend exactly the items that may still succeed.
type bulkBody struct {
	buf  []byte
	ends []int
}

// reset empties b, keeping its memory.
func (b *bulkBody) reset() {
	b.buf = b.buf[:0]
	b.ends = b.ends[:0]
}

// len returns the number of items in b.
func (b *bulkBody) len() int { return len(b.ends) }

// item returns the bytes (action and document lines) of item i.
func (b *bulkBody) item(i int) []byte {
	start := 0
	if i > 0 {
		start = b.ends[i-1]
	}
	return b.buf[start:b.ends[i]]
}

// subset returns a new body holding the items of b listed in idx, in order.
func (b *bulkBody) subset(idx []int) *bulkBody {
	n := 0
	for _, i := range idx {
		n += len(b.item(i))
	}
	out := &bulkBody{buf: make([]byte, 0, n), ends: make([]int, 0, len(idx))}
	for _, i := range idx {
		out.buf = append(out.buf, b.item(i)...)
		out.ends = append(out.ends, len(out.buf))
	}
	return out
}

// appendDocFunc appends one rendered document to dst and returns the time
// that chooses its daily index (see bulkBody.add).
type appendDocFunc func(dst []byte) ([]byte, time.Time, error)

// add appends a create action for index <prefix>-<day of the document> with
// the deterministic id <topic>-<partition>-<offset>, then the document written
// by appendDoc. The index name is only known once the document is rendered
// (its @timestamp), so the action is written with a placeholder date that is
// patched in place: the date always has the same length. On error nothing is
// appended.
func (b *bulkBody) add(prefix, topic string, partition int, offset int64, appendDoc appendDocFunc) error {
	start := len(b.buf)
	buf := append(b.buf, `{"create":{"_index":"`...)
	buf = append(buf, prefix...)
	buf = append(buf, '-')
	datePos := len(buf)
	buf = append(buf, "0000.00.00"...)
	buf = append(buf, `","_id":"`...)
	buf = appendDocID(buf, topic, partition, offset)
	buf = append(buf, "\"}}\n"...)
	buf, day, err := appendDoc(buf)
	if err != nil {
		b.buf = buf[:start]
		return err
	}
	y, m, d := day.UTC().Date()
	if y < 0 || y > 9999 {
		b.buf = buf[:start]
		return fmt.Errorf("timestamp %s is outside the years 0-9999", day.UTC().Format(time.RFC3339))
	}
	// As AppendFormat with indexDateLayout writes it, without parsing the
	// layout for every document.
	copy(buf[datePos:], []byte{byte('0' + y/1000), byte('0' + y/100%10), byte('0' + y/10%10), byte('0' + y%10), '.',
		byte('0' + m/10), byte('0' + m%10), '.', byte('0' + d/10), byte('0' + d%10)})
	b.buf = append(buf, '\n')
	b.ends = append(b.ends, len(b.buf))
	return nil
}

// appendDocID appends the document id of a Kafka record: <topic>-<partition>-<offset>.
// Topic names are [a-zA-Z0-9._-], so no JSON escaping is needed.
func appendDocID(dst []byte, topic string, partition int, offset int64) []byte {
	dst = append(dst, topic...)
	dst = append(dst, '-')
	dst = strconv.AppendInt(dst, int64(partition), 10)
	dst = append(dst, '-')
	return strconv.AppendInt(dst, offset, 10)
}

// outcome is what to do with one item of a bulk response.
type outcome uint8

const (
	outcomeDone   outcome = iota // indexed, or already there (409 on create)
	outcomeRetry                 // can succeed later: resend
	outcomeReject                // rejected for good: dead-letter it
	outcomeFatal                 // the cluster refuses us: stop
)

// itemOutcome decides an item's fate from its status and error type.
func itemOutcome(status int, errType string) outcome {
	switch {
	case status >= 200 && status < 300, status == 409:
		return outcomeDone
	case status == 429, status == 408, status >= 500, errType == "es_rejected_execution_exception":
		return outcomeRetry
	case status == 403 && errType == "cluster_block_exception":
		// An index made read-only by the flood-stage disk watermark: it
		// clears once disk space is freed.
		return outcomeRetry
	case status == 401, status == 403, status == 404:
		// 404 is index_not_found_exception when automatic index creation
		// is disabled for <prefix>-*: every document would fail the same way.
		return outcomeFatal
	default:
		return outcomeReject
	}
}

// itemResult is one item of a bulk response.
type itemResult struct {
	status  int
	errType string
	reason  string // error.reason, with caused_by.reason appended when present
}

// errBadBulkResponse reports a bulk response that does not match its request.
var errBadBulkResponse = errors.New("malformed bulk response")

// parseBulkResponse reads every item of a bulk response to a request of n
// items. When "errors" is false every item succeeded and only the count is
// checked.
func parseBulkResponse(body []byte, n int, dst []itemResult) ([]itemResult, error) {
	if !gjson.ValidBytes(body) {
		return nil, fmt.Errorf("%w: not JSON", errBadBulkResponse)
	}
	root := gjson.ParseBytes(body)
	items := root.Get("items")
	if !items.IsArray() {
		return nil, fmt.Errorf("%w: no items", errBadBulkResponse)
	}
	if !root.Get("errors").Bool() {
		if got := items.Get("#").Int(); got != int64(n) {
			return nil, fmt.Errorf("%w: %d items for %d documents", errBadBulkResponse, got, n)
		}
		for range n {
			dst = append(dst, itemResult{status: 201})
		}
		return dst, nil
	}
	start := len(dst)
	items.ForEach(func(_, item gjson.Result) bool {
		var r itemResult
		item.ForEach(func(_, action gjson.Result) bool { // {"create": {...}}
			r.status = int(action.Get("status").Int())
			if e := action.Get("error"); e.Exists() {
				r.errType = e.Get("type").String()
				r.reason = e.Get("reason").String()
				if c := e.Get("caused_by.reason"); c.Exists() {
					r.reason += ": " + c.String()
				}
			}
			return false
		})
		dst = append(dst, r)
		return true
	})
	if got := len(dst) - start; got != n {
		return nil, fmt.Errorf("%w: %d items for %d documents", errBadBulkResponse, got, n)
	}
	return dst, nil
}
