package agent

import (
	"bufio"
	"bytes"
	"strings"
	"testing"
	"time"
)

func TestHelloAnswersWithAgentInfo(t *testing.T) {
	c := connect(t, newTestAgent(nil))
	for _, k := range []string{"agent", "kernel", "hostname"} {
		if s, _ := c.hello[k].(string); s == "" {
			t.Errorf("HELLO answer without %s: %v", k, c.hello)
		}
	}
	if c.hello["magic"] != Magic || c.hello["version"] != float64(1) || c.hello["boot_ms"].(float64) <= 0 {
		t.Errorf("HELLO answer %v", c.hello)
	}
}

func TestPingAndUnknownOps(t *testing.T) {
	c := connect(t, newTestAgent(nil))
	ping := c.open(map[string]any{"op": "ping"})
	if ev := ping.event("pong"); ev["uptime_ms"].(float64) <= 0 {
		t.Errorf("pong %v", ev)
	}
	ping.waitClosed()
	c.open(map[string]any{"op": "fly"}).expectError("unknown_op")
	c.open([]int{1}).expectError("bad_request")
	c.open(map[string]any{"op": "exec", "argv": []string{}}).expectError("bad_request")
}

func TestStreamWithExhaustedWindowDoesNotBlockOthers(t *testing.T) {
	c := connect(t, newTestAgent(nil))
	flood := c.openWith(map[string]any{"op": "exec", "argv": []string{"cat", "/dev/zero"}}, true)
	flood.event("started")
	flood.waitFor("a full window", func() bool { return flood.out[ChanOut].Len() >= InitialWindow })

	res := c.run(argv("echo", "still responsive"))
	if res.stdout != "still responsive\n" {
		t.Fatalf("second stream: %+v", res)
	}
	time.Sleep(50 * time.Millisecond) // anything beyond the window would have arrived by now
	if n := len(flood.output(ChanOut)); n != InitialWindow {
		t.Fatalf("flooding stream got %d bytes with a window of %d", n, InitialWindow)
	}
	flood.c.write(windowFrame(flood.id, 1000)) // more credit, exactly that much more data
	flood.waitFor("credited data", func() bool { return flood.out[ChanOut].Len() >= InitialWindow+1000 })
	time.Sleep(50 * time.Millisecond)
	if n := len(flood.output(ChanOut)); n != InitialWindow+1000 {
		t.Fatalf("after 1000 bytes of credit: %d bytes", n)
	}
	flood.sendEvent(map[string]any{"type": "kill"})
	flood.mu.Lock()
	flood.holdCredit = false // the exit comes after the rest of the output, which needs credit
	flood.mu.Unlock()
	flood.c.write(windowFrame(flood.id, 1<<20))
	if ex := flood.event("exit"); ex["signal"] != "KILL" || ex["code"] != float64(137) {
		t.Fatalf("killed flood: %v", ex)
	}
	flood.waitClosed()
}

func TestDisconnectKillsTheConnectionsProcesses(t *testing.T) {
	a := newTestAgent(nil)
	c := connect(t, a)
	ts := c.open(map[string]any{"op": "exec", "argv": []string{"sleep", "60"}})
	pid := int(ts.event("started")["pid"].(float64))
	c.conn.Close()
	<-c.ended
	waitDead(t, pid)
}

func TestNewHelloRestartsTheSession(t *testing.T) {
	c := connect(t, newTestAgent(nil))
	ts := c.open(map[string]any{"op": "exec", "argv": []string{"sleep", "60"}})
	pid := int(ts.event("started")["pid"].(float64))
	c.write(Frame{Type: FrameHello, Payload: []byte(`{"magic":"createos-agent","version":1}`)})
	waitDead(t, pid)
	// Stream ids start over in the new session.
	c.mu.Lock()
	c.nextID = 0
	c.streams = map[uint32]*testStream{}
	c.mu.Unlock()
	if res := c.run(argv("echo", "again")); res.stdout != "again\n" {
		t.Fatalf("after the new HELLO: %+v", res)
	}
}

func TestAgentSkipsGarbageBeforeHello(t *testing.T) {
	var in bytes.Buffer
	in.WriteString("garbage\x00\x00\x00\x00\x01")
	in.Write(Frame{Type: FrameHello, Payload: []byte(`{"magic":"nope"}`)}.Encode())
	in.Write(Frame{Type: FrameHello, Payload: []byte(`{"magic":"createos-agent","version":1}`)}.Encode())
	f, err := awaitHello(bufio.NewReader(&in))
	if err != nil || !strings.Contains(string(f.Payload), `"createos-agent"`) {
		t.Fatalf("awaitHello: %v %v", f, err)
	}
}

func TestProtocolErrorsEndTheConnection(t *testing.T) {
	c := connect(t, newTestAgent(nil))
	ts := c.open(map[string]any{"op": "exec", "argv": []string{"sleep", "60"}, "stdin": true})
	ts.event("started")
	// The window plus the 64 KiB that fit into the pipe of a process that does not read is 320 KiB.
	for i := 0; i < 8; i++ {
		c.write(Frame{Stream: ts.id, Type: FrameData, Payload: make([]byte, MaxPayload)})
	}
	select {
	case <-c.ended:
	case <-time.After(testTimeout):
		t.Fatal("agent accepted DATA beyond the window")
	}
}
