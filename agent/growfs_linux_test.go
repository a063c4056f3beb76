package agent

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// A real ext4 on a loop device, mounted: the host grows the backing file and the op, asked for the new size
// before the kernel has seen it, waits for the device and grows the mounted filesystem.
func TestGrowFSWaitsForTheDeviceAndGrowsTheMountedFilesystem(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root for a loop device and a mount")
	}
	dir := t.TempDir()
	img, mnt := filepath.Join(dir, "fs.img"), filepath.Join(dir, "mnt")
	must(t, "truncate", "-s", "64M", img)
	must(t, "mkfs.ext4", "-q", "-F", img)
	loop := strings.TrimSpace(must(t, "losetup", "--find", "--show", img))
	t.Cleanup(func() { _ = exec.Command("losetup", "-d", loop).Run() })
	if err := os.Mkdir(mnt, 0o755); err != nil {
		t.Fatal(err)
	}
	must(t, "mount", loop, mnt)
	t.Cleanup(func() { _ = exec.Command("umount", mnt).Run() })
	must(t, "truncate", "-s", "96M", img)

	a := newTestAgent(nil)
	c := connect(t, a)
	c.open(map[string]any{"op": "grow_fs", "device_bytes": 96 << 20}).expectError("EPERM")
	a.OwnsSystem, a.RootDevice, a.RootMount = true, loop, mnt

	refreshed := make(chan error, 1)
	go func() {
		time.Sleep(300 * time.Millisecond)
		refreshed <- exec.Command("losetup", "-c", loop).Run()
	}()
	grow := c.open(map[string]any{"op": "grow_fs", "device_bytes": 96 << 20, "timeout_ms": 20000})
	if !hasCapability(t, capSysResource) {
		// Some container hosts withhold it from root (resize2fs fails the same way there); a guest's PID 1 has it.
		ev := grow.expectError("EPERM")
		if err := <-refreshed; err != nil || !strings.Contains(ev["message"].(string), "to 98304 blocks") {
			t.Fatalf("the op waited for the device, then passed the kernel's refusal on: %v (%v)", ev, err)
		}
		return
	}
	ev := grow.event("ok")
	grow.waitClosed()
	if err := <-refreshed; err != nil {
		t.Fatalf("losetup -c %s: %v", loop, err)
	}
	if ev["fs_bytes_before"].(float64) != 64<<20 || ev["fs_bytes"].(float64) != 96<<20 {
		t.Fatalf("%v", ev)
	}
	var st syscall.Statfs_t
	if err := syscall.Statfs(mnt, &st); err != nil || st.Blocks*uint64(st.Bsize) <= 80<<20 {
		t.Fatalf("the mounted filesystem did not grow: %d blocks of %d (%v)", st.Blocks, st.Bsize, err)
	}
	again := procCall(c, map[string]any{"op": "grow_fs", "device_bytes": 96 << 20})
	if again["fs_bytes_before"].(float64) != 96<<20 || again["fs_bytes"].(float64) != 96<<20 {
		t.Fatalf("a grown filesystem is left alone: %v", again)
	}
	late := c.open(map[string]any{"op": "grow_fs", "device_bytes": 128 << 20, "timeout_ms": 100}).expectError("ETIMEDOUT")
	if !strings.Contains(late["message"].(string), "not the 134217728 the host made it") {
		t.Fatalf("%v", late)
	}
	c.open(map[string]any{"op": "grow_fs", "device_bytes": -1}).expectError("bad_request")
}

const capSysResource = 24

func hasCapability(t *testing.T, bit uint) bool {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "CapEff:") {
			caps, err := strconv.ParseUint(strings.TrimSpace(strings.TrimPrefix(line, "CapEff:")), 16, 64)
			if err != nil {
				t.Fatal(err)
			}
			return caps&(1<<bit) != 0
		}
	}
	t.Fatal("no CapEff in /proc/self/status")
	return false
}

func must(t *testing.T, name string, args ...string) string {
	t.Helper()
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v: %s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}
