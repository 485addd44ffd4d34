package esconn

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestProblems(t *testing.T) {
	notPEM := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(notPEM, []byte("not a certificate"), 0o600); err != nil {
		t.Fatal(err)
	}
	ok := Settings{URLs: []string{"http://127.0.0.1:9200"}, Index: "sdtriage"}
	tests := []struct {
		name string
		s    Settings
		want []string
	}{
		{"valid", ok, nil},
		{"everything wrong", Settings{URLs: []string{"localhost:9200"}, Index: "Logs*", APIKey: "k",
			Username: "u", CAFile: notPEM}, []string{
			`"localhost:9200" is not an http:// or https:// URL`,
			`"Logs*" is not a valid index prefix`,
			"choose one",
			"one is missing",
			"holds no PEM certificate",
		}},
		{"no URL", Settings{Index: "sdtriage"}, []string{"no URL given"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := tt.s.Problems()
			if len(got) != len(tt.want) {
				t.Fatalf("Problems() = %v, want %d problems", got, len(tt.want))
			}
			for i, err := range got {
				if !strings.Contains(err.Error(), tt.want[i]) {
					t.Errorf("problem %d = %q, want it to say %q", i, err, tt.want[i])
				}
			}
		})
	}
}

func TestConfigTrustsCAFile(t *testing.T) {
	s := Settings{URLs: []string{"https://127.0.0.1:9200"}, Index: "sdtriage", CAFile: filepath.Join(t.TempDir(), "missing.pem")}
	if _, err := s.Config(2); err == nil || !strings.Contains(err.Error(), "ELASTICSEARCH_CA_FILE") {
		t.Fatalf("Config with a missing CA file: err = %v, want one naming ELASTICSEARCH_CA_FILE", err)
	}
}
