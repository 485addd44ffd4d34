package main

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// A placement says on which CPUs the processes of a run may run.
//
// On a machine of a few cores the node, the broker, the ingester and this
// benchmark share them. Then the ingester's CPU is taken from the node: the
// index ceiling (the node beside this client) and the end-to-end run (the
// node beside the ingester) give the node different amounts of CPU, and
// the ratio measures how much CPU the ingester takes more than how well it
// keeps the node busy. The split placement holds the node's share
// constant, as a deployment does where Elasticsearch runs on machines of
// its own: the node gets the first half of the CPUs, everything else the
// other half, in the ceilings and in the end-to-end runs alike. The shared
// placement leaves every process on every CPU.
type placement struct {
	name       string
	node, rest unix.CPUSet // empty in the shared placement
}

// placements parses a comma-separated list of placement names for a
// machine of ncpu CPUs.
func placements(list string, ncpu int) ([]placement, error) {
	var out []placement
	for _, name := range strings.Split(list, ",") {
		switch name = strings.TrimSpace(name); name {
		case "shared":
			out = append(out, placement{name: name})
		case "split":
			if ncpu < 2 {
				return nil, fmt.Errorf("the split placement needs two CPUs or more; this machine has %d", ncpu)
			}
			p := placement{name: name}
			for c := range ncpu {
				if c < ncpu/2 {
					p.node.Set(c)
				} else {
					p.rest.Set(c)
				}
			}
			out = append(out, p)
		default:
			return nil, fmt.Errorf("unknown placement %q (want split or shared)", name)
		}
	}
	return out, nil
}

// pinned reports whether p restricts CPUs at all.
func (p placement) pinned() bool { return p.node.Count() > 0 }

func (p placement) String() string {
	if !p.pinned() {
		return "shared: every process on every CPU"
	}
	return fmt.Sprintf("split: the Elasticsearch node on CPU %s; the Kafka broker, the ingester and this benchmark on CPU %s",
		cpuList(p.node), cpuList(p.rest))
}

// cpuList renders s as a list of CPU ranges, "0" or "2-3".
func cpuList(s unix.CPUSet) string {
	var parts []string
	for c := 0; c < len(s)*64; {
		if !s.IsSet(c) {
			c++
			continue
		}
		end := c
		for end+1 < len(s)*64 && s.IsSet(end+1) {
			end++
		}
		if end == c {
			parts = append(parts, strconv.Itoa(c))
		} else {
			parts = append(parts, fmt.Sprintf("%d-%d", c, end))
		}
		c = end + 1
	}
	return strings.Join(parts, ",")
}

// pinner applies placements to the node, the brokers and this process,
// and gives every process back the CPUs it had.
type pinner struct {
	node    int
	brokers []int
	orig    map[int]unix.CPUSet // per process: its CPUs before the first placement
}

// newPinner finds the processes of the node and the brokers by the local
// ports they listen on.
func newPinner(esURL string, brokers []string) (*pinner, error) {
	u, err := url.Parse(esURL)
	if err != nil {
		return nil, err
	}
	port := u.Port()
	if port == "" {
		port = map[string]string{"http": "80", "https": "443"}[u.Scheme]
	}
	p := &pinner{orig: map[int]unix.CPUSet{}}
	if p.node, err = listeningPID(port); err != nil {
		return nil, fmt.Errorf("the Elasticsearch node at %s: %w", esURL, err)
	}
	for _, b := range brokers {
		_, port, err := net.SplitHostPort(b)
		if err != nil {
			return nil, err
		}
		pid, err := listeningPID(port)
		if err != nil {
			return nil, fmt.Errorf("the Kafka broker at %s: %w", b, err)
		}
		p.brokers = append(p.brokers, pid)
	}
	for _, pid := range append([]int{os.Getpid(), p.node}, p.brokers...) {
		var s unix.CPUSet
		if err := unix.SchedGetaffinity(pid, &s); err != nil {
			return nil, fmt.Errorf("reading the CPUs of process %d: %w", pid, err)
		}
		p.orig[pid] = s
	}
	return p, nil
}

// apply puts the node, the brokers and this process (and so the ingesters
// it starts, which inherit its CPUs) where pl says.
func (p *pinner) apply(pl placement) error {
	set := func(pid int, s unix.CPUSet) error {
		if !pl.pinned() {
			s = p.orig[pid]
		}
		return pinProcess(pid, s)
	}
	if err := set(p.node, pl.node); err != nil {
		return err
	}
	for _, pid := range append([]int{os.Getpid()}, p.brokers...) {
		if err := set(pid, pl.rest); err != nil {
			return err
		}
	}
	return nil
}

// restore gives every process the CPUs it had before; it goes on past
// errors, so that as much as possible is restored.
func (p *pinner) restore() error {
	var errs []error
	for pid, s := range p.orig {
		errs = append(errs, pinProcess(pid, s))
	}
	return errors.Join(errs...)
}

// pinProcess sets the CPUs of every thread of pid to s. A thread started
// later inherits the CPUs of the thread that starts it; a second pass
// catches one started, by a thread not yet set, during the first.
func pinProcess(pid int, s unix.CPUSet) error {
	for range 2 {
		tids, err := os.ReadDir(fmt.Sprintf("/proc/%d/task", pid))
		if err != nil {
			return fmt.Errorf("pinning process %d: %w", pid, err)
		}
		for _, t := range tids {
			tid, _ := strconv.Atoi(t.Name())
			if err := unix.SchedSetaffinity(tid, &s); err != nil && !errors.Is(err, unix.ESRCH) {
				return fmt.Errorf("pinning thread %d of process %d: %w", tid, pid, err)
			}
		}
	}
	return nil
}

// listeningPID returns the process that listens on the local TCP port,
// found through /proc/net/tcp{,6} (the socket's inode) and the processes'
// file descriptors.
func listeningPID(port string) (int, error) {
	n, err := strconv.ParseUint(port, 10, 16)
	if err != nil {
		return 0, fmt.Errorf("port %q: %w", port, err)
	}
	want := fmt.Sprintf(":%04X", n)
	inodes := map[string]bool{}
	for _, table := range []string{"/proc/net/tcp", "/proc/net/tcp6"} {
		f, err := os.Open(table)
		if err != nil {
			continue
		}
		s := bufio.NewScanner(f)
		for s.Scan() {
			// sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode
			fields := strings.Fields(s.Text())
			if len(fields) > 9 && strings.HasSuffix(fields[1], want) && fields[3] == "0A" { // 0A: LISTEN
				inodes["socket:["+fields[9]+"]"] = true
			}
		}
		f.Close()
	}
	if len(inodes) == 0 {
		return 0, fmt.Errorf("nothing listens on port %s of this machine", port)
	}
	fds, _ := filepath.Glob("/proc/[0-9]*/fd/*")
	for _, fd := range fds {
		if target, err := os.Readlink(fd); err == nil && inodes[target] {
			return strconv.Atoi(strings.Split(fd, "/")[2])
		}
	}
	return 0, fmt.Errorf("the process listening on port %s is not visible (another user's?)", port)
}
