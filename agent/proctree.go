package agent

import (
	"errors"
	"fmt"
	"io/fs"
	"log"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// Cgroups gives every exec its own cgroup v2 directory, so that killing it reaches each descendant,
// even one that called setsid or was reparented.
type Cgroups struct {
	root string
	log  *log.Logger
	next atomic.Uint64

	mu      sync.Mutex
	pending map[string]bool // exec cgroups still holding background processes
}

// OpenCgroups uses root (created if missing) as the parent of the exec cgroups. It fails unless root
// is a writable cgroup v2 directory with cgroup.kill (Linux 5.14).
func OpenCgroups(root string, logger *log.Logger) (*Cgroups, error) {
	if err := os.MkdirAll(root, 0o755); err != nil {
		return nil, err
	}
	if _, err := os.Stat(filepath.Join(root, "cgroup.kill")); err != nil {
		return nil, fmt.Errorf("%s is not a cgroup v2 directory with cgroup.kill: %w", root, err)
	}
	return &Cgroups{root: root, log: logger, pending: map[string]bool{}}, nil
}

func (c *Cgroups) create() (string, error) {
	for {
		dir := filepath.Join(c.root, "exec-"+strconv.FormatUint(c.next.Add(1), 10))
		err := os.Mkdir(dir, 0o755)
		if !errors.Is(err, fs.ErrExist) {
			return dir, err
		}
	}
}

func (c *Cgroups) kill(dir string) error {
	return os.WriteFile(filepath.Join(dir, "cgroup.kill"), []byte("1"), 0)
}

// release removes an exec's cgroup once its last process is gone: a background process may
// legitimately outlive its exec, so a busy cgroup is retried later.
func (c *Cgroups) release(dir string) {
	if err := syscall.Rmdir(dir); err == nil || err == syscall.ENOENT {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.pending) == 0 {
		go c.sweep()
	}
	c.pending[dir] = true
}

func (c *Cgroups) sweep() {
	for {
		time.Sleep(2 * time.Second)
		c.mu.Lock()
		for dir := range c.pending {
			if err := syscall.Rmdir(dir); err == nil || err == syscall.ENOENT {
				delete(c.pending, dir)
			} else if err != syscall.EBUSY {
				c.log.Printf("remove cgroup %s: %v", dir, err)
				delete(c.pending, dir)
			}
		}
		empty := len(c.pending) == 0
		c.mu.Unlock()
		if empty {
			return
		}
	}
}

// killTree SIGKILLs what can be found of a session leader's tree without cgroups: its process group,
// its session, and every descendant still linked to it by parent pids (a daemon that left the session
// and lost its parent escapes).
func killTree(leader int) {
	// Freeze the group first: a shell must not report its killed child as its own exit, and a dying
	// parent would hand its children to init before the walk below finds them.
	_ = syscall.Kill(-leader, syscall.SIGSTOP)
	children := map[int][]int{}
	targets := map[int]bool{}
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		ppid, pgrp, sid, ok := readStat(pid)
		if !ok {
			continue
		}
		children[ppid] = append(children[ppid], pid)
		if pgrp == leader || sid == leader {
			targets[pid] = true
		}
	}
	for queue := []int{leader}; len(queue) > 0; queue = queue[1:] {
		targets[queue[0]] = true
		queue = append(queue, children[queue[0]]...)
	}
	_ = syscall.Kill(-leader, syscall.SIGKILL)
	for pid := range targets {
		_ = syscall.Kill(pid, syscall.SIGKILL)
	}
}

// readStat returns the parent, process group and session of a process from /proc/PID/stat.
func readStat(pid int) (ppid, pgrp, sid int, ok bool) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, 0, 0, false
	}
	s := string(b)
	fields := strings.Fields(s[strings.LastIndexByte(s, ')')+1:]) // the command name may hold spaces and ')'
	if len(fields) < 4 {
		return 0, 0, 0, false
	}
	ppid, _ = strconv.Atoi(fields[1])
	pgrp, _ = strconv.Atoi(fields[2])
	sid, _ = strconv.Atoi(fields[3])
	return ppid, pgrp, sid, true
}
