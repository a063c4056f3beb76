package agent

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/url"
	"strings"
	"testing"
)

// selfServer serves the agent's self-signal endpoint on a free loopback port and returns its address.
func selfServer(t *testing.T, a *Agent) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go a.ServeSelfSignals(l)
	return l.Addr().String()
}

// request sends one raw HTTP request and returns the whole response.
func request(t *testing.T, addr, method, target string) string {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "%s %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: test\r\n\r\n", method, target, addr)
	b, err := io.ReadAll(bufio.NewReader(conn))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func statusOf(response string) string {
	line, _, _ := strings.Cut(response, "\r\n")
	return line
}

func TestSelfSignalAnswers202AndReachesAWatch(t *testing.T) {
	a := newTestAgent(nil)
	addr := selfServer(t, a)
	c := connect(t, a)
	ts := c.open(map[string]any{"op": "watch"})
	ts.event("ok")

	response := request(t, addr, "POST", "/self/pause?reason="+url.QueryEscape("idle for a while"))
	if statusOf(response) != "HTTP/1.1 202 Accepted" || !strings.HasSuffix(response, "\r\n\r\n") {
		t.Fatalf("response %q", response)
	}
	ev := ts.event("self")
	if ev["action"] != "pause" || ev["reason"] != "idle for a while" {
		t.Fatalf("event %v", ev)
	}
	request(t, addr, "POST", "/self/delete")
	if ev := ts.event("self"); ev["action"] != "delete" || ev["reason"] != "" {
		t.Fatalf("event %v", ev)
	}
}

func TestSelfSignalsQueuedWithoutAWatchArriveInOrderWhenOneOpens(t *testing.T) {
	a := newTestAgent(nil)
	addr := selfServer(t, a)
	for i := 0; i < 3; i++ {
		if s := statusOf(request(t, addr, "POST", fmt.Sprintf("/self/pause?reason=%d", i))); s != "HTTP/1.1 202 Accepted" {
			t.Fatal(s)
		}
	}
	c := connect(t, a)
	first := c.open(map[string]any{"op": "watch"})
	first.event("ok")
	for _, want := range []string{"0", "1", "2"} {
		if ev := first.event("self"); ev["reason"] != want {
			t.Fatalf("want reason %s, got %v", want, ev)
		}
	}
	// The host stops watching: what arrives now waits for the next watch.
	first.sendClose()
	first.waitClosed()
	request(t, addr, "POST", "/self/delete?reason=later")
	second := c.open(map[string]any{"op": "watch"})
	second.event("ok")
	if ev := second.event("self"); ev["action"] != "delete" || ev["reason"] != "later" {
		t.Fatalf("event %v", ev)
	}
}

func TestSelfSignalReasonIsTruncatedTo128Characters(t *testing.T) {
	a := newTestAgent(nil)
	addr := selfServer(t, a)
	long := strings.Repeat("é", 200)
	request(t, addr, "POST", "/self/delete?reason="+url.QueryEscape(long))
	c := connect(t, a)
	ts := c.open(map[string]any{"op": "watch"})
	ts.event("ok")
	if ev := ts.event("self"); ev["reason"] != strings.Repeat("é", 128) {
		t.Fatalf("reason of %d characters", len([]rune(ev["reason"].(string))))
	}
}

func TestSelfSignalRejectsOtherMethodsAndPathsWithoutQueueing(t *testing.T) {
	a := newTestAgent(nil)
	addr := selfServer(t, a)
	for _, tc := range []struct{ method, target, status string }{
		{"GET", "/self/pause", "HTTP/1.1 405 Method Not Allowed"},
		{"POST", "/self/reboot", "HTTP/1.1 404 Not Found"},
		{"POST", "/pause", "HTTP/1.1 404 Not Found"},
		{"POST", "/self/pause/x", "HTTP/1.1 404 Not Found"},
	} {
		if s := statusOf(request(t, addr, tc.method, tc.target)); s != tc.status {
			t.Errorf("%s %s: %q, want %q", tc.method, tc.target, s, tc.status)
		}
	}
	conn, _ := net.Dial("tcp", addr)
	fmt.Fprint(conn, "garbage\r\n\r\n")
	b, _ := io.ReadAll(conn)
	conn.Close()
	if statusOf(string(b)) != "HTTP/1.1 400 Bad Request" {
		t.Errorf("garbage: %q", b)
	}
	request(t, addr, "POST", "/self/delete?reason=only")
	c := connect(t, a)
	ts := c.open(map[string]any{"op": "watch"})
	ts.event("ok")
	if ev := ts.event("self"); ev["reason"] != "only" {
		t.Fatalf("the rejected requests were queued: %v", ev)
	}
}

func TestConfigureInServeModeChangesNothing(t *testing.T) {
	c := connect(t, newTestAgent(nil))
	c.open(map[string]any{"op": "configure", "hostname": "not-this-host"}).expectError("EPERM")
	c.open(map[string]any{"op": "configure", "entropy": "AAECAw=="}).expectError("EPERM")
	ts := c.open(map[string]any{"op": "configure"})
	ts.event("ok")
	ts.waitClosed()
}

func TestDroppedSelfSignalsAreNotDeliveredLater(t *testing.T) {
	q := NewSelfSignals()
	q.push(selfEvent{Type: "self", Action: "pause", Reason: "before the snapshot"})
	q.push(selfEvent{Type: "self", Action: "delete"})
	if n := q.drop(); n != 2 {
		t.Fatalf("dropped %d", n)
	}
	q.push(selfEvent{Type: "self", Action: "pause", Reason: "after"})
	stop := make(chan struct{})
	ev, ok := q.take(stop)
	if !ok || ev.Reason != "after" {
		t.Fatalf("took %+v %v", ev, ok)
	}
}
