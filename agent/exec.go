package agent

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"syscall"
	"time"
	"unsafe"
)

type execRequest struct {
	Argv  []string          `json:"argv"`
	Env   map[string]string `json:"env"`
	Cwd   string            `json:"cwd"`
	User  string            `json:"user"`
	Pty   *winSize          `json:"pty"`
	Stdin bool              `json:"stdin"`
}

type winSize struct {
	Rows uint16 `json:"rows"`
	Cols uint16 `json:"cols"`
}

// execControl is an EVENT the host sends to a running exec.
type execControl struct {
	Type   string `json:"type"` // resize, signal, kill
	Rows   uint16 `json:"rows"`
	Cols   uint16 `json:"cols"`
	Signal string `json:"signal"`
}

type exitEvent struct {
	Type   string `json:"type"`
	Code   int    `json:"code"`
	Signal string `json:"signal,omitempty"`
}

// Once the leader has exited, an output is forwarded until it is idle for drainIdle: what the leader
// wrote is already in the pipe, while a background process may hold the pipe open forever. drainMax
// bounds what such a process can still push through (a pipe holds at most 1 MiB by default).
const drainMax = 1 << 20

var drainIdle = 50 * time.Millisecond // a var for tests

func (a *Agent) exec(st *stream, raw []byte) {
	var req execRequest
	if !decode(st, raw, &req) {
		return
	}
	if len(req.Argv) == 0 {
		st.fail("bad_request", "exec needs a non-empty argv")
		return
	}
	p, err := a.start(&req)
	if err != nil {
		st.fail("start_failed", err.Error())
		return
	}
	defer p.release()
	st.event(map[string]any{"type": "started", "pid": p.pid})
	ws := p.run(st)
	if st.isStopped() {
		return // the host aborted: it only gets the CLOSE
	}
	ev := exitEvent{Type: "exit", Code: ws.ExitStatus()}
	if ws.Signaled() {
		ev.Code, ev.Signal = 128+int(ws.Signal()), signalName(ws.Signal())
	}
	st.event(ev)
}

// process is a started exec.
type process struct {
	a      *Agent
	pid    int // leader of its own session and process group
	exited <-chan syscall.WaitStatus
	cgroup string     // "" without cgroups
	stdin  *os.File   // pipe to the process, the PTY master, or nil
	outs   []*os.File // stdout and stderr pipes, or the PTY master
	pty    *os.File
}

// start starts the request's process and returns once it runs the target program.
func (a *Agent) start(req *execRequest) (*process, error) {
	acct, err := lookupAccount(req.User)
	if err != nil {
		return nil, err
	}
	spec := shimSpec{Dir: req.Cwd, Argv: req.Argv}
	if spec.Dir == "" {
		spec.Dir = acct.home
		if _, err := os.Stat(spec.Dir); err != nil {
			spec.Dir = "/"
		}
	}
	if acct.uid != os.Getuid() || acct.gid != os.Getgid() {
		spec.Creds = &shimCreds{UID: acct.uid, GID: acct.gid, Groups: acct.groups}
	}
	p := &process{a: a}
	stdio, err := p.openStdio(req)
	defer closeAll(stdio) // the child's ends: the agent must not hold them, or it never sees EOF
	if err != nil {
		p.closeFiles()
		return nil, err
	}
	if a.Cgroups != nil {
		if spec.Cgroup, err = a.Cgroups.create(); err != nil {
			a.Log.Printf("exec without its own cgroup: %v", err)
			spec.Cgroup = ""
		}
	}
	p.cgroup = spec.Cgroup
	env := execEnv(acct, req.Env, req.Pty != nil)
	if p.pid, p.exited, err = a.spawn(spec, stdio, env, req.Pty != nil); err != nil {
		p.release()
		return nil, err
	}
	return p, nil
}

// spawn starts the shim (see shim.go) as the leader of a new session with the given stdin, stdout and
// stderr, and returns once it has become the target program or has failed to.
func (a *Agent) spawn(spec shimSpec, stdio []*os.File, env []string, tty bool) (int, <-chan syscall.WaitStatus, error) {
	statusR, statusW, err := os.Pipe()
	if err != nil {
		return 0, nil, err
	}
	defer statusR.Close()
	specJSON, _ := json.Marshal(spec)
	// Fd also puts the child's ends in blocking mode.
	files := []uintptr{stdio[0].Fd(), stdio[1].Fd(), stdio[2].Fd(), statusW.Fd()}
	attr := &syscall.ProcAttr{Env: env, Files: files, Sys: &syscall.SysProcAttr{Setsid: true, Setctty: tty, Ctty: 0}}
	pid, exited, err := a.Reaper.Start(func() (int, error) {
		return syscall.ForkExec(a.Shim, []string{"createos-agent", ShimArg, string(specJSON)}, attr)
	})
	statusW.Close()
	if err != nil {
		return 0, nil, fmt.Errorf("start the exec shim %s: %w", a.Shim, err)
	}
	// The status pipe is close-on-exec in the shim: EOF without a message means the target runs.
	msg, err := io.ReadAll(statusR)
	if err == nil && len(msg) > 0 {
		err = errors.New(string(msg))
	}
	if err != nil {
		return 0, nil, err // the shim exits on its own, and the reaper collects it
	}
	return pid, exited, nil
}

// openStdio opens pipes or a PTY and returns the child's ends: stdin, stdout, stderr.
func (p *process) openStdio(req *execRequest) ([]*os.File, error) {
	if req.Pty != nil {
		master, slave, err := openPty(*req.Pty)
		if err != nil {
			return nil, err
		}
		p.pty, p.stdin, p.outs = master, master, []*os.File{master}
		return []*os.File{slave, slave, slave}, nil
	}
	var stdio []*os.File
	var in *os.File
	var err error
	if req.Stdin {
		in, p.stdin, err = os.Pipe()
	} else {
		in, err = os.Open(os.DevNull)
	}
	if err != nil {
		return nil, err
	}
	stdio = append(stdio, in)
	for i := 0; i < 2; i++ {
		r, w, err := os.Pipe()
		if err != nil {
			return stdio, err
		}
		p.outs = append(p.outs, r)
		stdio = append(stdio, w)
	}
	return stdio, nil
}

func closeAll(files []*os.File) {
	for _, f := range files {
		f.Close()
	}
}

// run forwards input, output and control events until the process has exited and its output is
// drained, and returns its wait status. When the stream is aborted it kills the process tree.
func (p *process) run(st *stream) syscall.WaitStatus {
	leaderExited := make(chan struct{})
	var pumps sync.WaitGroup
	for i, f := range p.outs {
		pumps.Add(1)
		go func(ch byte, f *os.File) {
			defer pumps.Done()
			pumpOutput(st, ch, f, leaderExited)
		}(byte(i)+ChanOut, f)
	}
	if p.pty != nil {
		st.eof(ChanErr) // a terminal has no separate stderr
	}
	go p.feedInput(st)

	st.handleEvents(p.control)
	var ws syscall.WaitStatus
	select {
	case ws = <-p.exited:
	case <-st.stopped:
		p.kill()
		ws = <-p.exited
	}
	st.handleEvents(nil) // the pid may be reused from now on
	close(leaderExited)
	for _, f := range p.outs {
		_ = f.SetReadDeadline(time.Now().Add(drainIdle))
	}
	pumps.Wait()
	return ws
}

// pumpOutput forwards one output until EOF or until the drain after the leader's exit ends. The drain
// ends on an idle read only once the pipe is empty: a deadline that passed while the pump was held up
// (flow control, a loaded guest) must not drop what the leader wrote before it exited.
func pumpOutput(st *stream, ch byte, f *os.File, leaderExited <-chan struct{}) {
	buf := make([]byte, MaxData)
	drained := 0
	for drained < drainMax {
		exited := isClosed(leaderExited)
		if exited {
			deadline := time.Now().Add(drainIdle)
			if pendingBytes(f) > 0 {
				deadline = time.Time{} // bytes are waiting: this read returns at once
			}
			_ = f.SetReadDeadline(deadline)
		}
		n, err := f.Read(buf)
		if n > 0 && st.data(ch, buf[:n]) != nil {
			return
		}
		if exited {
			drained += n
		}
		if err != nil {
			if errors.Is(err, os.ErrDeadlineExceeded) && pendingBytes(f) > 0 {
				continue // run() set the deadline at the exit while we were busy: read what is left
			}
			break // EOF, EIO from a PTY whose terminal is gone, or idle after the exit
		}
	}
	st.eof(ch)
}

func isClosed(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

// pendingBytes is how much is waiting to be read in a pipe or terminal (FIONREAD), without taking the
// file out of non-blocking mode as Fd() would.
func pendingBytes(f *os.File) int {
	raw, err := f.SyscallConn()
	if err != nil {
		return 0
	}
	n := 0
	_ = raw.Control(func(fd uintptr) {
		var count int32
		if _, _, e := syscall.Syscall(syscall.SYS_IOCTL, fd, syscall.TIOCINQ, uintptr(unsafe.Pointer(&count))); e == 0 {
			n = int(count)
		}
	})
	return n
}

// feedInput writes the host's input to the process, and returns credit for it even when the
// process no longer reads, so that the host is never stuck.
func (p *process) feedInput(st *stream) {
	in := p.stdin
	for {
		b, err := st.read()
		if err == io.EOF && in != nil {
			if p.pty != nil {
				_ = sendEOF(p.pty)
			} else {
				in.Close()
			}
		}
		if err != nil {
			return
		}
		if in != nil {
			if _, err := in.Write(b); err != nil {
				in = nil
			}
		}
		st.consumed(len(b))
	}
}

func (p *process) control(raw json.RawMessage) {
	var c execControl
	if err := json.Unmarshal(raw, &c); err != nil {
		p.a.Log.Printf("exec %d: bad control event: %v", p.pid, err)
		return
	}
	switch c.Type {
	case "resize":
		if p.pty != nil {
			_ = setWinSize(p.pty, winSize{Rows: c.Rows, Cols: c.Cols})
		}
	case "signal":
		sig, ok := parseSignal(c.Signal)
		if !ok {
			p.a.Log.Printf("exec %d: unknown signal %q", p.pid, c.Signal)
			return
		}
		pgrp := p.pid
		if p.pty != nil {
			if fg, err := foregroundPgrp(p.pty); err == nil && fg > 0 {
				pgrp = fg
			}
		}
		_ = syscall.Kill(-pgrp, sig)
	case "kill":
		p.kill()
	}
}

// kill SIGKILLs the whole process tree.
func (p *process) kill() {
	if p.cgroup != "" {
		err := p.a.Cgroups.kill(p.cgroup)
		if err == nil {
			return
		}
		p.a.Log.Printf("exec %d: cgroup kill: %v", p.pid, err)
	}
	killTree(p.pid)
}

func (p *process) closeFiles() {
	if p.stdin != nil {
		p.stdin.Close()
	}
	for _, f := range p.outs {
		f.Close()
	}
}

func (p *process) release() {
	p.closeFiles()
	if p.cgroup != "" {
		p.a.Cgroups.release(p.cgroup)
	}
}
