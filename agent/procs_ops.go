package agent

import (
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// The proc_* operations of docs/agent-protocol.md. Each one except proc_connect answers at once.
func init() {
	ops["proc_start"] = (*Agent).procStart
	ops["proc_list"] = (*Agent).procList
	ops["proc_get"] = (*Agent).procGet
	ops["proc_connect"] = (*Agent).procConnect
	ops["proc_input"] = (*Agent).procInput
	ops["proc_close_stdin"] = (*Agent).procCloseStdin
	ops["proc_resize"] = (*Agent).procResize
	ops["proc_signal"] = (*Agent).procSignal
	ops["proc_wait"] = (*Agent).procWait
	ops["proc_kill"] = (*Agent).procKill
}

type procStartRequest struct {
	execRequest
	Shell bool `json:"shell"` // argv is the default shell the host chose: echoed in the view
}

type procRef struct {
	ID        string `json:"id"`
	After     uint64 `json:"after"`
	Rows      uint16 `json:"rows"`
	Cols      uint16 `json:"cols"`
	Signal    string `json:"signal"`
	Scope     string `json:"scope"`
	TimeoutMs int64  `json:"timeout_ms"`
	GraceMs   int64  `json:"grace_ms"`
}

type procView struct {
	ID           string       `json:"process_id"`
	Kind         string       `json:"kind"`
	Pid          int          `json:"pid"`
	State        string       `json:"state"`
	LeaderExited bool         `json:"leader_exited"`
	TreeExited   bool         `json:"tree_exited"`
	CreatedMs    int64        `json:"created_at_ms"`
	FinishedMs   int64        `json:"finished_at_ms,omitempty"`
	ExitCode     *int         `json:"exit_code,omitempty"`
	Signal       string       `json:"signal,omitempty"`
	Argv         []string     `json:"argv"`
	Shell        bool         `json:"shell,omitempty"`
	Cwd          string       `json:"cwd"`
	StdinClosed  bool         `json:"stdin_closed"`
	Foreground   *foreground  `json:"foreground,omitempty"`
	Output       outputWindow `json:"output"`
}

type foreground struct {
	Pid  int      `json:"pid"`
	Cmd  string   `json:"cmd"`
	Args []string `json:"args,omitempty"`
}

type outputWindow struct {
	OldestSeq uint64 `json:"oldest_seq"`
	NewestSeq uint64 `json:"newest_seq"`
	Bytes     int    `json:"bytes"`
}

func (m *managedProc) view() procView {
	m.mu.Lock()
	v := procView{ID: m.id, Kind: m.kind, Pid: m.p.pid, State: "running", LeaderExited: m.leaderExited,
		TreeExited: m.treeExited, CreatedMs: m.created.UnixMilli(), Argv: m.argv, Shell: m.shell, Cwd: m.cwd,
		StdinClosed: m.stdinClosed}
	if m.terminating {
		v.State = "terminating"
	}
	if m.treeExited {
		v.State, v.FinishedMs = "exited", m.finished.UnixMilli()
	}
	if m.leaderExited {
		if m.status.Signaled() {
			v.Signal = signalName(m.status.Signal())
		} else {
			code := m.status.ExitStatus()
			v.ExitCode = &code
		}
	}
	if m.nextSeq > 1 {
		v.Output = outputWindow{OldestSeq: m.firstRetainedLocked(), NewestSeq: m.nextSeq - 1, Bytes: m.ringBytes}
	}
	alive := !m.treeExited
	m.mu.Unlock()
	if m.p.pty != nil && alive {
		v.Foreground = foregroundOf(m.p.pty)
	}
	return v
}

// foregroundOf describes the terminal's foreground process group leader from its /proc cmdline.
func foregroundOf(master *os.File) *foreground {
	pgrp, err := foregroundPgrp(master)
	if err != nil || pgrp <= 0 {
		return nil
	}
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pgrp) + "/cmdline")
	if err != nil || len(b) == 0 {
		return nil
	}
	argv := strings.Split(strings.TrimRight(string(b), "\x00"), "\x00")
	return &foreground{Pid: pgrp, Cmd: filepath.Base(argv[0]), Args: argv[1:]}
}

// lookup finds the request's process, answering ENOENT when there is none.
func (a *Agent) lookup(st *stream, raw []byte) (*managedProc, *procRef) {
	var ref procRef
	if !decode(st, raw, &ref) {
		return nil, nil
	}
	m := a.procs.get(ref.ID)
	if m == nil {
		st.fail("ENOENT", "process not found")
		return nil, nil
	}
	return m, &ref
}

func (a *Agent) procStart(st *stream, raw []byte) {
	var req procStartRequest
	if !decode(st, raw, &req) {
		return
	}
	if len(req.Argv) == 0 && req.Shell {
		req.Argv = defaultShell(req.User)
	}
	if len(req.Argv) == 0 {
		st.fail("bad_request", "proc_start needs a non-empty argv")
		return
	}
	if b, _ := json.Marshal(req.Argv); len(b)+len(req.Cwd) > 8<<10 {
		st.fail("bad_request", "argv and cwd exceed 8 KiB")
		return
	}
	req.Stdin = true // a pipe process's stdin stays open until proc_close_stdin
	m, err := a.startManaged(&req.execRequest, req.Shell)
	if err != nil {
		if errorCode(err) == "process_limit" {
			st.failErr(err)
		} else {
			st.fail("start_failed", err.Error())
		}
		return
	}
	st.event(map[string]any{"type": "ok", "proc": m.view()})
}

func (a *Agent) procList(st *stream, _ []byte) {
	var batch []json.RawMessage
	size := 0
	for _, m := range a.procs.list() {
		b, _ := json.Marshal(m.view())
		if size+len(b) > 24<<10 && len(batch) > 0 {
			st.event(map[string]any{"type": "procs", "processes": batch})
			batch, size = nil, 0
		}
		batch = append(batch, b)
		size += len(b)
	}
	if batch == nil {
		batch = []json.RawMessage{}
	}
	st.event(map[string]any{"type": "ok", "processes": batch})
}

func (a *Agent) procGet(st *stream, raw []byte) {
	if m, _ := a.lookup(st, raw); m != nil {
		st.event(map[string]any{"type": "ok", "proc": m.view()})
	}
}

// procConnect replays every retained chunk after ref.After, then follows: each chunk is an EVENT
// {"type":"chunk","seq","stream","size"} followed by its bytes as DATA on channel 1 (flow-controlled).
func (a *Agent) procConnect(st *stream, raw []byte) {
	m, ref := a.lookup(st, raw)
	if m == nil {
		return
	}
	m.mu.Lock()
	if m.followers >= procMaxFollowers {
		m.mu.Unlock()
		st.fail("EBUSY", "too many connect streams on this process")
		return
	}
	m.followers++
	m.mu.Unlock()
	defer func() {
		m.mu.Lock()
		m.followers--
		m.mu.Unlock()
	}()
	cursor := ref.After
	expired := func() bool { // with m.mu held
		if first := m.firstRetainedLocked(); cursor > 0 && cursor+1 < first || cursor == 0 && first > 1 {
			st.event(map[string]any{"type": "expired", "oldest_seq": first})
			return true
		}
		return false
	}
	m.mu.Lock()
	if ref.After > 0 && expired() {
		m.mu.Unlock()
		return
	}
	m.mu.Unlock()
	st.event(map[string]any{"type": "ok"})
	if ref.After == 0 {
		// A full replay starts at the oldest retained chunk: what was evicted is not an error here.
		m.mu.Lock()
		cursor = m.firstRetainedLocked() - 1
		m.mu.Unlock()
	}
	heartbeat := time.NewTimer(procHeartbeat)
	defer heartbeat.Stop()
	for {
		m.mu.Lock()
		if expired() { // the reader fell behind the ring
			m.mu.Unlock()
			return
		}
		var pending []outChunk
		for i := len(m.ring) - 1; i >= 0 && m.ring[i].seq > cursor; i-- {
			pending = append(pending, m.ring[i])
		}
		done := len(pending) == 0 && m.outputDoneLocked()
		status, changed := m.status, m.changed
		m.mu.Unlock()
		for i := len(pending) - 1; i >= 0; i-- {
			c := pending[i]
			if st.event(map[string]any{"type": "chunk", "seq": c.seq, "stream": c.stream, "size": len(c.data)}) != nil ||
				st.data(ChanOut, c.data) != nil {
				return
			}
			cursor = c.seq
		}
		if done {
			ev := exitEvent{Type: "exit", Code: status.ExitStatus()}
			if status.Signaled() {
				ev.Code, ev.Signal = 128+int(status.Signal()), signalName(status.Signal())
			}
			st.event(ev)
			return
		}
		if len(pending) > 0 {
			if !heartbeat.Stop() {
				<-heartbeat.C
			}
			heartbeat.Reset(procHeartbeat)
			continue
		}
		select {
		case <-changed:
		case <-heartbeat.C:
			if st.event(map[string]string{"type": "heartbeat"}) != nil {
				return
			}
			heartbeat.Reset(procHeartbeat)
		case <-st.stopped:
			return
		}
	}
}

// procInput takes the bytes sent as DATA until EOF as one write.
func (a *Agent) procInput(st *stream, raw []byte) {
	m, _ := a.lookup(st, raw)
	if m == nil {
		return
	}
	var input []byte
	tooBig := false
	for {
		b, err := st.read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return
		}
		if len(input)+len(b) > procMaxInput {
			tooBig = true
		} else {
			input = append(input, b...)
		}
		st.consumed(len(b))
	}
	if tooBig {
		st.fail("EFBIG", "more than 1 MiB of input in one write")
		return
	}
	m.mu.Lock()
	var code, msg string
	switch {
	// Input to a stdin the caller closed is refused as such, whether or not the process has ended since (a cat
	// ends at that EOF): the answer must not depend on how fast the process exits.
	case m.stdinClosed:
		code, msg = "stdin_closed", "stdin is closed"
	case m.treeExited || (m.leaderExited && m.p.pty != nil):
		code, msg = "exited", "the process has finished"
	case m.backlogBytes+len(input) > procMaxBacklog:
		code, msg = "EAGAIN", "the process has not read 8 MiB of earlier input"
	}
	if code != "" {
		m.mu.Unlock()
		st.fail(code, msg)
		return
	}
	m.inputSeq++
	n := m.inputSeq
	if len(input) > 0 {
		m.backlog = append(m.backlog, input)
		m.backlogBytes += len(input)
	}
	m.changedLocked()
	m.mu.Unlock()
	st.event(map[string]any{"type": "ok", "input_seq": n})
}

func (a *Agent) procCloseStdin(st *stream, raw []byte) {
	m, _ := a.lookup(st, raw)
	if m == nil {
		return
	}
	if m.p.pty != nil {
		st.fail("not_a_pipe", "a PTY process has no separate stdin")
		return
	}
	m.mu.Lock()
	m.stdinClosed = true
	m.changedLocked()
	m.mu.Unlock()
	st.event(map[string]string{"type": "ok"})
}

func (a *Agent) procResize(st *stream, raw []byte) {
	m, ref := a.lookup(st, raw)
	if m == nil {
		return
	}
	switch {
	case m.p.pty == nil:
		st.fail("not_a_pty", "the process has no terminal")
	case ref.Rows == 0 || ref.Cols == 0:
		st.fail("EINVAL", "rows and cols must be positive")
	case m.isTreeExited():
		st.fail("exited", "the process has finished")
	default:
		if err := setWinSize(m.p.pty, winSize{Rows: ref.Rows, Cols: ref.Cols}); err != nil {
			st.failErr(err)
			return
		}
		st.event(map[string]string{"type": "ok"})
	}
}

func (a *Agent) procSignal(st *stream, raw []byte) {
	m, ref := a.lookup(st, raw)
	if m == nil {
		return
	}
	sig, ok := parseSignal(ref.Signal)
	if !ok {
		st.fail("EINVAL", "unknown signal "+quote(ref.Signal))
		return
	}
	if m.isTreeExited() {
		st.fail("exited", "the process has finished")
		return
	}
	pgrp := m.p.pid
	if m.p.pty != nil {
		if fg, err := foregroundPgrp(m.p.pty); err == nil && fg > 0 {
			pgrp = fg
		}
	}
	if err := syscall.Kill(-pgrp, sig); err != nil && err != syscall.ESRCH {
		st.failErr(err)
		return
	}
	st.event(map[string]string{"type": "ok"})
}

// procWait answers when the leader (scope "leader") or the whole tree ("tree") has exited, or after
// timeout_ms with done false.
func (a *Agent) procWait(st *stream, raw []byte) {
	m, ref := a.lookup(st, raw)
	if m == nil {
		return
	}
	if ref.Scope != "" && ref.Scope != "leader" && ref.Scope != "tree" {
		st.fail("EINVAL", "scope must be leader or tree")
		return
	}
	timeout := time.NewTimer(time.Duration(ref.TimeoutMs) * time.Millisecond)
	defer timeout.Stop()
	for {
		m.mu.Lock()
		done := m.treeExited || (ref.Scope != "tree" && m.leaderExited)
		changed := m.changed
		m.mu.Unlock()
		if done {
			st.event(map[string]any{"type": "ok", "done": true, "proc": m.view()})
			return
		}
		select {
		case <-changed:
		case <-timeout.C:
			st.event(map[string]any{"type": "ok", "done": false, "proc": m.view()})
			return
		case <-st.stopped:
			return
		}
	}
}

func (a *Agent) procKill(st *stream, raw []byte) {
	m, ref := a.lookup(st, raw)
	if m == nil {
		return
	}
	m.terminate(time.Duration(ref.GraceMs) * time.Millisecond)
	st.event(map[string]any{"type": "ok", "proc": m.view()})
}

// defaultShell is the user's login shell from /etc/passwd, else /bin/bash, else /bin/sh, run as a login shell.
func defaultShell(user string) []string {
	candidates := []string{"/bin/bash", "/bin/sh"}
	if acct, err := lookupAccount(user); err == nil && acct.shell != "" && !strings.HasSuffix(acct.shell, "nologin") {
		candidates = append([]string{acct.shell}, candidates...)
	}
	for _, sh := range candidates {
		if fi, err := os.Stat(sh); err == nil && fi.Mode().IsRegular() {
			return []string{sh, "-l"}
		}
	}
	return []string{"/bin/sh", "-l"}
}
