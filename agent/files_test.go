package agent

import (
	"bytes"
	"crypto/rand"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

func TestWriteAndReadFileStreamAndAreAtomic(t *testing.T) {
	c := connect(t, newTestAgent(nil))
	dir := t.TempDir()
	path := filepath.Join(dir, "sub/dir/blob.bin")
	content := make([]byte, 2<<20+123)
	rand.Read(content)

	w := c.open(map[string]any{"op": "write_file", "path": path, "mode": 0o640, "mkdirs": true})
	w.send(content)
	w.sendEOF()
	if ev := w.event("ok"); ev["size"] != float64(len(content)) {
		t.Fatalf("write ok %v", ev)
	}
	w.waitClosed()
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o640 {
		t.Fatalf("written file: %v %v", fi, err)
	}

	r := c.open(map[string]any{"op": "read_file", "path": path})
	if ev := r.event("ok"); ev["size"] != float64(len(content)) || ev["mode"] != float64(0o640) {
		t.Fatalf("read ok %v", ev)
	}
	r.waitClosed()
	if !r.eof[ChanOut] || !bytes.Equal([]byte(r.output(ChanOut)), content) {
		t.Fatalf("read back %d bytes (eof %v), want %d", len(r.output(ChanOut)), r.eof[ChanOut], len(content))
	}

	// An aborted upload leaves the old content and no temporary file.
	a := c.open(map[string]any{"op": "write_file", "path": path})
	a.send([]byte("partial"))
	a.sendClose()
	a.waitClosed()
	if got, _ := os.ReadFile(path); !bytes.Equal(got, content) {
		t.Fatal("aborted upload changed the file")
	}
	if entries, _ := os.ReadDir(filepath.Dir(path)); len(entries) != 1 {
		t.Fatalf("left behind: %v", entries)
	}
}

func TestFileOpsRejectRelativeOrUncleanPaths(t *testing.T) {
	c := connect(t, newTestAgent(nil))
	for _, p := range []string{"relative", "/tmp/../etc/passwd", "/tmp/", ""} {
		c.open(map[string]any{"op": "read_file", "path": p}).expectError("EINVAL")
		c.open(map[string]any{"op": "write_file", "path": p}).expectError("EINVAL")
	}
	c.open(map[string]any{"op": "rename", "from": "/tmp/x", "to": "y"}).expectError("EINVAL")
}

func TestFileErrorsCarryErrnoNames(t *testing.T) {
	c := connect(t, newTestAgent(nil))
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "f"), []byte("x"), 0o644)
	os.Mkdir(filepath.Join(dir, "full"), 0o755)
	os.WriteFile(filepath.Join(dir, "full/y"), nil, 0o644)
	for _, tc := range []struct {
		req  map[string]any
		code string
	}{
		{map[string]any{"op": "read_file", "path": dir + "/missing"}, "ENOENT"},
		{map[string]any{"op": "read_file", "path": dir}, "EISDIR"},
		{map[string]any{"op": "write_file", "path": dir}, "EISDIR"},
		{map[string]any{"op": "write_file", "path": dir + "/no/such/dir"}, "ENOENT"},
		{map[string]any{"op": "list", "path": dir + "/f"}, "ENOTDIR"},
		{map[string]any{"op": "stat", "path": dir + "/missing"}, "ENOENT"},
		{map[string]any{"op": "mkdir", "path": dir + "/f"}, "EEXIST"},
		{map[string]any{"op": "mkdir", "path": dir + "/a/b"}, "ENOENT"},
		{map[string]any{"op": "remove", "path": dir + "/full"}, "ENOTEMPTY"},
		{map[string]any{"op": "remove", "path": dir + "/missing", "recursive": true}, "ENOENT"},
		{map[string]any{"op": "rename", "from": dir + "/missing", "to": dir + "/x"}, "ENOENT"},
	} {
		ev := c.open(tc.req).expectError(tc.code)
		if msg, _ := ev["message"].(string); !strings.Contains(msg, dir) {
			t.Errorf("%v: message %q does not name the path", tc.req, msg)
		}
	}
}

func TestStatListMkdirRemoveRename(t *testing.T) {
	c := connect(t, newTestAgent(nil))
	dir := t.TempDir()
	ok := func(req map[string]any) map[string]any {
		t.Helper()
		ts := c.open(req)
		ev := ts.event("ok")
		ts.waitClosed()
		return ev
	}
	ok(map[string]any{"op": "mkdir", "path": dir + "/a/b", "parents": true})
	os.WriteFile(dir+"/a/file.txt", []byte("hello"), 0o600)
	os.Symlink("file.txt", dir+"/a/link")

	st := ok(map[string]any{"op": "stat", "path": dir + "/a/file.txt"})["stat"].(map[string]any)
	if st["name"] != "file.txt" || st["path"] != dir+"/a/file.txt" || st["size"] != float64(5) ||
		st["mode"] != float64(0o600) || st["type"] != "file" || st["mtime_ms"].(float64) <= 0 {
		t.Fatalf("stat %v", st)
	}
	var names []string
	for _, e := range ok(map[string]any{"op": "list", "path": dir + "/a"})["entries"].([]any) {
		e := e.(map[string]any)
		names = append(names, fmt.Sprint(e["name"], ":", e["type"]))
	}
	if strings.Join(names, " ") != "b:dir file.txt:file link:symlink" {
		t.Fatalf("list %v", names)
	}
	ok(map[string]any{"op": "rename", "from": dir + "/a/file.txt", "to": dir + "/a/b/moved.txt"})
	if b, _ := os.ReadFile(dir + "/a/b/moved.txt"); string(b) != "hello" {
		t.Fatal("rename did not move the file")
	}
	ok(map[string]any{"op": "remove", "path": dir + "/a/link"})
	ok(map[string]any{"op": "remove", "path": dir + "/a", "recursive": true})
	if _, err := os.Stat(dir + "/a"); !os.IsNotExist(err) {
		t.Fatalf("recursive remove left %v", err)
	}
}

func TestLongListingsComeInBatches(t *testing.T) {
	c := connect(t, newTestAgent(nil))
	dir := t.TempDir()
	const n = 400
	name := func(i int) string { return fmt.Sprintf("file-%05d-%s", i, strings.Repeat("x", 200)) }
	for i := 0; i < n; i++ {
		os.WriteFile(filepath.Join(dir, name(i)), nil, 0o644)
	}
	ts := c.open(map[string]any{"op": "list", "path": dir})
	var names []string
	batches := 0
	for {
		ev := <-ts.events
		for _, e := range ev["entries"].([]any) {
			names = append(names, e.(map[string]any)["name"].(string))
		}
		batches++
		if ev["type"] == "ok" {
			break
		}
		if ev["type"] != "entries" {
			t.Fatalf("unexpected %v", ev)
		}
	}
	ts.waitClosed()
	if len(names) != n || batches < 3 || names[0] != name(0) || names[n-1] != name(n-1) {
		t.Fatalf("%d names in %d batches", len(names), batches)
	}
}

func TestWriteFileKeepsTheOwnerOfAReplacedFile(t *testing.T) {
	if os.Getuid() != 0 {
		t.Skip("needs root to chown")
	}
	c := connect(t, newTestAgent(nil))
	path := filepath.Join(t.TempDir(), strings.Repeat("n", 250))
	os.WriteFile(path, []byte("old"), 0o600)
	os.Chown(path, 65534, 65534)
	w := c.open(map[string]any{"op": "write_file", "path": path, "mode": 0o644})
	w.send([]byte("new"))
	w.sendEOF()
	w.event("ok")
	w.waitClosed()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if sys := fi.Sys().(*syscall.Stat_t); sys.Uid != 65534 || sys.Gid != 65534 || fi.Mode().Perm() != 0o644 {
		t.Fatalf("replaced file: uid %d gid %d mode %v", sys.Uid, sys.Gid, fi.Mode())
	}
}

// Issue 18: procfs files report size 0 (their content was cut to nothing or the size was a lie),
// /proc/kcore reports 128 TiB and never ends, /dev/zero neither, and a PUT replaced a device node.
func TestKernelFilesCarryTheirRealSizeAndSpecialFilesAreRefused(t *testing.T) {
	c := connect(t, newTestAgent(nil))
	r := c.open(map[string]any{"op": "read_file", "path": "/proc/self/mounts"})
	ev := r.event("ok")
	r.waitClosed()
	got := r.output(ChanOut)
	if len(got) == 0 || ev["size"] != float64(len(got)) || !strings.Contains(got, " / ") {
		t.Fatalf("/proc/self/mounts: ok %v, %d bytes read", ev, len(got))
	}
	if _, err := os.Stat("/proc/kcore"); err == nil {
		c.open(map[string]any{"op": "read_file", "path": "/proc/kcore"}).expectError("EFBIG")
	}
	c.open(map[string]any{"op": "read_file", "path": "/dev/zero"}).expectError("EINVAL")

	fifo := filepath.Join(t.TempDir(), "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	w := c.open(map[string]any{"op": "write_file", "path": fifo})
	w.sendEOF()
	w.expectError("EINVAL")
	if fi, err := os.Stat(fifo); err != nil || fi.Mode()&os.ModeNamedPipe == 0 {
		t.Fatalf("the FIFO was replaced: %v %v", fi, err)
	}
}
