// Package traffic generates realistic, reproducible API call log records
// (CONTRACT section 1) for demos, load tests and integration tests:
// several services calling several image-generation providers over days or
// weeks, with a diurnal rhythm, retries, provider incidents, every failure
// reason of the taxonomy in the wording providers and HTTP clients really
// print, about 15% of records in Elastic Common Schema spellings, and a few
// credentials leaked where they should not be (to exercise masking).
//
// The same Config (including Seed) always yields the same bytes.
package traffic

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Config says what to generate. NewConfig fills in the defaults.
type Config struct {
	// Seed makes the output reproducible.
	Seed int64
	// Start and End bound the timestamps. Required; End at least a second
	// after Start.
	Start, End time.Time
	// Records is how many records Next produces. Required, > 0.
	Records int
	// SuccessRate is the share of calls that succeed outside incidents.
	SuccessRate float64
	// ECSRate is the share of records in Elastic Common Schema spellings.
	ECSRate float64
	// LeakRate is the share of records that carry a credential in a place
	// where it should not be (error text, extra fields).
	LeakRate float64
	// UnusableRate is the share of records that are not JSON objects (plain
	// text, truncated JSON, arrays), for dead-letter tests.
	UnusableRate float64
}

// Defaults of NewConfig.
const (
	DefaultSuccessRate = 0.88
	DefaultECSRate     = 0.15
	DefaultLeakRate    = 0.03
)

// NewConfig returns a Config with the default rates and no unusable
// records.
func NewConfig(seed int64, start, end time.Time, records int) Config {
	return Config{Seed: seed, Start: start, End: end, Records: records,
		SuccessRate: DefaultSuccessRate, ECSRate: DefaultECSRate, LeakRate: DefaultLeakRate}
}

// Validate returns every problem of c, or nil.
func (c Config) Validate() error {
	var errs []error
	if c.Start.IsZero() || c.End.IsZero() {
		errs = append(errs, errors.New("start and end times are required"))
	} else if !c.End.After(c.Start) {
		errs = append(errs, fmt.Errorf("end %s is not after start %s", c.End.Format(time.RFC3339), c.Start.Format(time.RFC3339)))
	} else if c.End.Sub(c.Start) < time.Second {
		errs = append(errs, fmt.Errorf("the period from %s to %s is shorter than a second", c.Start.Format(time.RFC3339Nano), c.End.Format(time.RFC3339Nano)))
	}
	if c.Records <= 0 {
		errs = append(errs, fmt.Errorf("records must be positive, got %d", c.Records))
	}
	for _, r := range []struct {
		name string
		v    float64
	}{{"success rate", c.SuccessRate}, {"ECS rate", c.ECSRate}, {"leak rate", c.LeakRate}, {"unusable rate", c.UnusableRate}} {
		if r.v < 0 || r.v > 1 || math.IsNaN(r.v) {
			errs = append(errs, fmt.Errorf("%s must be between 0 and 1, got %g", r.name, r.v))
		}
	}
	return errors.Join(errs...)
}

// Label is what the generator meant a record to be; tests compare it with
// what the classifier decides.
type Label struct {
	Failure  bool
	Category string // taxonomy category of the intended failure; "" for successes
	Reason   string // taxonomy reason; "unmatched" for client bugs no rule can know
	Unusable bool   // the record is not a JSON object
	Leak     bool   // a credential was planted somewhere in the record
	ECS      bool   // the record uses ECS spellings
	// RequestID is the record's request id, shared by the retries of one
	// request (a good Kafka message key: attempts stay in order).
	RequestID string
}

// Generator produces the records of one Config. It is not safe for
// concurrent use.
type Generator struct {
	cfg Config
	rng *rand.Rand
	n   int // records produced

	// Timestamps follow the inverse of a cumulative weight over buckets.
	bucketLen time.Duration
	cum       []float64 // cumulative weight at the end of each bucket

	incidents []incident
	secrets   map[string]string // api_key_id -> secret
	orgs      map[string]string // api_key_id -> organisation id
	targets   []*targetInfo

	pending *call // the next record retries this call
	c       call  // the call being written
	label   Label

	// Scratch buffers, reused from record to record.
	errBuf, bodyBuf, urlBuf, prefixBuf, tmp []byte
	page                                    struct{ code, text string }
}

// targetInfo is a target with its URL taken apart once.
type targetInfo struct {
	target
	svc                *service
	host, port, path   string
	https              bool
	ip                 string
	localIP            string
	reasonTemplates    map[string][]*failure
	reasonTemplateSums map[string]int
}

// call is one API call and the per-record values its templates use, so
// that an id in the URL and in the body agree.
type call struct {
	t           *targetInfo
	ts          time.Time
	attempt     int
	requestID   string
	fail        *failure
	latency     float64  // ms
	pid         [26]byte // Replicate prediction id
	uuid        [36]byte
	id32        [32]byte // hex
	id8         [8]byte
	ray         [20]byte // Cloudflare Ray ID
	ptr         [14]byte // a Python object address
	lport, n    int
	n3, n5      int
	secs        float64
	timeoutSecs int
}

// incident is a window in which calls matching it fail with one reason
// most of the time: a provider outage, an expired key, a proxy change.
type incident struct {
	start, end time.Time
	provider   string // "" any
	keyID      string // "" any
	service    string // "" any
	reason     string
	prob       float64
}

// New returns a Generator for cfg, or cfg's problems.
func New(cfg Config) (*Generator, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	g := &Generator{
		cfg:     cfg,
		tmp:     make([]byte, 0, 64),
		rng:     rand.New(rand.NewPCG(uint64(cfg.Seed), 0x5d7a6e5eed)),
		secrets: map[string]string{},
		orgs:    map[string]string{},
	}
	g.initTargets()
	g.initTimeline()
	g.initIncidents()
	return g, nil
}

// More reports whether Next has records left to produce.
func (g *Generator) More() bool { return g.n < g.cfg.Records }

// Label describes the record most recently produced by Next.
func (g *Generator) Label() Label { return g.label }

// Secrets returns every credential the generator may plant, so that tests
// can assert that none survives into the output.
func (g *Generator) Secrets() []string {
	s := make([]string, 0, len(g.secrets))
	for _, v := range g.secrets {
		s = append(s, v)
	}
	s = append(s, proxyPassword)
	sort.Strings(s)
	return s
}

// proxyPassword is the corporate proxy password that leaks in proxy errors.
const proxyPassword = "Winter-2026-proxy!"

// Next appends the next record (one JSON object, no newline) to dst. When
// no records are left it returns dst unchanged.
func (g *Generator) Next(dst []byte) []byte {
	if !g.More() {
		return dst
	}
	defer func() { g.n++ }()
	if g.cfg.UnusableRate > 0 && g.rng.Float64() < g.cfg.UnusableRate {
		g.label = Label{Unusable: true}
		return g.appendUnusable(dst)
	}
	if g.pending != nil {
		g.c = *g.pending
		g.pending = nil
		g.c.attempt++
		g.decide(true)
	} else {
		g.newCall()
		g.decide(false)
	}
	g.scheduleRetry()
	return g.appendRecord(dst)
}

// initTargets resolves the URL parts, addresses, keys and applicable
// failure templates of every target.
func (g *Generator) initTargets() {
	for si := range services {
		svc := &services[si]
		localIP := fmt.Sprintf("10.%d.%d.%d", 40+si, g.rng.IntN(250)+1, g.rng.IntN(250)+2)
		for ti := range svc.targets {
			t := svc.targets[ti]
			u, err := url.Parse(strings.ReplaceAll(t.url, "{", "%7B"))
			if err != nil {
				panic("traffic: bad catalog URL " + t.url) // the catalog is fixed; tested
			}
			ti := &targetInfo{target: t, svc: svc, host: u.Hostname(), port: u.Port(), https: u.Scheme == "https", localIP: localIP}
			ti.path = t.url[strings.Index(t.url, ti.host)+len(ti.host):]
			if ti.port != "" {
				ti.path = ti.path[len(ti.port)+1:]
			} else if ti.https {
				ti.port = "443"
			} else {
				ti.port = "80"
			}
			ti.ip = hostIP(ti.host)
			if t.keyID != "" && g.secrets[t.keyID] == "" {
				g.secrets[t.keyID] = g.newSecret(t.provider)
				g.orgs[t.keyID] = g.randString(24, alnum)
			}
			ti.reasonTemplates = map[string][]*failure{}
			ti.reasonTemplateSums = map[string]int{}
			for fi := range failures {
				f := &failures[fi]
				if f.applies(ti) {
					ti.reasonTemplates[f.reason] = append(ti.reasonTemplates[f.reason], f)
					ti.reasonTemplateSums[f.reason] += f.weight
				}
			}
			g.targets = append(g.targets, ti)
		}
	}
}

// applies reports whether failure f can happen on a call to t.
func (f *failure) applies(t *targetInfo) bool {
	self := t.provider == "automatic1111" || t.provider == "comfyui"
	switch f.prov {
	case "":
	case "cloud":
		if self {
			return false
		}
	case "self":
		if !self {
			return false
		}
	default:
		if f.prov != t.provider {
			return false
		}
	}
	return f.lang == anyLang || f.lang == t.svc.lang
}

// hostIP returns a stable, plausible address for a host: Cloudflare ranges
// for hosted APIs, a private one for self-hosted servers.
func hostIP(host string) string {
	var h uint32 = 2166136261
	for i := 0; i < len(host); i++ {
		h = (h ^ uint32(host[i])) * 16777619
	}
	if strings.HasSuffix(host, ".internal") {
		return fmt.Sprintf("10.0.%d.%d", h>>8&0x3f, h&0x7f+2)
	}
	return fmt.Sprintf("104.18.%d.%d", h>>8&0x3f, h&0xfd+1)
}

// newSecret returns a fake credential shaped like the provider's.
func (g *Generator) newSecret(provider string) string {
	switch provider {
	case "openai":
		return "sk-proj-" + g.randString(48, alnum+"-_") + g.randString(4, alnum)
	case "stability":
		return "sk-" + g.randString(48, alnum)
	case "replicate":
		return "r8_" + g.randString(37, alnum)
	case "huggingface":
		return "hf_" + g.randString(34, alnum)
	case "google":
		return "AIzaSy" + g.randString(33, alnum+"-_")
	case "azure-openai":
		return g.randString(32, "0123456789abcdef")
	}
	return g.randString(40, alnum)
}

const alnum = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

// randString returns n characters drawn from alphabet.
func (g *Generator) randString(n int, alphabet string) string {
	b := make([]byte, n)
	g.fill(b, alphabet)
	return string(b)
}

// initTimeline builds the cumulative traffic weight: a diurnal curve (low at
// night UTC, peak in the European afternoon / American morning) and quieter
// weekends, in buckets of an hour (or less for short periods).
func (g *Generator) initTimeline() {
	span := g.cfg.End.Sub(g.cfg.Start)
	g.bucketLen = time.Hour
	if span < 48*time.Hour {
		g.bucketLen = span / 48
	}
	n := int((span + g.bucketLen - 1) / g.bucketLen)
	g.cum = make([]float64, n)
	total := 0.0
	for i := range g.cum {
		t := g.cfg.Start.Add(time.Duration(i) * g.bucketLen).UTC()
		h := float64(t.Hour()) + float64(t.Minute())/60
		w := 0.25 + math.Max(0, math.Sin(math.Pi*(h-5)/19))
		if wd := t.Weekday(); wd == time.Saturday || wd == time.Sunday {
			w *= 0.55
		}
		if i == n-1 { // the last bucket may be partial
			w *= float64(span-time.Duration(i)*g.bucketLen) / float64(g.bucketLen)
		}
		total += w
		g.cum[i] = total
	}
}

// timeAt returns the time at quantile q in [0, 1) of the traffic curve.
func (g *Generator) timeAt(q float64) time.Time {
	target := q * g.cum[len(g.cum)-1]
	i := sort.SearchFloat64s(g.cum, target)
	if i >= len(g.cum) {
		i = len(g.cum) - 1
	}
	lo := 0.0
	if i > 0 {
		lo = g.cum[i-1]
	}
	frac := 0.0
	if g.cum[i] > lo {
		frac = (target - lo) / (g.cum[i] - lo)
	}
	t := g.cfg.Start.Add(time.Duration((float64(i) + frac) * float64(g.bucketLen)))
	if !t.Before(g.cfg.End) {
		t = g.cfg.End.Add(-time.Millisecond)
	}
	return t
}

// initIncidents places, for every started week of the period, a provider
// outage, an expired key and a proxy misconfiguration.
func (g *Generator) initIncidents() {
	span := g.cfg.End.Sub(g.cfg.Start)
	weeks := int(span/(7*24*time.Hour)) + 1
	at := func(d time.Duration) time.Time {
		return g.cfg.Start.Add(time.Duration(g.rng.Float64() * float64(span-d)))
	}
	for range weeks {
		t := g.targets[g.rng.IntN(len(g.targets))]
		d := time.Duration(40+g.rng.IntN(50)) * time.Minute
		s := at(d)
		reason := [...]string{"unavailable", "bad_gateway", "gateway_timeout", "internal_error"}[g.rng.IntN(4)]
		g.incidents = append(g.incidents, incident{start: s, end: s.Add(d), provider: t.provider, reason: reason, prob: 0.7})

		for t.keyID == "" {
			t = g.targets[g.rng.IntN(len(g.targets))]
		}
		d = time.Duration(3+g.rng.IntN(6)) * time.Hour
		s = at(d)
		reason = "expired_credentials"
		if len(t.reasonTemplates[reason]) == 0 {
			reason = "invalid_credentials"
		}
		g.incidents = append(g.incidents, incident{start: s, end: s.Add(d), keyID: t.keyID, reason: reason, prob: 0.95})

		svc := services[g.rng.IntN(len(services))].name
		d = time.Duration(1+g.rng.IntN(3)) * time.Hour
		s = at(d)
		reason = [...]string{"proxy_error", "firewall_blocked", "tls_error"}[g.rng.IntN(3)]
		g.incidents = append(g.incidents, incident{start: s, end: s.Add(d), service: svc, reason: reason, prob: 0.8})
	}
}

// newCall starts a new logical request: service, target, time, ids.
func (g *Generator) newCall() {
	svc := &services[pickWeighted(g.rng, len(services), func(i int) int { return services[i].weight })]
	var t *targetInfo
	k := pickWeighted(g.rng, len(svc.targets), func(i int) int { return svc.targets[i].weight })
	for _, ti := range g.targets {
		if ti.svc == svc {
			if k == 0 {
				t = ti
				break
			}
			k--
		}
	}
	q := (float64(g.n) + g.rng.Float64()) / float64(g.cfg.Records)
	g.c = call{
		t:           t,
		ts:          g.timeAt(q),
		attempt:     1,
		lport:       32768 + g.rng.IntN(28000),
		n:           2 + g.rng.IntN(8),
		n3:          100 + g.rng.IntN(900),
		n5:          10000 + g.rng.IntN(4_000_000_000),
		secs:        float64(1+g.rng.IntN(90000)) / 1000,
		timeoutSecs: [...]int{30, 60, 120}[g.rng.IntN(3)],
	}
	c := &g.c
	const lowerDigits, hexDigits = "abcdefghijklmnopqrstuvwxyz0123456789", "0123456789abcdef"
	g.fill(c.pid[:], lowerDigits)
	g.fill(c.id32[:], hexDigits)
	g.fill(c.id8[:], lowerDigits)
	g.fill(c.ray[:16], hexDigits)
	copy(c.ray[16:], [...]string{"-FRA", "-AMS", "-IAD", "-SJC", "-CDG"}[g.rng.IntN(5)])
	copy(c.ptr[:], "0x7f")
	g.fill(c.ptr[4:], hexDigits)
	// A version 4 UUID: xxxxxxxx-xxxx-4xxx-[89ab]xxx-xxxxxxxxxxxx.
	g.fill(c.uuid[:], hexDigits)
	c.uuid[8], c.uuid[13], c.uuid[18], c.uuid[23] = '-', '-', '-', '-'
	c.uuid[14] = '4'
	c.uuid[19] = "89ab"[g.rng.IntN(4)]
	if t.provider == "openai" {
		c.requestID = "req_" + string(c.id32[:])
	} else {
		c.requestID = string(c.uuid[:])
	}
}

// fill sets every byte of b to a random character of alphabet.
func (g *Generator) fill(b []byte, alphabet string) {
	for i := range b {
		b[i] = alphabet[g.rng.IntN(len(alphabet))]
	}
}

// decide picks the outcome of g.c: an incident's failure, an ordinary
// failure, or success. A retry fails again, the same way, a third of the
// time; otherwise it succeeds (waiting helped).
func (g *Generator) decide(retry bool) {
	c := &g.c
	prev := c.fail
	c.fail = g.incidentFailure()
	if c.fail == nil {
		if retry {
			if g.rng.Float64() < 0.35 {
				c.fail = prev
			}
		} else if g.rng.Float64() >= g.cfg.SuccessRate {
			for try := 0; try < 20 && c.fail == nil; try++ {
				r := &reasonWeights[pickWeighted(g.rng, len(reasonWeights), func(i int) int { return reasonWeights[i].weight })]
				c.fail = g.pickTemplate(c.t, r.reason)
			}
		}
	}
	c.latency = g.latency()
	g.label = Label{RequestID: c.requestID}
	if c.fail != nil {
		g.label.Failure, g.label.Category, g.label.Reason = true, categoryOf(c.fail.reason), c.fail.reason
	}
}

// incidentFailure returns the failure of an incident that covers g.c, or
// nil (also when the incident spares this call).
func (g *Generator) incidentFailure() *failure {
	c := &g.c
	for i := range g.incidents {
		in := &g.incidents[i]
		if c.ts.Before(in.start) || !c.ts.Before(in.end) ||
			in.provider != "" && in.provider != c.t.provider ||
			in.keyID != "" && in.keyID != c.t.keyID ||
			in.service != "" && in.service != c.t.svc.name {
			continue
		}
		if g.rng.Float64() < in.prob {
			return g.pickTemplate(c.t, in.reason)
		}
		return nil
	}
	return nil
}

// scheduleRetry makes the next record a retry of g.c when a client would
// retry it: most retryable failures, a few others (naive clients), up to
// three attempts, with exponential back-off.
func (g *Generator) scheduleRetry() {
	c := &g.c
	if c.fail == nil || c.attempt >= 3 {
		return
	}
	p := 0.08
	if retryable(c.fail.reason) {
		p = 0.6
	}
	if g.rng.Float64() >= p {
		return
	}
	next := *c
	backoff := time.Duration(1<<c.attempt)*time.Second + time.Duration(g.rng.IntN(1000))*time.Millisecond
	if c.fail.reason == "rate_limited" {
		backoff += time.Duration(c.secs * float64(time.Second))
	}
	next.ts = c.ts.Add(time.Duration(c.latency*float64(time.Millisecond)) + backoff)
	if next.ts.Before(g.cfg.End) {
		g.pending = &next
	}
}

// pickTemplate returns a wording of reason that can happen on t, or nil.
func (g *Generator) pickTemplate(t *targetInfo, reason string) *failure {
	fs := t.reasonTemplates[reason]
	if len(fs) == 0 {
		return nil
	}
	return fs[pickWeighted(g.rng, len(fs), func(i int) int { return fs[i].weight })]
}

// pickWeighted returns an index in [0, n) with probability proportional
// to weight(i).
func pickWeighted(rng *rand.Rand, n int, weight func(int) int) int {
	total := 0
	for i := 0; i < n; i++ {
		total += weight(i)
	}
	x := rng.IntN(total)
	for i := 0; i < n; i++ {
		if x -= weight(i); x < 0 {
			return i
		}
	}
	return n - 1
}

// categoryOf returns the taxonomy category of reason.
func categoryOf(reason string) string {
	for _, r := range reasonWeights {
		if r.reason == reason {
			return r.category
		}
	}
	return "unknown"
}

// retryable reports whether clients commonly retry a failure of reason.
func retryable(reason string) bool {
	switch categoryOf(reason) {
	case "server":
		return true
	case "network":
		return reason != "tls_error" && reason != "proxy_error" && reason != "firewall_blocked"
	}
	return false
}

// latency returns the latency of g.c in milliseconds: log-normal around the
// target's median for successes and server-side failures, the client's
// timeout for timeouts, fast for rejections and local network errors.
func (g *Generator) latency() float64 {
	c := &g.c
	median := c.t.median
	sigma := 0.45
	if f := c.fail; f != nil {
		switch {
		case f.reason == "timeout":
			return float64(c.timeoutSecs*1000) + math.Round(g.rng.Float64()*400)/10
		case f.reason == "gateway_timeout":
			median, sigma = 60000, 0.3
			if f.status == 524 {
				median = 100000
			}
		case f.status == 0:
			median, sigma = 8, 1.2
		case f.ok || f.reason == "internal_error" || f.reason == "unavailable" && c.t.provider == "huggingface":
			// the job ran, or the model was being loaded
		default:
			median, sigma = 180, 0.6
		}
	}
	ms := median * math.Exp(sigma*g.rng.NormFloat64())
	return math.Round(ms*10) / 10
}

// appendUnusable appends a line that is not a JSON object.
func (g *Generator) appendUnusable(dst []byte) []byte {
	switch g.rng.IntN(4) {
	case 0:
		return append(dst, "2026/11/20 14:03:22 worker: upstream closed connection, giving up"...)
	case 1:
		return append(dst, `{"@timestamp":"2026-11-20T14:03:22.120Z","service":"avatar-studio","status":50`...)
	case 2:
		return append(dst, `[{"status":500},{"status":502}]`...)
	default:
		return strconv.AppendQuote(dst, "status=503 provider=replicate")
	}
}
