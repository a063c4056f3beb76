package agent

import (
	"fmt"
	"os"
	"strings"
	"testing"
	"time"
)

func TestExecWithPty(t *testing.T) {
	c := connect(t, newTestAgent(nil))
	res := c.run(map[string]any{"argv": []string{"sh", "-c", "tty; stty size; echo $TERM; echo err >&2"},
		"pty": map[string]int{"rows": 30, "cols": 100}})
	if !strings.HasPrefix(res.stdout, "/dev/pts/") || !strings.Contains(res.stdout, "30 100\r\nxterm-256color\r\nerr\r\n") ||
		res.stderr != "" || res.code != 0 {
		t.Fatalf("%+v", res)
	}
}

func TestPtyResizeInputEOFAndInterrupt(t *testing.T) {
	c := connect(t, newTestAgent(nil))
	ts := c.open(map[string]any{"op": "exec", "stdin": true, "pty": map[string]int{"rows": 24, "cols": 80},
		"argv": []string{"sh", "-c", "read line; stty size; echo got $line; cat; echo cat ended; exec sleep 60"}})
	pid := int(ts.event("started")["pid"].(float64))
	ts.sendEvent(map[string]any{"type": "resize", "rows": 40, "cols": 120})
	ts.send([]byte("hello\n"))
	ts.waitFor("the new size", func() bool { return strings.Contains(ts.out[ChanOut].String(), "40 120\r\ngot hello") })
	ts.sendEOF() // ^D ends cat
	ts.waitFor("cat's end", func() bool { return strings.Contains(ts.out[ChanOut].String(), "cat ended") })
	for deadline := time.Now().Add(testTimeout); ; time.Sleep(5 * time.Millisecond) { // dash races a signal between commands
		if comm, _ := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid)); string(comm) == "sleep\n" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the shell did not exec sleep")
		}
	}
	ts.sendEvent(map[string]any{"type": "signal", "signal": "INT"})
	if res := ts.finish(); res.signal != "INT" || res.code != 130 {
		t.Fatalf("%+v", res)
	}
}
