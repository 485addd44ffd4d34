package main

import (
	"net"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

func TestPlacements(t *testing.T) {
	tests := []struct {
		list     string
		ncpu     int
		want     []string // String of each placement
		errorHas string
	}{
		{list: "split", ncpu: 2, want: []string{"split: the Elasticsearch node on CPU 0; the Kafka broker, the ingester and this benchmark on CPU 1"}},
		{list: "split", ncpu: 4, want: []string{"split: the Elasticsearch node on CPU 0-1; the Kafka broker, the ingester and this benchmark on CPU 2-3"}},
		{list: "split", ncpu: 3, want: []string{"split: the Elasticsearch node on CPU 0; the Kafka broker, the ingester and this benchmark on CPU 1-2"}},
		{list: "split, shared", ncpu: 2, want: []string{
			"split: the Elasticsearch node on CPU 0; the Kafka broker, the ingester and this benchmark on CPU 1",
			"shared: every process on every CPU"}},
		{list: "shared", ncpu: 1, want: []string{"shared: every process on every CPU"}},
		{list: "split", ncpu: 1, errorHas: "needs two CPUs"},
		{list: "split,spilt", ncpu: 2, errorHas: `unknown placement "spilt"`},
	}
	for _, tt := range tests {
		got, err := placements(tt.list, tt.ncpu)
		if tt.errorHas != "" {
			if err == nil || !strings.Contains(err.Error(), tt.errorHas) {
				t.Errorf("placements(%q, %d): error %v, want one with %q", tt.list, tt.ncpu, err, tt.errorHas)
			}
			continue
		}
		if err != nil {
			t.Errorf("placements(%q, %d): %v", tt.list, tt.ncpu, err)
			continue
		}
		var s []string
		for _, p := range got {
			s = append(s, p.String())
		}
		if strings.Join(s, "\n") != strings.Join(tt.want, "\n") {
			t.Errorf("placements(%q, %d) =\n%s\nwant\n%s", tt.list, tt.ncpu, strings.Join(s, "\n"), strings.Join(tt.want, "\n"))
		}
	}
}

func TestListeningPID(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	_, port, _ := net.SplitHostPort(l.Addr().String())
	if pid, err := listeningPID(port); err != nil || pid != os.Getpid() {
		t.Errorf("listeningPID(%s) = %d, %v; want this process, %d", port, pid, err, os.Getpid())
	}
	l.Close()
	if pid, err := listeningPID(port); err == nil {
		t.Errorf("listeningPID(%s) after the listener closed = %d, want an error", port, pid)
	}
}

// TestPinProcess pins every thread of a child process to one CPU and
// gives it back the CPUs it had.
func TestPinProcess(t *testing.T) {
	if runtime.NumCPU() < 2 {
		t.Skip("pinning to one CPU of several needs two CPUs")
	}
	cmd := exec.Command("sleep", "60")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	pid := cmd.Process.Pid
	var orig, one, got unix.CPUSet
	if err := unix.SchedGetaffinity(pid, &orig); err != nil {
		t.Fatal(err)
	}
	one.Set(1)
	for _, want := range []unix.CPUSet{one, orig} {
		if err := pinProcess(pid, want); err != nil {
			t.Fatal(err)
		}
		if err := unix.SchedGetaffinity(pid, &got); err != nil {
			t.Fatal(err)
		}
		if got != want {
			t.Errorf("CPUs of the child after pinning to %s: %s", cpuList(want), cpuList(got))
		}
	}
}
