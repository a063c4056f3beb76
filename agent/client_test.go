package agent

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"log"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// This file is a minimal host side of the protocol, driving the real agent over a socketpair.

const testTimeout = 20 * time.Second

var testReaper *Reaper

func TestMain(m *testing.M) {
	if len(os.Args) > 2 && os.Args[1] == ShimArg {
		RunShim(os.Args[2]) // the test binary is the agent's /proc/self/exe
	}
	testReaper = NewReaper(false)
	code := m.Run()
	if testCgroups != nil {
		os.RemoveAll(testCgroups.root) // only empty cgroup directories remain, rmdir-able
	}
	os.Exit(code)
}

func newTestAgent(cgroups *Cgroups) *Agent {
	return NewAgent("test", testReaper, cgroups, log.New(os.Stderr, "agent: ", 0))
}

var (
	testCgroupsOnce sync.Once
	testCgroups     *Cgroups
	testCgroupsErr  error
)

// cgroupsOrSkip returns exec cgroups below a writable cgroup v2 mount of the test machine.
func cgroupsOrSkip(t *testing.T) *Cgroups {
	testCgroupsOnce.Do(func() {
		mnt := ""
		b, _ := os.ReadFile("/proc/self/mountinfo")
		for _, line := range strings.Split(string(b), "\n") {
			if _, after, ok := strings.Cut(line, " - cgroup2 "); ok && after != "" {
				mnt = strings.Fields(line)[4]
				break
			}
		}
		if mnt == "" {
			testCgroupsErr = errors.New("no cgroup v2 mount")
			return
		}
		root := filepath.Join(mnt, fmt.Sprintf("createos-agent-test-%d", os.Getpid()))
		testCgroups, testCgroupsErr = OpenCgroups(root, log.New(os.Stderr, "agent: ", 0))
	})
	if testCgroupsErr != nil {
		t.Skipf("exec cgroups unavailable here: %v", testCgroupsErr)
	}
	return testCgroups
}

type testClient struct {
	t       *testing.T
	conn    net.Conn
	wmu     sync.Mutex
	hello   map[string]any
	ended   chan struct{} // the agent's side of the connection ended
	mu      sync.Mutex
	streams map[uint32]*testStream
	nextID  uint32
}

type testStream struct {
	c          *testClient
	id         uint32
	events     chan map[string]any
	closed     chan struct{}
	holdCredit bool // keep the agent's window exhausted: never return credit for DATA

	mu      sync.Mutex
	changed chan struct{}
	out     [3]bytes.Buffer
	eof     [3]bool
	credit  int64 // what the client may still send
}

// connect serves a fresh socketpair with the agent and says HELLO.
func connect(t *testing.T, a *Agent) *testClient {
	t.Helper()
	fds, err := syscall.Socketpair(syscall.AF_UNIX, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	agentSide, clientSide := fileConn(t, fds[0]), fileConn(t, fds[1])
	c := &testClient{t: t, conn: clientSide, ended: make(chan struct{}), streams: map[uint32]*testStream{}}
	go func() {
		defer close(c.ended)
		if err := a.ServeConn(agentSide); err != nil {
			t.Logf("ServeConn: %v", err)
		}
	}()
	t.Cleanup(func() {
		c.conn.Close()
		<-c.ended
	})
	c.sayHello()
	return c
}

func fileConn(t *testing.T, fd int) net.Conn {
	f := os.NewFile(uintptr(fd), "socketpair")
	defer f.Close()
	conn, err := net.FileConn(f)
	if err != nil {
		t.Fatal(err)
	}
	return conn
}

func (c *testClient) sayHello() {
	c.write(Frame{Type: FrameHello, Payload: []byte(`{"magic":"createos-agent","version":1}`)})
	br := bufio.NewReader(c.conn)
	c.conn.SetReadDeadline(time.Now().Add(testTimeout))
	for { // frames of an earlier session may precede the answer
		f, err := ReadFrame(br)
		if err != nil {
			c.t.Fatalf("waiting for HELLO: %v", err)
		}
		if f.Type == FrameHello {
			c.hello = map[string]any{}
			if err := json.Unmarshal(f.Payload, &c.hello); err != nil {
				c.t.Fatal(err)
			}
			break
		}
	}
	c.conn.SetReadDeadline(time.Time{})
	go c.readLoop(br)
}

func (c *testClient) write(f Frame) {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if _, err := c.conn.Write(f.Encode()); err != nil {
		c.t.Logf("client write: %v", err)
	}
}

func (c *testClient) readLoop(br *bufio.Reader) {
	for {
		f, err := ReadFrame(br)
		if err != nil {
			return
		}
		c.mu.Lock()
		ts := c.streams[f.Stream]
		c.mu.Unlock()
		if ts == nil {
			if f.Type != FrameHello {
				c.t.Errorf("frame of type %d for unknown stream %d", f.Type, f.Stream)
			}
			continue
		}
		ts.receive(f)
	}
}

func (ts *testStream) receive(f Frame) {
	ts.mu.Lock()
	defer func() {
		close(ts.changed)
		ts.changed = make(chan struct{})
		ts.mu.Unlock()
	}()
	switch f.Type {
	case FrameEvent:
		ev := map[string]any{}
		if err := json.Unmarshal(f.Payload, &ev); err != nil {
			ts.c.t.Errorf("bad event %q", f.Payload)
		}
		ts.events <- ev
	case FrameData:
		if len(f.Payload) > MaxData {
			ts.c.t.Errorf("DATA frame of %d bytes exceeds %d", len(f.Payload), MaxData)
		}
		ts.out[f.Channel].Write(f.Payload)
		if !ts.holdCredit {
			ts.c.write(windowFrame(ts.id, len(f.Payload)))
		}
	case FrameEOF:
		ts.eof[f.Channel] = true
	case FrameWindow:
		ts.credit += int64(binary.BigEndian.Uint32(f.Payload))
	case FrameClose:
		close(ts.closed)
	}
}

func windowFrame(id uint32, n int) Frame {
	b := make([]byte, 4)
	binary.BigEndian.PutUint32(b, uint32(n))
	return Frame{Stream: id, Type: FrameWindow, Payload: b}
}

func (c *testClient) open(req any) *testStream {
	return c.openWith(req, false)
}

func (c *testClient) openWith(req any, holdCredit bool) *testStream {
	b, err := json.Marshal(req)
	if err != nil {
		c.t.Fatal(err)
	}
	c.mu.Lock()
	c.nextID++
	ts := &testStream{c: c, id: c.nextID, events: make(chan map[string]any, 1000), closed: make(chan struct{}),
		changed: make(chan struct{}), credit: InitialWindow, holdCredit: holdCredit}
	c.streams[ts.id] = ts
	c.mu.Unlock()
	c.write(Frame{Stream: ts.id, Type: FrameOpen, Payload: b})
	return ts
}

// event returns the next event; "error" events fail the test unless the type is expected.
func (ts *testStream) event(wantType string) map[string]any {
	ts.c.t.Helper()
	select {
	case ev := <-ts.events:
		if ev["type"] != wantType {
			ts.c.t.Fatalf("stream %d: want event %q, got %v", ts.id, wantType, ev)
		}
		return ev
	case <-time.After(testTimeout):
		ts.c.t.Fatalf("stream %d: no %q event; output so far: %q", ts.id, wantType, ts.output(ChanOut))
		return nil
	}
}

func (ts *testStream) expectError(code string) map[string]any {
	ts.c.t.Helper()
	ev := ts.event("error")
	if ev["code"] != code {
		ts.c.t.Fatalf("want error %s, got %v", code, ev)
	}
	ts.waitClosed()
	return ev
}

func (ts *testStream) waitClosed() {
	ts.c.t.Helper()
	select {
	case <-ts.closed:
	case <-time.After(testTimeout):
		ts.c.t.Fatalf("stream %d not closed", ts.id)
	}
}

// waitFor waits until cond (called with the stream locked) holds.
func (ts *testStream) waitFor(what string, cond func() bool) {
	ts.c.t.Helper()
	deadline := time.After(testTimeout)
	for {
		ts.mu.Lock()
		ok, ch := cond(), ts.changed
		ts.mu.Unlock()
		if ok {
			return
		}
		select {
		case <-ch:
		case <-deadline:
			ts.c.t.Fatalf("stream %d: timed out waiting for %s", ts.id, what)
		}
	}
}

func (ts *testStream) output(ch byte) string {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	return ts.out[ch].String()
}

// send writes input, respecting the agent's window.
func (ts *testStream) send(p []byte) {
	for len(p) > 0 {
		var n int
		ts.waitFor("credit", func() bool { return ts.credit > 0 })
		ts.mu.Lock()
		n = len(p)
		if n > MaxData {
			n = MaxData
		}
		if int64(n) > ts.credit {
			n = int(ts.credit)
		}
		ts.credit -= int64(n)
		ts.mu.Unlock()
		ts.c.write(Frame{Stream: ts.id, Type: FrameData, Channel: ChanIn, Payload: p[:n]})
		p = p[n:]
	}
}

func (ts *testStream) sendEOF()   { ts.c.write(Frame{Stream: ts.id, Type: FrameEOF, Channel: ChanIn}) }
func (ts *testStream) sendClose() { ts.c.write(Frame{Stream: ts.id, Type: FrameClose}) }
func (ts *testStream) sendEvent(v any) {
	b, _ := json.Marshal(v)
	ts.c.write(Frame{Stream: ts.id, Type: FrameEvent, Payload: b})
}

type execResult struct {
	stdout, stderr string
	code           int
	signal         any
}

// run execs a request without input and collects its result.
func (c *testClient) run(req map[string]any) execResult {
	c.t.Helper()
	req["op"] = "exec"
	ts := c.open(req)
	ts.event("started")
	return ts.finish()
}

func (ts *testStream) finish() execResult {
	ts.c.t.Helper()
	exit := ts.event("exit")
	ts.mu.Lock()
	eofs := ts.eof
	ts.mu.Unlock()
	if !eofs[ChanOut] || !eofs[ChanErr] {
		ts.c.t.Errorf("exit before the EOFs of stdout and stderr: %v", eofs)
	}
	ts.waitClosed()
	return execResult{stdout: ts.output(ChanOut), stderr: ts.output(ChanErr), code: int(exit["code"].(float64)),
		signal: exit["signal"]}
}

func argv(args ...string) map[string]any { return map[string]any{"argv": args} }

// processAlive reports whether pid runs (and is not a zombie).
func processAlive(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	s := string(b)
	state := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])[0]
	return state != "Z" && state != "X"
}

func waitDead(t *testing.T, pid int) {
	t.Helper()
	for deadline := time.Now().Add(testTimeout); processAlive(pid); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("process %d still alive", pid)
		}
	}
}
