package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"createos.sh/sandbox/agent"
)

var (
	buildOnce sync.Once
	binary    string
	buildErr  error
)

// buildAgent builds the real binary once, as the Java conformance test runs it.
func buildAgent(t *testing.T) string {
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "createos-agent-test")
		if err != nil {
			buildErr = err
			return
		}
		binary = filepath.Join(dir, "createos-agent")
		cmd := exec.Command("go", "build", "-o", binary, ".")
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binary
}

func TestMain(m *testing.M) {
	code := m.Run()
	if binary != "" {
		os.RemoveAll(filepath.Dir(binary))
	}
	os.Exit(code)
}

// execEcho says HELLO and runs `echo hi` over a raw byte stream, returning stdout and the exit event.
func execEcho(t *testing.T, r io.Reader, w io.Writer) (string, map[string]any) {
	t.Helper()
	write := func(f agent.Frame) {
		if _, err := w.Write(f.Encode()); err != nil {
			t.Fatal(err)
		}
	}
	write(agent.Frame{Type: agent.FrameHello, Payload: []byte(`{"magic":"createos-agent","version":1}`)})
	write(agent.Frame{Stream: 1, Type: agent.FrameOpen, Payload: []byte(`{"op":"exec","argv":["echo","hi"]}`)})
	br := bufio.NewReader(r)
	var stdout strings.Builder
	var exit map[string]any
	for {
		f, err := agent.ReadFrame(br)
		if err != nil {
			t.Fatalf("reading frames: %v", err)
		}
		switch f.Type {
		case agent.FrameHello:
			if !strings.Contains(string(f.Payload), `"version":1`) {
				t.Fatalf("HELLO %s", f.Payload)
			}
		case agent.FrameData:
			stdout.Write(f.Payload)
		case agent.FrameEvent:
			ev := map[string]any{}
			json.Unmarshal(f.Payload, &ev)
			if ev["type"] == "exit" {
				exit = ev
			}
		case agent.FrameClose:
			return stdout.String(), exit
		}
	}
}

func TestServeStdio(t *testing.T) {
	cmd := exec.Command(buildAgent(t), "serve", "--stdio")
	stdin, _ := cmd.StdinPipe()
	stdout, _ := cmd.StdoutPipe()
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	out, exit := execEcho(t, stdout, stdin)
	if out != "hi\n" || exit["code"] != float64(0) {
		t.Fatalf("stdout %q, exit %v", out, exit)
	}
	stdin.Close() // end of the connection ends the agent
	if err := cmd.Wait(); err != nil {
		t.Fatalf("agent exit: %v", err)
	}
}

func TestServeListenUnix(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "agent.sock")
	cmd := exec.Command(buildAgent(t), "serve", "--listen", "unix:"+sock)
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	var conn net.Conn
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		var err error
		if conn, err = net.Dial("unix", sock); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("agent does not listen: %v", err)
		}
	}
	for i := 0; i < 2; i++ { // one connection after the other
		out, exit := execEcho(t, conn, conn)
		conn.Close()
		if out != "hi\n" || exit["code"] != float64(0) {
			t.Fatalf("stdout %q, exit %v", out, exit)
		}
		conn, _ = net.Dial("unix", sock)
	}
	conn.Close()
	cmd.Process.Signal(syscall.SIGTERM)
	if err := cmd.Wait(); err != nil {
		t.Fatalf("agent exit: %v", err)
	}
	if _, err := os.Stat(sock); !os.IsNotExist(err) {
		t.Fatalf("socket left behind: %v", err)
	}
}

func TestServeNeedsOneTransport(t *testing.T) {
	out, err := exec.Command(buildAgent(t), "serve").CombinedOutput()
	if err == nil || !strings.Contains(string(out), "--listen unix:PATH or --stdio") {
		t.Fatalf("%v: %s", err, out)
	}
}
