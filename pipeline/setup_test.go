package pipeline

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// TestTemplateGolden pins the index template: a change must be deliberate,
// and comes with a TemplateVersion bump so that running ingesters notice.
func TestTemplateGolden(t *testing.T) {
	for _, tt := range []struct{ file, policy string }{
		{"template.golden.json", ""},
		{"template_ilm.golden.json", "sdtriage-retention"},
	} {
		got, err := json.MarshalIndent(Template("sdtriage", tt.policy), "", "  ")
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, '\n')
		path := filepath.Join("testdata", tt.file)
		if *update {
			if err := os.WriteFile(path, got, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		want, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("Template differs from %s (run go test ./pipeline -update and bump TemplateVersion):\n%s", path, got)
		}
	}
}
