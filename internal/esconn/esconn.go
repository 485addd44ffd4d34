// Package esconn is the Elasticsearch connection that ingest and report
// both make: the settings users give (ELASTICSEARCH_URL, ELASTICSEARCH_INDEX,
// ELASTICSEARCH_API_KEY, ELASTICSEARCH_USERNAME, ELASTICSEARCH_PASSWORD,
// ELASTICSEARCH_CA_FILE), their validation, and the client they make.
package esconn

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"time"

	"github.com/elastic/go-elasticsearch/v8"
)

// Settings are the connection settings, as given by flags or environment.
type Settings struct {
	URLs                       []string
	Index                      string // prefix of the daily indices <Index>-YYYY.MM.DD
	APIKey, Username, Password string
	CAFile                     string // PEM file of CAs for the node's certificate; empty: the system pool
}

// indexPrefix leaves room for "-YYYY.MM.DD" within Elasticsearch's 255 bytes.
var indexPrefix = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,199}$`)

// Problems returns every problem of s, each naming the variable and flag
// to fix; none when s is usable.
func (s Settings) Problems() []error {
	var errs []error
	add := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if len(s.URLs) == 0 {
		add("ELASTICSEARCH_URL (--es-url): no URL given")
	}
	for _, raw := range s.URLs {
		if u, err := url.Parse(raw); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			add("ELASTICSEARCH_URL (--es-url): %q is not an http:// or https:// URL", raw)
		}
	}
	if !indexPrefix.MatchString(s.Index) {
		add("ELASTICSEARCH_INDEX (--index): %q is not a valid index prefix (lower-case letters, digits, '.', '_', '-', starting with a letter or digit; at most 200)", s.Index)
	}
	if s.APIKey != "" && (s.Username != "" || s.Password != "") {
		add("ELASTICSEARCH_API_KEY and ELASTICSEARCH_USERNAME/ELASTICSEARCH_PASSWORD are both set: choose one")
	}
	if (s.Username == "") != (s.Password == "") {
		add("ELASTICSEARCH_USERNAME and ELASTICSEARCH_PASSWORD go together: one is missing")
	}
	if s.CAFile != "" {
		if _, err := LoadCAs(s.CAFile); err != nil {
			add("ELASTICSEARCH_CA_FILE (--es-ca-file): %v", err)
		}
	}
	return errs
}

// LoadCAs reads a PEM file of CA certificates.
func LoadCAs(file string) (*x509.CertPool, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(b) {
		return nil, fmt.Errorf("%s holds no PEM certificate", file)
	}
	return pool, nil
}

// Config returns the client configuration of valid settings: addresses,
// credentials, and a transport that trusts CAFile (TLS 1.2 at least) and
// keeps maxIdle connections per node. Callers add what is their own, such
// as DisableRetry.
func (s Settings) Config(maxIdle int) (elasticsearch.Config, error) {
	tlsConfig := &tls.Config{MinVersion: tls.VersionTLS12}
	if s.CAFile != "" {
		pool, err := LoadCAs(s.CAFile)
		if err != nil {
			return elasticsearch.Config{}, fmt.Errorf("ELASTICSEARCH_CA_FILE (--es-ca-file): %w", err)
		}
		tlsConfig.RootCAs = pool
	}
	return elasticsearch.Config{
		Addresses: s.URLs,
		APIKey:    s.APIKey,
		Username:  s.Username,
		Password:  s.Password,
		Transport: &http.Transport{
			Proxy:               http.ProxyFromEnvironment,
			MaxIdleConnsPerHost: maxIdle,
			IdleConnTimeout:     90 * time.Second,
			TLSHandshakeTimeout: 10 * time.Second,
			TLSClientConfig:     tlsConfig,
		},
	}, nil
}
