package agent

import (
	"io"
	"net"
	"testing"
)

func TestDialIsBidirectionalWithHalfClose(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	got := make(chan string, 1)
	go func() { // reads everything, then answers and closes
		conn, err := l.Accept()
		if err != nil {
			return
		}
		b, _ := io.ReadAll(conn)
		got <- string(b)
		conn.Write([]byte("pong:" + string(b)))
		conn.Close()
	}()
	c := connect(t, newTestAgent(nil))
	ts := c.open(map[string]any{"op": "dial", "port": l.Addr().(*net.TCPAddr).Port})
	ts.event("ok")
	ts.send([]byte("ping"))
	ts.sendEOF() // the server only answers after our half-close
	if s := <-got; s != "ping" {
		t.Fatalf("server got %q", s)
	}
	ts.waitClosed()
	if ts.output(ChanOut) != "pong:ping" || !ts.eof[ChanOut] {
		t.Fatalf("client got %q (eof %v)", ts.output(ChanOut), ts.eof[ChanOut])
	}
}

func TestDialRefusedAndBadPort(t *testing.T) {
	l, _ := net.Listen("tcp", "127.0.0.1:0")
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	c := connect(t, newTestAgent(nil))
	c.open(map[string]any{"op": "dial", "port": port}).expectError("ECONNREFUSED")
	c.open(map[string]any{"op": "dial", "port": 0}).expectError("bad_request")
}
