package agent

import (
	"bufio"
	"fmt"
	"net"
	"net/url"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
)

// SelfSignalAddr is where processes in the guest ask to be paused or deleted: loopback only, so nothing
// outside the guest can.
const SelfSignalAddr = "127.0.0.1:1029"

const (
	maxReasonRunes     = 128
	maxRequestHead     = 8192
	selfRequestTimeout = 5 * time.Second
)

// selfEvent is what a watch stream sends for each self-signal.
type selfEvent struct {
	Type   string `json:"type"`
	Action string `json:"action"`
	Reason string `json:"reason"`
}

// SelfSignals queues self-signals until a watch stream takes them, so that none is lost while the host
// is not connected (e.g. its control plane restarts).
type SelfSignals struct {
	mu      sync.Mutex
	queue   []selfEvent
	changed chan struct{} // closed and replaced on every push
}

func NewSelfSignals() *SelfSignals { return &SelfSignals{changed: make(chan struct{})} }

func (q *SelfSignals) push(ev selfEvent) {
	q.mu.Lock()
	q.queue = append(q.queue, ev)
	close(q.changed)
	q.changed = make(chan struct{})
	q.mu.Unlock()
}

// pushFront gives back an event that could not be delivered.
func (q *SelfSignals) pushFront(ev selfEvent) {
	q.mu.Lock()
	q.queue = append([]selfEvent{ev}, q.queue...)
	close(q.changed)
	q.changed = make(chan struct{})
	q.mu.Unlock()
}

// take waits for the oldest event; false once stop is closed.
func (q *SelfSignals) take(stop <-chan struct{}) (selfEvent, bool) {
	for {
		q.mu.Lock()
		if len(q.queue) > 0 {
			ev := q.queue[0]
			q.queue = q.queue[1:]
			q.mu.Unlock()
			return ev, true
		}
		changed := q.changed
		q.mu.Unlock()
		select {
		case <-changed:
		case <-stop:
			return selfEvent{}, false
		}
	}
}

// watch is the `watch` op: ok, then one `self` event per self-signal until the host closes the stream.
func (a *Agent) watch(st *stream, _ []byte) {
	if st.event(map[string]any{"type": "ok"}) != nil {
		return
	}
	for {
		ev, ok := a.Self.take(st.stopped)
		if !ok {
			return
		}
		if st.isStopped() || st.event(ev) != nil {
			a.Self.pushFront(ev) // the stream ended under it: the next watch gets it
			return
		}
	}
}

// ListenSelfSignals serves self-signals on addr in the background; see ServeSelfSignals.
func (a *Agent) ListenSelfSignals(addr string) error {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	a.Log.Printf("self-signals on http://%s/self/{pause,delete}", l.Addr())
	go a.ServeSelfSignals(l)
	return nil
}

// ServeSelfSignals answers POST /self/pause and /self/delete with 202 and queues the signal, until l is
// closed. It is a minimal HTTP/1.x responder: one request per connection, no body is read.
func (a *Agent) ServeSelfSignals(l net.Listener) {
	for {
		conn, err := l.Accept()
		if err != nil {
			return
		}
		go a.serveSelfRequest(conn)
	}
}

func (a *Agent) serveSelfRequest(conn net.Conn) {
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(selfRequestTimeout))
	status, ev := parseSelfRequest(bufio.NewReaderSize(conn, maxRequestHead))
	if ev != nil {
		a.Self.push(*ev)
		a.Log.Printf("self-signal %s (%s)", ev.Action, quote(ev.Reason))
	}
	fmt.Fprintf(conn, "HTTP/1.1 %s\r\nContent-Length: 0\r\nConnection: close\r\n\r\n", status)
}

// parseSelfRequest reads a request head and returns the status line text and, for a valid self-signal,
// its event.
func parseSelfRequest(r *bufio.Reader) (string, *selfEvent) {
	line, err := readHeadLine(r)
	if err != nil {
		return "400 Bad Request", nil
	}
	parts := strings.Split(line, " ")
	if len(parts) != 3 || !strings.HasPrefix(parts[2], "HTTP/1.") {
		return "400 Bad Request", nil
	}
	for { // the headers are not needed, but a client expects them to be consumed
		h, err := readHeadLine(r)
		if err != nil {
			return "400 Bad Request", nil
		}
		if h == "" {
			break
		}
	}
	target, err := url.ParseRequestURI(parts[1])
	if err != nil {
		return "400 Bad Request", nil
	}
	action := strings.TrimPrefix(target.Path, "/self/")
	if action != "pause" && action != "delete" || !strings.HasPrefix(target.Path, "/self/") {
		return "404 Not Found", nil
	}
	if parts[0] != "POST" {
		return "405 Method Not Allowed", nil
	}
	return "202 Accepted", &selfEvent{Type: "self", Action: action, Reason: truncateRunes(target.Query().Get("reason"), maxReasonRunes)}
}

// readHeadLine reads one CRLF- (or LF-) terminated line of at most maxRequestHead bytes.
func readHeadLine(r *bufio.Reader) (string, error) {
	b, isPrefix, err := r.ReadLine()
	if err != nil {
		return "", err
	}
	if isPrefix {
		return "", fmt.Errorf("request line too long")
	}
	return string(b), nil
}

func truncateRunes(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	runes := []rune(s)
	return string(runes[:n])
}
