package agent

import (
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
	"unsafe"
)

// The grow_fs op: grows the root ext4 filesystem online to its disk after the host enlarged the disk. The
// kernel does the work (EXT4_IOC_RESIZE_FS, what resize2fs itself calls on a mounted filesystem), so no
// process is started: under emulation a cold resize2fs took seconds, and an image need not carry one.
func init() { ops["grow_fs"] = (*Agent).growFS }

// ext4IocResizeFS is _IOW('f', 16, __u64): the argument is the new size in filesystem blocks.
const ext4IocResizeFS = 0x40086610

type growFSRequest struct {
	// DeviceBytes is the disk's new size. The guest kernel learns it from a virtio config interrupt some time
	// after the host's resize, so the op waits (up to TimeoutMs) until the device is at least this large.
	DeviceBytes int64 `json:"device_bytes"`
	TimeoutMs   int64 `json:"timeout_ms"`
}

func (a *Agent) growFS(st *stream, raw []byte) {
	var req growFSRequest
	if !decode(st, raw, &req) {
		return
	}
	if !a.OwnsSystem {
		st.fail("EPERM", "grow_fs: this agent does not own the system (serve mode)")
		return
	}
	if req.DeviceBytes < 0 || req.TimeoutMs < 0 {
		st.fail("bad_request", "grow_fs: device_bytes and timeout_ms must not be negative")
		return
	}
	dev, mount := a.RootDevice, a.RootMount
	if dev == "" {
		dev, mount = "/dev/vda", "/"
	}
	deadline := time.Now().Add(time.Duration(req.TimeoutMs) * time.Millisecond)
	for {
		devBytes, err := deviceBytes(dev)
		if err != nil {
			st.failErr(fmt.Errorf("grow_fs: size of %s: %w", dev, err))
			return
		}
		if devBytes >= req.DeviceBytes {
			break
		}
		if time.Now().After(deadline) {
			st.fail("ETIMEDOUT", fmt.Sprintf("grow_fs: %s is still %d bytes, not the %d the host made it, after %d ms",
				dev, devBytes, req.DeviceBytes, req.TimeoutMs))
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
	before, after, err := growOnline(dev, mount)
	if err != nil {
		st.failErr(err)
		return
	}
	st.event(map[string]any{"type": "ok", "fs_bytes_before": before, "fs_bytes": after})
}

// growOnline grows the ext4 filesystem on dev, mounted at mount, to the whole device; a filesystem within
// a MiB of it is left alone.
func growOnline(dev, mount string) (before, after int64, err error) {
	devBytes, fsBytes, blockSize, err := sizes(dev)
	if err != nil {
		return 0, 0, fmt.Errorf("grow_fs: %s: %w", dev, err)
	}
	if devBytes-fsBytes < 1<<20 {
		return fsBytes, fsBytes, nil
	}
	f, err := os.Open(mount)
	if err != nil {
		return 0, 0, fmt.Errorf("grow_fs: %w", err)
	}
	defer f.Close()
	blocks := uint64(devBytes / blockSize)
	if _, _, errno := syscall.Syscall(syscall.SYS_IOCTL, f.Fd(), ext4IocResizeFS,
		uintptr(unsafe.Pointer(&blocks))); errno != 0 {
		return 0, 0, fmt.Errorf("grow_fs: resizing the filesystem on %s to %d blocks: %w", mount, blocks, errno)
	}
	return fsBytes, int64(blocks) * blockSize, nil
}

// sizes returns the sizes of a block device and of the ext4 filesystem on it (from its superblock, which a
// mounted filesystem keeps current in the device's buffer cache), and the filesystem's block size.
func sizes(dev string) (devBytes, fsBytes, blockSize int64, err error) {
	if devBytes, err = deviceBytes(dev); err != nil {
		return 0, 0, 0, err
	}
	f, err := os.Open(dev)
	if err != nil {
		return 0, 0, 0, err
	}
	defer f.Close()
	sb := make([]byte, 1024)
	if _, err := f.ReadAt(sb, 1024); err != nil {
		return 0, 0, 0, err
	}
	if binary.LittleEndian.Uint16(sb[0x38:]) != 0xEF53 {
		return 0, 0, 0, &opError{"ENOTSUP", "no ext4 superblock on " + dev}
	}
	blocks := int64(binary.LittleEndian.Uint32(sb[0x4:]))
	if binary.LittleEndian.Uint32(sb[0x60:])&0x80 != 0 { // INCOMPAT_64BIT
		blocks |= int64(binary.LittleEndian.Uint32(sb[0x150:])) << 32
	}
	blockSize = 1024 << binary.LittleEndian.Uint32(sb[0x18:])
	return devBytes, blocks * blockSize, blockSize, nil
}

func deviceBytes(dev string) (int64, error) {
	b, err := os.ReadFile("/sys/class/block/" + filepath.Base(dev) + "/size")
	if err != nil {
		return 0, err
	}
	sectors, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
	return sectors * 512, err
}
