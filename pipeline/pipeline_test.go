package pipeline

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/segmentio/kafka-go"
	"go.uber.org/zap"

	"github.com/sdtriage/sdtriage/classify"
	"github.com/sdtriage/sdtriage/rules"
)

// TestAdd classifies records of every kind into a batch and checks where
// each goes: the daily index of its own time, else of its Kafka time; the
// dead letters with their reasons; one ticket per record.
func TestAdd(t *testing.T) {
	c, err := classify.New(rules.Default())
	if err != nil {
		t.Fatal(err)
	}
	m := NewMetrics(prometheus.NewRegistry())
	p := New(Options{Index: "p", Classifier: c, BatchSize: 100, BatchBytes: 1 << 20,
		FlushInterval: time.Hour, MaxInFlight: 100, Metrics: m, Logger: zap.NewNop()})
	kafkaTime := time.Date(2026, 1, 2, 23, 30, 0, 0, time.FixedZone("X", -2*3600)) // 2026-01-03 in UTC
	records := []struct {
		value     string
		wantIndex string // "" for a dead letter
		wantDead  string
	}{
		{`{"@timestamp":"2026-11-20T10:00:00Z","status":500,"url":"https://api.stability.ai/v2beta/stable-image/generate/core"}`, "p-2026.11.20", ""},
		{`{"status":200,"url":"https://api.openai.com/v1/images/generations"}`, "p-2026.01.03", ""},
		{`2026/11/20 14:03:22 worker: upstream closed connection`, "", ReasonNotObject},
		{`{"@timestamp":"2026-11-20T14:03:22.120Z","status":50`, "", ReasonNotObject},
		{`{"hello":"world"}`, "", ReasonUnusable},
	}
	p.cp.Assign(1, []int{1})
	b := p.newBatch()
	counters := map[classKey]prometheus.Counter{}
	for i, r := range records {
		msg := kafka.Message{Topic: "calls", Partition: 1, Offset: int64(10 + i), Value: []byte(r.value), Time: kafkaTime}
		tk, ok := p.cp.Track(1, msg.Partition, msg.Offset)
		if !ok {
			t.Fatal("Track refused")
		}
		p.add(b, msg, tk, time.Now(), counters)
	}
	if len(b.tickets) != len(records) {
		t.Errorf("%d tickets, want %d", len(b.tickets), len(records))
	}
	var dead []string
	for _, d := range b.dead {
		dead = append(dead, d.reason)
	}
	item := 0
	for i, r := range records {
		if r.wantIndex == "" {
			continue
		}
		action := strings.SplitN(string(b.body.item(item)), "\n", 2)[0]
		want := fmt.Sprintf(`{"create":{"_index":"%s","_id":"calls-1-%d"}}`, r.wantIndex, 10+i)
		if action != want || b.msgs[item].Offset != int64(10+i) {
			t.Errorf("record %d: action %s, want %s", i, action, want)
		}
		item++
	}
	if item != b.body.len() {
		t.Errorf("%d documents in the body, want %d", b.body.len(), item)
	}
	wantDead := []string{ReasonNotObject, ReasonNotObject, ReasonUnusable}
	if strings.Join(dead, ",") != strings.Join(wantDead, ",") {
		t.Errorf("dead letters %v, want %v", dead, wantDead)
	}
}
