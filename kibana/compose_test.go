package kibana

import (
	"bytes"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// The Compose stack exists to bring Kibana up with these objects, so its
// checks live here: docker-compose.yml must validate, and the stack must
// keep the promises the README makes about it.

// composeConfig runs `docker-compose config` (Debian's docker-compose
// package, which needs no Docker engine) or `docker compose config` on the
// repository's docker-compose.yml and returns the normalized file. Without
// either command the test is skipped, unless CI=true.
func composeConfig(t *testing.T) []byte {
	t.Helper()
	var cmd *exec.Cmd
	if p, err := exec.LookPath("docker-compose"); err == nil {
		cmd = exec.Command(p, "config")
	} else if p, err := exec.LookPath("docker"); err == nil && exec.Command(p, "compose", "version").Run() == nil {
		cmd = exec.Command(p, "compose", "config")
	} else {
		if os.Getenv("CI") == "true" {
			t.Fatal("neither docker-compose nor docker compose is installed (CI=true: install Debian's docker-compose package)")
		}
		t.Skip("docker-compose is not installed (apt-get install docker-compose); skipped outside CI")
	}
	cmd.Dir = ".."
	// The defaults, not whatever this shell sets.
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "SDTRIAGE_") && !strings.HasPrefix(kv, "COMPOSE_") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s: %v\n%s", cmd, err, stderr.String())
	}
	if s := strings.TrimSpace(stderr.String()); s != "" {
		t.Errorf("%s warns:\n%s", cmd, s)
	}
	return out
}

type composeFile struct {
	Services map[string]struct {
		Image       string
		Build       any
		Command     []string
		Ports       []any
		Volumes     []any
		Healthcheck *struct{ Test []string }
		DependsOn   map[string]struct{ Condition string } `yaml:"depends_on"`
		Environment map[string]string
	}
	Volumes map[string]any
}

func TestComposeFile(t *testing.T) {
	var f composeFile
	if err := yaml.Unmarshal(composeConfig(t), &f); err != nil {
		t.Fatalf("docker-compose config output: %v", err)
	}
	for _, name := range []string{"kafka", "kafka-topics", "elasticsearch", "kibana", "setup", "ingest", "generate"} {
		if _, ok := f.Services[name]; !ok {
			t.Errorf("service %s is missing", name)
		}
	}
	tags := map[string]string{}
	for name, s := range f.Services {
		// Pinned images: a version tag, never latest.
		repo, tag, ok := strings.Cut(s.Image[strings.LastIndex(s.Image, "/")+1:], ":")
		if !ok || tag == "" || tag == "latest" {
			t.Errorf("%s: image %q is not pinned to a version", name, s.Image)
		}
		tags[repo] = tag
		// Ports on the loopback interface only.
		for _, p := range s.Ports {
			host := ""
			switch p := p.(type) {
			case string: // docker-compose 1.x: "127.0.0.1:9200:9200/tcp"
				host, _, _ = strings.Cut(p, ":")
			case map[string]any: // docker compose 2.x: long syntax
				host = fmt.Sprint(p["host_ip"])
			}
			if host != "127.0.0.1" {
				t.Errorf("%s: port %v is not bound to 127.0.0.1", name, p)
			}
		}
		for dep, d := range s.DependsOn {
			if _, ok := f.Services[dep]; !ok {
				t.Errorf("%s depends on %s, which does not exist", name, dep)
			}
			if d.Condition != "service_healthy" && d.Condition != "service_completed_successfully" {
				t.Errorf("%s depends on %s with condition %q: want service_healthy or service_completed_successfully, not just started", name, dep, d.Condition)
			}
			if d.Condition == "service_healthy" && f.Services[dep].Healthcheck == nil {
				t.Errorf("%s waits for %s to be healthy, which has no health check", name, dep)
			}
		}
	}
	if tags["kibana"] == "" || tags["kibana"] != tags["elasticsearch"] {
		t.Errorf("Kibana %q and Elasticsearch %q must be the same version", tags["kibana"], tags["elasticsearch"])
	}
	// State that outlives the containers is in named volumes.
	for _, svc := range []string{"kafka", "elasticsearch"} {
		named := false
		for _, v := range f.Services[svc].Volumes {
			src := ""
			switch v := v.(type) {
			case string:
				src, _, _ = strings.Cut(v, ":")
			case map[string]any:
				src = fmt.Sprint(v["source"])
			}
			if _, ok := f.Volumes[src]; ok {
				named = true
			}
		}
		if !named {
			t.Errorf("%s keeps its data in no named volume: %v", svc, f.Services[svc].Volumes)
		}
	}
	// Order: setup after Kibana, the ingester after setup.
	setup, ingest := f.Services["setup"], f.Services["ingest"]
	i := slices.Index(setup.Command, "--kibana")
	if i < 0 || i+1 >= len(setup.Command) {
		t.Fatalf("setup does not import the Kibana objects: %q", setup.Command)
	}
	if u, err := url.Parse(setup.Command[i+1]); err != nil || f.Services[u.Hostname()].Image != f.Services["kibana"].Image {
		t.Errorf("setup's --kibana %q is not the kibana service", setup.Command[i+1])
	}
	if setup.DependsOn["kibana"].Condition != "service_healthy" {
		t.Errorf("setup must wait for a healthy Kibana")
	}
	if ingest.DependsOn["setup"].Condition != "service_completed_successfully" {
		t.Errorf("ingest must wait for setup to complete")
	}
	// The indices setup prepares are the ones the data view shows.
	if p := setup.Environment["ELASTICSEARCH_INDEX"]; p == "" || p != ingest.Environment["ELASTICSEARCH_INDEX"] {
		t.Errorf("setup (%q) and ingest (%q) must use the same ELASTICSEARCH_INDEX", p, ingest.Environment["ELASTICSEARCH_INDEX"])
	}
}

// TestImageVersions: the Compose stack runs the server versions the tests
// run against (testenv/'s Maven poms), and the Dockerfile builds with the
// Go that go.mod asks for, into an image that does not run as root.
func TestImageVersions(t *testing.T) {
	read := func(file string) string {
		b, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	find := func(file, pattern string) string {
		m := regexp.MustCompile(pattern).FindStringSubmatch(read(file))
		if m == nil {
			t.Fatalf("%s: no match for %s", file, pattern)
		}
		return m[1]
	}
	var f struct {
		Services map[string]struct{ Image string }
	}
	if err := yaml.Unmarshal([]byte(read("../docker-compose.yml")), &f); err != nil {
		t.Fatal(err)
	}
	for svc, want := range map[string]string{
		"kafka":         "apache/kafka:" + find("../testenv/kafka/pom.xml", `<artifactId>kafka_[\d.]+</artifactId>\s*<version>([^<]+)</version>`),
		"elasticsearch": "docker.elastic.co/elasticsearch/elasticsearch:" + find("../testenv/elasticsearch/pom.xml", `<elasticsearch.version>([^<]+)</elasticsearch.version>`),
	} {
		if got := f.Services[svc].Image; got != want {
			t.Errorf("docker-compose.yml: %s runs %s, the tests run %s", svc, got, want)
		}
	}

	goMod := find("../go.mod", `(?m)^go (\d+\.\d+)`)
	builder := find("../Dockerfile", `(?m)^FROM golang:(\d+\.\d+)\.\d+\S* AS build`)
	if builder != goMod {
		t.Errorf("Dockerfile builds with Go %s, go.mod asks for %s", builder, goMod)
	}
	stages := strings.Split(read("../Dockerfile"), "\nFROM ")
	final := stages[len(stages)-1]
	user := find("../Dockerfile", `(?m)^USER (\S+)`)
	if !strings.Contains(final, "\nUSER "+user) || strings.HasPrefix(user, "0") || strings.HasPrefix(user, "root") {
		t.Errorf("the final image runs as %q, want a non-root user", user)
	}
}
