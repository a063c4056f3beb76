package agent

import (
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
)

// Reaper owns every wait4 of the agent: it turns SIGCHLD into exit statuses for the processes started
// through it. As PID 1 it also reaps the orphans the kernel hands to init. Nothing else may wait for
// children, or it could steal a status that an exec is waiting for.
type Reaper struct {
	orphans bool // wait4(-1): reap every child, not only the registered ones

	mu      sync.Mutex
	waiters map[int]chan syscall.WaitStatus
}

// NewReaper starts the reaper goroutine; reapOrphans is for PID 1.
func NewReaper(reapOrphans bool) *Reaper {
	r := &Reaper{orphans: reapOrphans, waiters: map[int]chan syscall.WaitStatus{}}
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGCHLD)
	go func() {
		for range sigs {
			r.reap()
		}
	}()
	return r
}

// Start runs fork, which starts a process and returns its pid, with the reaper locked, so that the
// child cannot be reaped before its pid is registered. The channel receives its wait status.
func (r *Reaper) Start(fork func() (int, error)) (int, <-chan syscall.WaitStatus, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	pid, err := fork()
	if err != nil {
		return 0, nil, err
	}
	ch := make(chan syscall.WaitStatus, 1)
	r.waiters[pid] = ch
	return pid, ch, nil
}

func (r *Reaper) reap() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.orphans {
		for {
			var ws syscall.WaitStatus
			pid, err := syscall.Wait4(-1, &ws, syscall.WNOHANG, nil)
			if err == syscall.EINTR {
				continue
			}
			if err != nil || pid <= 0 {
				return
			}
			r.deliver(pid, ws)
		}
	}
	for pid := range r.waiters {
		var ws syscall.WaitStatus
		if got, _ := syscall.Wait4(pid, &ws, syscall.WNOHANG, nil); got == pid {
			r.deliver(pid, ws)
		}
	}
}

func (r *Reaper) deliver(pid int, ws syscall.WaitStatus) {
	if ch, ok := r.waiters[pid]; ok {
		delete(r.waiters, pid)
		ch <- ws
	}
}

// Run runs a helper program (looked up in the system directories) to completion.
func (r *Reaper) Run(argv ...string) (output []byte, err error) {
	path, err := findProgram(argv[0])
	if err != nil {
		return nil, err
	}
	devnull, err := os.Open(os.DevNull)
	if err != nil {
		return nil, err
	}
	defer devnull.Close()
	pr, pw, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	defer pr.Close()
	attr := &syscall.ProcAttr{Env: []string{"PATH=" + defaultPath, "LANG=C.UTF-8"},
		Files: []uintptr{devnull.Fd(), pw.Fd(), pw.Fd()}}
	_, exited, err := r.Start(func() (int, error) { return syscall.ForkExec(path, argv, attr) })
	pw.Close()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", strings.Join(argv, " "), err)
	}
	output, _ = io.ReadAll(pr)
	if ws := <-exited; ws.ExitStatus() != 0 || ws.Signaled() {
		return output, fmt.Errorf("%s: %s: %s", strings.Join(argv, " "), describeStatus(ws),
			strings.TrimSpace(string(output)))
	}
	return output, nil
}

const defaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

func findProgram(name string) (string, error) {
	for _, dir := range filepath.SplitList(defaultPath) {
		p := filepath.Join(dir, name)
		if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0 {
			return p, nil
		}
	}
	return "", fmt.Errorf("%s: not found in %s", name, defaultPath)
}

func describeStatus(ws syscall.WaitStatus) string {
	if ws.Signaled() {
		return "killed by SIG" + signalName(ws.Signal())
	}
	return fmt.Sprintf("exit status %d", ws.ExitStatus())
}
