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

func TestNetworkScopedDialReachesOnlyNonLoopbackListeners(t *testing.T) {
	public, err := net.Listen("tcp", "0.0.0.0:0")
	if err != nil {
		t.Fatal(err)
	}
	defer public.Close()
	go func() {
		for {
			conn, err := public.Accept()
			if err != nil {
				return
			}
			conn.Write([]byte("public"))
			conn.Close()
		}
	}()
	private, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer private.Close()
	c := connect(t, newTestAgent(nil))
	ts := c.open(map[string]any{"op": "dial", "port": public.Addr().(*net.TCPAddr).Port, "scope": "network"})
	ts.event("ok")
	ts.sendEOF()
	ts.waitClosed()
	if ts.output(ChanOut) != "public" {
		t.Fatalf("the wildcard listener answered %q", ts.output(ChanOut))
	}
	privatePort := private.Addr().(*net.TCPAddr).Port
	c.open(map[string]any{"op": "dial", "port": privatePort, "scope": "network"}).expectError("ECONNREFUSED")
	// The same port without a scope (authenticated tunnels) still reaches loopback.
	c.open(map[string]any{"op": "dial", "port": privatePort}).event("ok")
	c.open(map[string]any{"op": "dial", "port": privatePort, "scope": "all"}).expectError("bad_request")
}

func TestTheSelfSignalPortIsNeverDialled(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:1029")
	if err != nil {
		t.Skipf("port 1029 is taken on this machine: %v", err)
	}
	defer l.Close()
	c := connect(t, newTestAgent(nil))
	c.open(map[string]any{"op": "dial", "port": 1029}).expectError("ECONNREFUSED")
	c.open(map[string]any{"op": "dial", "port": 1029, "host": "127.0.0.1"}).expectError("ECONNREFUSED")
	c.open(map[string]any{"op": "dial", "port": 1029, "scope": "network"}).expectError("ECONNREFUSED")
}

func TestParseProcNetAddresses(t *testing.T) {
	ip, port, ok := parseProcAddr("0100007F:0405")
	if !ok || ip.String() != "127.0.0.1" || port != 1029 {
		t.Fatalf("got %v %d %v", ip, port, ok)
	}
	ip, port, ok = parseProcAddr("00000000000000000000000001000000:0BB8")
	if !ok || ip.String() != "::1" || port != 3000 {
		t.Fatalf("got %v %d %v", ip, port, ok)
	}
	if _, _, ok := parseProcAddr("zz:01"); ok {
		t.Fatal("bad hex accepted")
	}
}
