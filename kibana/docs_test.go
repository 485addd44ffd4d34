package kibana

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// kqlBlock is a fenced ```kql block of the documentation: one query per
// line.
var kqlBlock = regexp.MustCompile("(?s)```kql\n(.*?)```")

// savedTitle is a saved object title quoted in the documentation.
var savedTitle = regexp.MustCompile("`(sdtriage: [^`]+)`")

// TestDocsMatchObjects holds the Kibana walkthrough (README.md, and any
// page under docs/) to the shipped objects: every
// KQL example uses mapped fields with values the documents hold, and
// every object title it quotes exists.
func TestDocsMatchObjects(t *testing.T) {
	files, _ := filepath.Glob("../docs/*.md")
	files = append(files, "../README.md")
	fields := mappedFields(t)
	titles := map[string]bool{}
	for _, o := range shippedObjects(t) {
		var a struct{ Title string }
		attrs(t, o, &a)
		titles[a.Title] = true
	}
	queries := 0
	for _, file := range files {
		b, err := os.ReadFile(file)
		if os.IsNotExist(err) {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		for _, block := range kqlBlock.FindAllStringSubmatch(string(b), -1) {
			for _, q := range strings.Split(block[1], "\n") {
				if q = strings.TrimSpace(q); q == "" {
					continue
				}
				queries++
				var uses []fieldUse
				checkKQL(t, file, q, &uses)
				for _, u := range uses {
					if _, ok := fields[u.field]; !ok {
						t.Errorf("%s: KQL %q: field %q is not in the index template", file, q, u.field)
					}
				}
			}
		}
		for _, m := range savedTitle.FindAllStringSubmatch(string(b), -1) {
			if !titles[m[1]] {
				t.Errorf("%s: names %q, which no shipped object is titled", file, m[1])
			}
		}
	}
	if queries == 0 {
		t.Fatalf("no ```kql block in %s: the walkthrough's examples are gone", strings.Join(files, ", "))
	}
}
