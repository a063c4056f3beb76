package agent

import (
	"crypto/rand"
	"encoding/binary"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Managed processes (docs/agent-protocol.md, "Managed processes"): processes that belong to the agent, not
// to a stream, so that they outlive the host's connection (a control-plane restart) and, living in guest
// memory, a pause → resume. Each keeps its output in a bounded ring of sequence-numbered chunks for replay.
const (
	procRingBytes     = 4 << 20   // output retained per process: the newest 4 MiB, whole chunks
	procChunk         = 16 << 10  // raw bytes per output chunk (one sequence number)
	procMaxUnfinished = 64        // processes whose tree still runs
	procMaxFinished   = 64        // finished records kept (the newest)
	procFinishedTTL   = time.Hour // finished records are evicted this long after they finished
	procMaxInput      = 1 << 20   // bytes per input write
	procMaxBacklog    = 8 << 20   // input accepted but not yet written to the process
	procMaxFollowers  = 8         // concurrent connect streams per process
	procTreePoll      = 50 * time.Millisecond
	procHeartbeat     = 5 * time.Second
)

// procTable is the agent's set of managed processes; the zero value is ready.
type procTable struct {
	mu    sync.Mutex
	procs map[string]*managedProc
}

type outChunk struct {
	seq    uint64
	stream string // stdout, stderr, pty
	data   []byte
}

type managedProc struct {
	id      string
	kind    string // "process" or "pty"
	argv    []string
	shell   bool // argv is the default shell the host chose
	cwd     string
	created time.Time
	p       *process

	mu           sync.Mutex
	changed      chan struct{} // closed and replaced on every change
	ring         []outChunk
	ringBytes    int
	nextSeq      uint64
	openOutputs  int
	leaderExited bool
	status       syscall.WaitStatus
	treeExited   bool
	terminating  bool
	finished     time.Time
	followers    int
	stdinClosed  bool
	inputSeq     uint64
	backlog      [][]byte
	backlogBytes int
}

func (m *managedProc) changedLocked() {
	close(m.changed)
	m.changed = make(chan struct{})
}

// firstRetainedLocked is the sequence number of the oldest chunk still in the ring (nextSeq when empty).
func (m *managedProc) firstRetainedLocked() uint64 {
	if len(m.ring) > 0 {
		return m.ring[0].seq
	}
	return m.nextSeq
}

func (m *managedProc) appendOutput(stream string, b []byte) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.ring = append(m.ring, outChunk{seq: m.nextSeq, stream: stream, data: b})
	m.nextSeq++
	m.ringBytes += len(b)
	for m.ringBytes > procRingBytes && len(m.ring) > 1 {
		m.ringBytes -= len(m.ring[0].data)
		m.ring[0] = outChunk{}
		m.ring = m.ring[1:]
	}
	m.changedLocked()
}

// outputDoneLocked: the exit may be reported, as all output has been captured.
func (m *managedProc) outputDoneLocked() bool {
	return (m.leaderExited && m.openOutputs == 0) || m.treeExited
}

// startManaged starts a process and the goroutines that capture its output, feed its input and watch its tree.
func (a *Agent) startManaged(req *execRequest, shell bool) (*managedProc, error) {
	t := &a.procs
	t.mu.Lock()
	if t.procs == nil {
		t.procs = map[string]*managedProc{}
	}
	t.evictLocked(time.Now())
	unfinished := 0
	for _, m := range t.procs {
		m.mu.Lock()
		if !m.treeExited {
			unfinished++
		}
		m.mu.Unlock()
	}
	t.mu.Unlock()
	if unfinished >= procMaxUnfinished {
		return nil, &opError{"process_limit", "more than " + strconv.Itoa(procMaxUnfinished) + " unfinished processes"}
	}
	cwd := req.Cwd
	if cwd == "" {
		if acct, err := lookupAccount(req.User); err == nil {
			cwd = acct.home
			if _, err := os.Stat(cwd); err != nil {
				cwd = "/"
			}
		}
	}
	p, err := a.start(req)
	if err != nil {
		return nil, err
	}
	m := &managedProc{id: newProcID(), kind: "process", argv: req.Argv, shell: shell, cwd: cwd, created: time.Now(), p: p,
		changed: make(chan struct{}), nextSeq: 1}
	if req.Pty != nil {
		m.kind = "pty"
	}
	t.mu.Lock()
	t.procs[m.id] = m
	t.mu.Unlock()

	names := []string{"stdout", "stderr"}
	if p.pty != nil {
		names = []string{"pty"}
	}
	m.openOutputs = len(p.outs)
	var pumps sync.WaitGroup
	for i, f := range p.outs {
		pumps.Add(1)
		go func(name string, f *os.File) {
			defer pumps.Done()
			m.capture(name, f)
		}(names[i], f)
	}
	go m.feedInput()
	go m.watch(a, &pumps)
	return m, nil
}

func (m *managedProc) capture(stream string, f *os.File) {
	for {
		buf := make([]byte, procChunk)
		n, err := f.Read(buf)
		if n > 0 {
			m.appendOutput(stream, buf[:n:n])
		}
		if err != nil {
			break // EOF, EIO from a PTY without a terminal, or the deadline set once the tree is gone
		}
	}
	m.mu.Lock()
	m.openOutputs--
	m.changedLocked()
	m.mu.Unlock()
}

// watch waits for the leader, then for the rest of the tree, then releases the process's files and cgroup.
func (m *managedProc) watch(a *Agent, pumps *sync.WaitGroup) {
	ws := <-m.p.exited
	m.mu.Lock()
	m.leaderExited, m.status = true, ws
	m.changedLocked()
	m.mu.Unlock()
	for !m.p.treeGone() {
		time.Sleep(procTreePoll)
	}
	// Nothing of the tree can write any more; a process outside it may still hold the output open.
	for _, f := range m.p.outs {
		_ = f.SetReadDeadline(time.Now().Add(drainIdle))
	}
	pumps.Wait()
	m.mu.Lock()
	m.treeExited, m.finished = true, time.Now()
	m.changedLocked()
	m.mu.Unlock()
	m.p.release()
}

// treeGone: no process of the tree is left (zombies aside). With cgroups the cgroup is empty; without, no
// process remains in the leader's session or process group.
func (p *process) treeGone() bool {
	if p.cgroup != "" {
		b, err := os.ReadFile(filepath.Join(p.cgroup, "cgroup.procs"))
		if err == nil {
			return len(strings.TrimSpace(string(b))) == 0
		}
	}
	return len(sessionMembers(p.pid)) == 0
}

// sessionMembers lists the live (non-zombie) processes whose session or process group is leader's.
func sessionMembers(leader int) []int {
	var pids []int
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		s := string(b)
		f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
		if len(f) < 4 || f[0] == "Z" || f[0] == "X" {
			continue
		}
		if f[2] == strconv.Itoa(leader) || f[3] == strconv.Itoa(leader) {
			pids = append(pids, pid)
		}
	}
	return pids
}

// signalTree sends sig to every process of the tree.
func (p *process) signalTree(sig syscall.Signal) {
	if p.cgroup != "" {
		if b, err := os.ReadFile(filepath.Join(p.cgroup, "cgroup.procs")); err == nil {
			for _, f := range strings.Fields(string(b)) {
				if pid, err := strconv.Atoi(f); err == nil {
					_ = syscall.Kill(pid, sig)
				}
			}
			return
		}
	}
	_ = syscall.Kill(-p.pid, sig)
	for _, pid := range sessionMembers(p.pid) {
		_ = syscall.Kill(pid, sig)
	}
}

// feedInput writes accepted input to the process in order; once stdin is closed and the backlog written,
// it closes the pipe.
func (m *managedProc) feedInput() {
	for {
		m.mu.Lock()
		for len(m.backlog) == 0 && !m.stdinClosed && !m.treeExited {
			ch := m.changed
			m.mu.Unlock()
			<-ch
			m.mu.Lock()
		}
		if len(m.backlog) == 0 {
			closeIt := m.stdinClosed && m.p.pty == nil
			m.mu.Unlock()
			if closeIt && m.p.stdin != nil {
				m.p.stdin.Close()
			}
			return
		}
		b := m.backlog[0]
		m.backlog[0] = nil
		m.backlog = m.backlog[1:]
		m.mu.Unlock()
		if m.p.stdin != nil {
			_, _ = m.p.stdin.Write(b) // a process that stopped reading loses its input, like a closed pipe
		}
		m.mu.Lock()
		m.backlogBytes -= len(b)
		m.mu.Unlock()
	}
}

// terminate ends the whole tree: SIGTERM, up to grace for it to exit, then SIGKILL; it returns once the
// tree is gone (or after a generous bound, should a process be stuck in the kernel).
func (m *managedProc) terminate(grace time.Duration) {
	m.mu.Lock()
	done := m.treeExited
	if !done {
		m.terminating = true
		m.changedLocked()
	}
	m.mu.Unlock()
	if done {
		return
	}
	if grace > 0 {
		m.p.signalTree(syscall.SIGTERM)
		_ = syscall.Kill(-m.p.pid, syscall.SIGCONT) // a stopped process only sees SIGTERM once continued
		m.waitTree(grace)
	}
	if !m.isTreeExited() {
		m.p.kill()
		m.waitTree(30 * time.Second)
	}
}

func (m *managedProc) isTreeExited() bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.treeExited
}

func (m *managedProc) waitTree(d time.Duration) {
	deadline := time.NewTimer(d)
	defer deadline.Stop()
	for {
		m.mu.Lock()
		if m.treeExited {
			m.mu.Unlock()
			return
		}
		ch := m.changed
		m.mu.Unlock()
		select {
		case <-ch:
		case <-deadline.C:
			return
		}
	}
}

func (t *procTable) get(id string) *managedProc {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.procs[id]
}

// list returns the records in creation order, after evicting expired finished ones.
func (t *procTable) list() []*managedProc {
	t.mu.Lock()
	t.evictLocked(time.Now())
	out := make([]*managedProc, 0, len(t.procs))
	for _, m := range t.procs {
		out = append(out, m)
	}
	t.mu.Unlock()
	sort.Slice(out, func(i, j int) bool {
		if !out[i].created.Equal(out[j].created) {
			return out[i].created.Before(out[j].created)
		}
		return out[i].id < out[j].id
	})
	return out
}

// evictLocked drops finished records older than procFinishedTTL and all but the newest procMaxFinished.
func (t *procTable) evictLocked(now time.Time) {
	var finished []*managedProc
	for id, m := range t.procs {
		m.mu.Lock()
		done, at := m.treeExited, m.finished
		m.mu.Unlock()
		if !done {
			continue
		}
		if now.Sub(at) > procFinishedTTL {
			delete(t.procs, id)
			continue
		}
		finished = append(finished, m)
	}
	if len(finished) > procMaxFinished {
		sort.Slice(finished, func(i, j int) bool { return finished[i].finished.After(finished[j].finished) })
		for _, m := range finished[procMaxFinished:] {
			delete(t.procs, m.id)
		}
	}
}

// newProcID returns "proc_" and a ULID: 48 bits of milliseconds and 80 random bits in Crockford base32, so
// ids sort by creation time.
func newProcID() string {
	const alphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
	var b [16]byte
	binary.BigEndian.PutUint64(b[:8], uint64(time.Now().UnixMilli())<<16)
	_, _ = rand.Read(b[6:])
	hi, lo := binary.BigEndian.Uint64(b[:8]), binary.BigEndian.Uint64(b[8:])
	out := make([]byte, 26)
	for i := 25; i >= 0; i-- {
		out[i] = alphabet[lo&31]
		lo = lo>>5 | hi<<59
		hi >>= 5
	}
	return "proc_" + string(out)
}
