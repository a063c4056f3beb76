package agent

import (
	"fmt"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

func procStart(t *testing.T, c *testClient, req map[string]any) map[string]any {
	t.Helper()
	req["op"] = "proc_start"
	ts := c.open(req)
	ev := ts.event("ok")
	ts.waitClosed()
	return ev["proc"].(map[string]any)
}

func procCall(c *testClient, req map[string]any) map[string]any {
	c.t.Helper()
	ts := c.open(req)
	ev := ts.event("ok")
	ts.waitClosed()
	return ev
}

// follow reads a connect stream until its exit event (or, with stopAt > 0, the chunk of that seq) and returns
// the chunks' bytes, checking that sequence numbers grow by one from after+1.
func follow(t *testing.T, c *testClient, id string, after uint64, stopAt uint64) (out string, last uint64, exit map[string]any) {
	t.Helper()
	ts := c.open(map[string]any{"op": "proc_connect", "id": id, "after": after})
	ts.event("ok")
	want, size := after+1, 0
	for {
		ev := nextAny(ts)
		switch ev["type"] {
		case "heartbeat":
			continue
		case "exit":
			ts.waitClosed()
			return ts.output(ChanOut), want - 1, ev
		}
		seq := uint64(ev["seq"].(float64))
		if seq != want {
			t.Fatalf("chunk seq %d, want %d", seq, want)
		}
		want++
		size += int(ev["size"].(float64))
		if seq == stopAt {
			ts.waitFor("the chunk's bytes", func() bool { return ts.out[ChanOut].Len() == size })
			ts.sendClose()
			ts.waitClosed()
			return ts.output(ChanOut)[:size], seq, nil
		}
	}
}

// nextAny returns the next event, whatever its type.
func nextAny(ts *testStream) map[string]any {
	ts.c.t.Helper()
	select {
	case ev := <-ts.events:
		return ev
	case <-time.After(testTimeout):
		ts.c.t.Fatalf("stream %d: no event", ts.id)
		return nil
	}
}

func TestProcPipeInputOutputExitAndWait(t *testing.T) {
	c := connect(t, newTestAgent(nil))
	v := procStart(t, c, map[string]any{"argv": []string{"sh", "-c", "read l; echo got:$l; echo err >&2; exit 3"}, "cwd": "/tmp"})
	id := v["process_id"].(string)
	if !strings.HasPrefix(id, "proc_") || len(id) != 31 || v["kind"] != "process" || v["state"] != "running" || v["cwd"] != "/tmp" {
		t.Fatalf("view %v", v)
	}
	in := c.open(map[string]any{"op": "proc_input", "id": id})
	in.send([]byte("hello\n"))
	in.sendEOF()
	if ev := in.event("ok"); ev["input_seq"].(float64) != 1 {
		t.Fatalf("%v", ev)
	}
	w := procCall(c, map[string]any{"op": "proc_wait", "id": id, "scope": "tree", "timeout_ms": 10000})
	p := w["proc"].(map[string]any)
	if w["done"] != true || p["exit_code"].(float64) != 3 || p["tree_exited"] != true || p["state"] != "exited" {
		t.Fatalf("wait: %v", w)
	}
	out, _, exit := follow(t, c, id, 0, 0)
	if out != "got:hello\nerr\n" && out != "err\ngot:hello\n" || exit["code"].(float64) != 3 {
		t.Fatalf("output %q exit %v", out, exit)
	}
	again := c.open(map[string]any{"op": "proc_input", "id": id})
	again.sendEOF()
	again.expectError("exited")
}

func TestProcSurvivesTheConnectionAndReplaysExactlyOnce(t *testing.T) {
	a := newTestAgent(nil)
	c1 := connect(t, a)
	v := procStart(t, c1, map[string]any{"argv": []string{"sh", "-c", "i=1; while [ $i -le 200 ]; do echo line$i; i=$((i+1)); sleep 0.005; done"}})
	id := v["process_id"].(string)
	first, seq, _ := follow(t, c1, id, 0, 5)
	c1.conn.Close() // the host goes away: the process must not
	<-c1.ended
	c2 := connect(t, a)
	got := first
	for i := 0; i < 2; i++ {
		part, s, exit := follow(t, c2, id, seq, seq+7)
		got += part
		seq = s
		if exit != nil {
			break
		}
	}
	rest, _, exit := follow(t, c2, id, seq, 0)
	got += rest
	var want strings.Builder
	for i := 1; i <= 200; i++ {
		fmt.Fprintf(&want, "line%d\n", i)
	}
	if got != want.String() || exit["code"].(float64) != 0 {
		t.Fatalf("got %q (exit %v)", got, exit)
	}
}

func TestProcOutputOffsetExpires(t *testing.T) {
	c := connect(t, newTestAgent(nil))
	v := procStart(t, c, map[string]any{"argv": []string{"sh", "-c", "head -c 6000000 /dev/zero"}})
	id := v["process_id"].(string)
	procCall(c, map[string]any{"op": "proc_wait", "id": id, "scope": "tree", "timeout_ms": 10000})
	view := procCall(c, map[string]any{"op": "proc_get", "id": id})["proc"].(map[string]any)
	o := view["output"].(map[string]any)
	oldest, bytes := uint64(o["oldest_seq"].(float64)), int(o["bytes"].(float64))
	if oldest <= 2 || bytes > procRingBytes || bytes < procRingBytes-procChunk {
		t.Fatalf("output window %v", o)
	}
	ts := c.open(map[string]any{"op": "proc_connect", "id": id, "after": 1})
	if ev := ts.event("expired"); uint64(ev["oldest_seq"].(float64)) != oldest {
		t.Fatalf("%v", ev)
	}
	ts.waitClosed()
	// Reconnecting right before the oldest retained chunk is fine, and so is a full replay.
	out, _, _ := follow(t, c, id, oldest-1, 0)
	if len(out) != bytes {
		t.Fatalf("replay from %d: %d bytes, want %d", oldest-1, len(out), bytes)
	}
}

func TestProcKillEndsTheWholeTree(t *testing.T) {
	for _, withCgroups := range []bool{false, true} {
		t.Run(fmt.Sprintf("cgroups=%v", withCgroups), func(t *testing.T) {
			var cg *Cgroups
			if withCgroups {
				cg = cgroupsOrSkip(t)
			}
			c := connect(t, newTestAgent(cg))
			// The children ignore SIGTERM, so only the SIGKILL after the grace period ends them.
			v := procStart(t, c, map[string]any{"argv": []string{"sh", "-c", "trap '' TERM; sleep 100 & sleep 100 & echo ready; wait"}})
			id, pid := v["process_id"].(string), int(v["pid"].(float64))
			ts := c.open(map[string]any{"op": "proc_connect", "id": id, "after": 0})
			ts.event("ok")
			ts.event("chunk")
			members := sessionMembers(pid)
			if len(members) != 3 {
				t.Fatalf("session of %d: %v", pid, members)
			}
			start := time.Now()
			ev := procCall(c, map[string]any{"op": "proc_kill", "id": id, "grace_ms": 300})
			p := ev["proc"].(map[string]any)
			if p["tree_exited"] != true || p["state"] != "exited" || p["signal"] != "KILL" || time.Since(start) < 300*time.Millisecond {
				t.Fatalf("kill: %v after %v", p, time.Since(start))
			}
			for _, m := range members {
				if processAlive(m) {
					t.Fatalf("process %d of the tree survived", m)
				}
			}
			if ex := nextNonChunk(ts); ex["type"] != "exit" || ex["signal"] != "KILL" {
				t.Fatalf("%v", ex)
			}
			again := procCall(c, map[string]any{"op": "proc_kill", "id": id, "grace_ms": 0})
			if again["proc"].(map[string]any)["state"] != "exited" {
				t.Fatalf("%v", again)
			}
		})
	}
}

func TestProcPtyResizeSignalAndForeground(t *testing.T) {
	c := connect(t, newTestAgent(nil))
	v := procStart(t, c, map[string]any{"pty": map[string]any{"rows": 24, "cols": 80}, "shell": true, "env": map[string]string{"PS1": "$ "}})
	id := v["process_id"].(string)
	if argv := v["argv"].([]any); v["kind"] != "pty" || v["shell"] != true || len(argv) != 2 || argv[1] != "-l" {
		t.Fatalf("%v", v)
	}
	procCall(c, map[string]any{"op": "proc_resize", "id": id, "rows": 50, "cols": 132})
	ts := c.open(map[string]any{"op": "proc_connect", "id": id, "after": 0})
	ts.event("ok")
	input := func(s string) {
		in := c.open(map[string]any{"op": "proc_input", "id": id})
		in.send([]byte(s))
		in.sendEOF()
		in.event("ok")
	}
	input("stty size; sleep 30\r")
	ts.waitFor("stty size", func() bool { return strings.Contains(ts.out[ChanOut].String(), "50 132") })
	deadline := time.Now().Add(testTimeout)
	for {
		fg := procCall(c, map[string]any{"op": "proc_get", "id": id})["proc"].(map[string]any)["foreground"]
		if f, ok := fg.(map[string]any); ok && f["cmd"] == "sleep" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("foreground never became sleep: %v", fg)
		}
		time.Sleep(20 * time.Millisecond)
	}
	procCall(c, map[string]any{"op": "proc_signal", "id": id, "signal": "SIGINT"}) // interrupts sleep, not sh
	input("exit 7\r")
	w := procCall(c, map[string]any{"op": "proc_wait", "id": id, "scope": "leader", "timeout_ms": 10000})
	if w["proc"].(map[string]any)["exit_code"].(float64) != 7 {
		t.Fatalf("%v", w)
	}
	if ex := nextNonChunk(ts); ex["type"] != "exit" || ex["code"].(float64) != 7 {
		t.Fatalf("%v", ex)
	}
}

// nextNonChunk drops chunk and heartbeat events and returns the first other one.
func nextNonChunk(ts *testStream) map[string]any {
	for {
		if ev := nextAny(ts); ev["type"] != "chunk" && ev["type"] != "heartbeat" {
			return ev
		}
	}
}

func TestProcErrors(t *testing.T) {
	c := connect(t, newTestAgent(nil))
	c.open(map[string]any{"op": "proc_get", "id": "proc_nope"}).expectError("ENOENT")
	c.open(map[string]any{"op": "proc_start", "argv": []string{"nosuchcmd-xyz"}}).expectError("start_failed")
	c.open(map[string]any{"op": "proc_start", "argv": []string{"true"}, "cwd": "/nonexistent-dir"}).expectError("start_failed")
	pipe := procStart(t, c, map[string]any{"argv": []string{"cat"}})["process_id"].(string)
	pty := procStart(t, c, map[string]any{"argv": []string{"cat"}, "pty": map[string]any{}})["process_id"].(string)
	c.open(map[string]any{"op": "proc_resize", "id": pipe, "rows": 5, "cols": 5}).expectError("not_a_pty")
	c.open(map[string]any{"op": "proc_resize", "id": pty, "rows": 0, "cols": 5}).expectError("EINVAL")
	c.open(map[string]any{"op": "proc_close_stdin", "id": pty}).expectError("not_a_pipe")
	c.open(map[string]any{"op": "proc_signal", "id": pipe, "signal": "SIGNOPE"}).expectError("EINVAL")
	c.open(map[string]any{"op": "proc_wait", "id": pipe, "scope": "all"}).expectError("EINVAL")
	big := c.open(map[string]any{"op": "proc_input", "id": pipe})
	big.send(make([]byte, procMaxInput+1))
	big.sendEOF()
	big.expectError("EFBIG")
	if w := procCall(c, map[string]any{"op": "proc_wait", "id": pipe, "timeout_ms": 50}); w["done"] != false {
		t.Fatalf("%v", w)
	}
	procCall(c, map[string]any{"op": "proc_close_stdin", "id": pipe})
	procCall(c, map[string]any{"op": "proc_close_stdin", "id": pipe}) // idempotent
	late := c.open(map[string]any{"op": "proc_input", "id": pipe})
	late.sendEOF()
	late.expectError("stdin_closed")
	if w := procCall(c, map[string]any{"op": "proc_wait", "id": pipe, "timeout_ms": 10000}); w["done"] != true {
		t.Fatalf("cat did not end on EOF: %v", w)
	}
	procCall(c, map[string]any{"op": "proc_kill", "id": pty, "grace_ms": 0})
	c.open(map[string]any{"op": "proc_signal", "id": pty, "signal": "INT"}).expectError("exited")
	list := c.open(map[string]any{"op": "proc_list"})
	ev := list.event("ok")
	if ps := ev["processes"].([]any); len(ps) != 2 || ps[0].(map[string]any)["process_id"] != pipe {
		t.Fatalf("list %v", ev)
	}
}

// The cgroup of a finished process is removed.
func TestProcReleasesItsCgroup(t *testing.T) {
	cg := cgroupsOrSkip(t)
	c := connect(t, newTestAgent(cg))
	before, _ := filepath.Glob(filepath.Join(cg.root, "exec-*"))
	v := procStart(t, c, map[string]any{"argv": []string{"true"}})
	procCall(c, map[string]any{"op": "proc_wait", "id": v["process_id"], "scope": "tree", "timeout_ms": 10000})
	deadline := time.Now().Add(testTimeout)
	for {
		after, _ := filepath.Glob(filepath.Join(cg.root, "exec-*"))
		if len(after) <= len(before) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("cgroups left: %v (before %v)", after, before)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestStatsReportsTheMachine(t *testing.T) {
	c := connect(t, newTestAgent(nil))
	ev := procCall(c, map[string]any{"op": "stats"})
	if ev["cpu_count"].(float64) < 1 || ev["memory_total_bytes"].(float64) <= ev["memory_used_bytes"].(float64) ||
		ev["memory_used_bytes"].(float64) <= 0 || ev["disk_total_bytes"].(float64) <= 0 ||
		ev["cpu_window_ms"].(float64) < 250 || ev["cpu_cores_used"].(float64) < 0 || ev["cpu_seconds_total"].(float64) <= 0 {
		t.Fatalf("%v", ev)
	}
}

// Every CPU busy for the whole window reads as every CPU, never more (short windows hold few ticks).
func TestStatsNeverReadsMoreCoresThanTheMachineHas(t *testing.T) {
	c := connect(t, newTestAgent(nil))
	stop := make(chan struct{})
	defer close(stop)
	for i := 0; i < runtime.NumCPU(); i++ {
		go func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
			}
		}()
	}
	for i := 0; i < 8; i++ {
		ev := procCall(c, map[string]any{"op": "stats"})
		if used := ev["cpu_cores_used"].(float64); used > ev["cpu_count"].(float64) || used <= 0 {
			t.Fatalf("cores used %v of %v: %v", used, ev["cpu_count"], ev)
		}
	}
}
