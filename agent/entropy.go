package agent

import (
	"encoding/binary"
	"fmt"
	"os"
	"syscall"
	"unsafe"
)

const (
	ioctlAddEntropy  = 0x40085203 // RNDADDENTROPY: _IOW('R', 0x03, int[2])
	ioctlReseedCrng  = 0x5207     // RNDRESEEDCRNG: _IO('R', 0x07)
	maxEntropyLength = 4096
)

// reseedRandom credits seed (the host's CSPRNG output) to the kernel's input pool and makes the CRNG reseed
// from it at once. Every VM restored from one snapshot (forks, template restores) wakes up with the same CRNG
// state in memory, so without this they would hand out the same "random" bytes until the next periodic reseed.
func reseedRandom(seed []byte) error {
	if len(seed) == 0 || len(seed) > maxEntropyLength {
		return &opError{"EINVAL", fmt.Sprintf("configure: entropy must be 1-%d bytes, not %d", maxEntropyLength, len(seed))}
	}
	f, err := os.OpenFile("/dev/urandom", os.O_WRONLY, 0)
	if err != nil {
		return fmt.Errorf("configure: entropy: %w", err)
	}
	defer f.Close()
	// struct rand_pool_info { int entropy_count; int buf_size; __u32 buf[]; }
	info := make([]byte, 8+len(seed))
	binary.LittleEndian.PutUint32(info[0:], uint32(len(seed)*8))
	binary.LittleEndian.PutUint32(info[4:], uint32(len(seed)))
	copy(info[8:], seed)
	if err := ioctl(f, ioctlAddEntropy, unsafe.Pointer(&info[0])); err != nil {
		return fmt.Errorf("configure: entropy: RNDADDENTROPY: %w", err)
	}
	// ENODATA: the CRNG was not seeded yet; the credit above seeds it from this entropy anyway.
	if err := ioctl(f, ioctlReseedCrng, nil); err != nil && err != syscall.ENODATA {
		return fmt.Errorf("configure: entropy: RNDRESEEDCRNG: %w", err)
	}
	return nil
}
