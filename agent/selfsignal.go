package agent

import (
	"net"
	"net/http"
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

// drop forgets every queued event: they were asked of the VM that was snapshotted, and a restore
// (resume, fork, template) must not act on them again (a resume was undone by a stale pause).
func (q *SelfSignals) drop() int {
	q.mu.Lock()
	n := len(q.queue)
	q.queue = nil
	q.mu.Unlock()
	return n
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

// ServeSelfSignals answers POST /self/pause and /self/delete with 202 and then queues the signal, until l
// is closed. Every connection is closed after its answer: a caller may be frozen or gone right after it.
func (a *Agent) ServeSelfSignals(l net.Listener) {
	server := &http.Server{Handler: http.HandlerFunc(a.serveSelfRequest), ReadHeaderTimeout: selfRequestTimeout,
		ErrorLog: a.Log}
	_ = server.Serve(l)
}

func (a *Agent) serveSelfRequest(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Connection", "close")
	action := strings.TrimPrefix(r.URL.Path, "/self/")
	if r.URL.Path != "/self/"+action || action != "pause" && action != "delete" {
		w.WriteHeader(http.StatusNotFound)
		return
	}
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		w.WriteHeader(http.StatusMethodNotAllowed)
		return
	}
	// The answer goes out before the signal is queued: the caller learns it was accepted even when the
	// pause or delete then takes its process away at once.
	w.WriteHeader(http.StatusAccepted)
	w.(http.Flusher).Flush()
	ev := selfEvent{Type: "self", Action: action, Reason: truncateRunes(r.URL.Query().Get("reason"), maxReasonRunes)}
	a.Self.push(ev)
	a.Log.Printf("self-signal %s (%s)", ev.Action, quote(ev.Reason))
}

func truncateRunes(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	runes := []rune(s)
	return string(runes[:n])
}
