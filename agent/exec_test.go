package agent

import (
	"bytes"
	"crypto/rand"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestExecPipesExitCodeEnvAndCwd(t *testing.T) {
	c := connect(t, newTestAgent(nil))
	res := c.run(map[string]any{"argv": []string{"sh", "-c", `echo out; echo err >&2; echo "$GREETING $LANG $HOME"; pwd; exit 3`},
		"env": map[string]string{"GREETING": "hi"}, "cwd": "/tmp"})
	if res.stdout != "out\nhi C.UTF-8 /root\n/tmp\n" || res.stderr != "err\n" || res.code != 3 || res.signal != nil {
		t.Fatalf("%+v", res)
	}
}

func TestExecStreamsStdinBothWays(t *testing.T) {
	c := connect(t, newTestAgent(nil))
	input := make([]byte, 3<<20) // much more than a window in each direction
	rand.Read(input)
	ts := c.open(map[string]any{"op": "exec", "argv": []string{"cat"}, "stdin": true})
	ts.event("started")
	ts.send(input)
	ts.sendEOF()
	res := ts.finish()
	if res.code != 0 || !bytes.Equal([]byte(res.stdout), input) {
		t.Fatalf("cat returned %d bytes (want %d), exit %d", len(res.stdout), len(input), res.code)
	}
}

func TestExecWithoutStdinReadsDevNull(t *testing.T) {
	c := connect(t, newTestAgent(nil))
	if res := c.run(argv("sh", "-c", "cat; echo done")); res.stdout != "done\n" {
		t.Fatalf("%+v", res)
	}
}

func TestExecAsAnotherUser(t *testing.T) {
	if os.Getuid() != 0 {
		t.Skip("needs root to switch users")
	}
	c := connect(t, newTestAgent(nil))
	res := c.run(map[string]any{"argv": []string{"sh", "-c", "id -u; id -g; echo $USER $HOME; pwd"}, "user": "nobody"})
	if res.stdout != "65534\n65534\nnobody /nonexistent\n/\n" {
		t.Fatalf("%+v", res)
	}
}

func TestExecStartFailures(t *testing.T) {
	c := connect(t, newTestAgent(nil))
	for _, tc := range []struct {
		req  map[string]any
		want string
	}{
		{argv("nosuchcmd"), `exec: "nosuchcmd": executable file not found in $PATH`},
		{argv("/etc/passwd"), `exec: "/etc/passwd": permission denied`},
		{argv("/nonexistent/x"), `exec: "/nonexistent/x": stat /nonexistent/x: no such file or directory`},
		{map[string]any{"argv": []string{"true"}, "cwd": "/nonexistent"}, `chdir /nonexistent: no such file or directory`},
		{map[string]any{"argv": []string{"true"}, "user": "nosuchuser"}, `unknown user "nosuchuser"`},
	} {
		tc.req["op"] = "exec"
		ev := c.open(tc.req).expectError("start_failed")
		if ev["message"] != tc.want {
			t.Errorf("%v: message %q, want %q", tc.req["argv"], ev["message"], tc.want)
		}
	}
}

func TestExecSignalGoesToTheProcessGroup(t *testing.T) {
	c := connect(t, newTestAgent(nil))
	ts := c.open(map[string]any{"op": "exec", "argv": []string{"sh", "-c", "sleep 60; echo not reached"}})
	ts.event("started")
	ts.sendEvent(map[string]any{"type": "signal", "signal": "TERM"})
	res := ts.finish()
	if res.code != 128+15 || res.signal != "TERM" || res.stdout != "" {
		t.Fatalf("%+v", res)
	}
}

func TestExecKillReachesTheWholeTree(t *testing.T) {
	for _, tc := range []struct{ mode, script string }{
		// without cgroups a setsid child is found through its parent
		{"process-group", "setsid sleep 60 & echo $!; sleep 60"},
		// a cgroup also holds a daemon that left the session and lost its parent
		{"cgroup", "(setsid sh -c 'echo $$; exec sleep 60' &); sleep 60"},
	} {
		t.Run(tc.mode, func(t *testing.T) {
			var cg *Cgroups
			if tc.mode == "cgroup" {
				cg = cgroupsOrSkip(t)
			}
			c := connect(t, newTestAgent(cg))
			ts := c.open(map[string]any{"op": "exec", "argv": []string{"sh", "-c", tc.script}})
			ts.event("started")
			ts.waitFor("the escaped child's pid", func() bool { return strings.HasSuffix(ts.out[ChanOut].String(), "\n") })
			escaped, _ := strconv.Atoi(strings.TrimSpace(ts.output(ChanOut)))
			if !processAlive(escaped) {
				t.Fatalf("no process %d", escaped)
			}
			ts.sendEvent(map[string]any{"type": "kill"})
			if res := ts.finish(); res.signal != "KILL" {
				t.Fatalf("%+v", res)
			}
			waitDead(t, escaped)
		})
	}
}

func TestBackgroundProcessesDoNotHoldTheExecOpen(t *testing.T) {
	for _, mode := range []string{"process-group", "cgroup"} {
		t.Run(mode, func(t *testing.T) {
			var cg *Cgroups
			if mode == "cgroup" {
				cg = cgroupsOrSkip(t)
			}
			c := connect(t, newTestAgent(cg))
			for _, script := range []string{
				// a big output right before the exit must arrive whole, although the pipes stay open
				"head -c 300000 /dev/zero | tr '\\0' a; sleep 60 & echo; echo $!",
				"nohup setsid sleep 60 >/dev/null 2>&1 & echo; echo $!",
			} {
				start := time.Now()
				res := c.run(argv("sh", "-c", script))
				if took := time.Since(start); took > 5*time.Second || res.code != 0 {
					t.Fatalf("%q: exit %d after %v", script, res.code, took)
				}
				lines := strings.Split(strings.TrimSpace(res.stdout), "\n")
				pid, _ := strconv.Atoi(lines[len(lines)-1])
				if strings.HasPrefix(script, "head") && len(lines[0]) != 300000 {
					t.Errorf("lost output: %d bytes of 300000", len(lines[0]))
				}
				if !processAlive(pid) {
					t.Errorf("%q: background process %d did not survive its exec", script, pid)
				}
				syscall.Kill(pid, syscall.SIGKILL)
			}
		})
	}
}

func TestHostCloseAbortsAnExec(t *testing.T) {
	c := connect(t, newTestAgent(nil))
	ts := c.open(map[string]any{"op": "exec", "argv": []string{"sleep", "60"}})
	pid := int(ts.event("started")["pid"].(float64))
	ts.sendClose()
	ts.waitClosed()
	waitDead(t, pid)
	select {
	case ev := <-ts.events:
		t.Fatalf("event after the host's CLOSE: %v", ev)
	default:
	}
}

func TestChattyBackgroundProcessCannotHoldTheExecOpen(t *testing.T) {
	c := connect(t, newTestAgent(nil))
	start := time.Now()
	res := c.run(argv("sh", "-c", "yes & echo $! >&2; sleep 0.5"))
	pid, _ := strconv.Atoi(strings.TrimSpace(res.stderr))
	syscall.Kill(pid, syscall.SIGKILL)
	if took := time.Since(start); res.code != 0 || took > 5*time.Second {
		t.Fatalf("exit %d after %v", res.code, took)
	}
}

// An agent started with signals ignored (a background job of a non-interactive shell ignores SIGINT and
// SIGQUIT) must not hand that on: the exec would then survive the host's `signal INT`.
func TestExecStartsWithDefaultSignalsWhateverTheAgentIgnores(t *testing.T) {
	signal.Ignore(syscall.SIGINT, syscall.SIGQUIT)
	defer signal.Reset(syscall.SIGINT, syscall.SIGQUIT)
	c := connect(t, newTestAgent(nil))
	res := c.run(argv("grep", "-E", "^Sig(Ign|Blk):", "/proc/self/status"))
	if res.code != 0 || res.stdout != "SigBlk:\t0000000000000000\nSigIgn:\t0000000000000000\n" {
		t.Fatalf("%+v", res)
	}
}
