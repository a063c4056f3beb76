package agent

import (
	"fmt"
	"io"
	"io/fs"
	"os"
	"syscall"
)

// maxPseudoFile bounds a download from procfs or sysfs: their stat size says nothing (0 for most, 128 TiB
// for /proc/kcore), so such a file is read whole first and sent with its real size, or refused.
const maxPseudoFile = 16 << 20

const (
	procSuperMagic  = 0x9fa0
	sysfsMagic      = 0x62656572
	cgroup2Magic    = 0x63677270
	debugfsMagic    = 0x64626720
	securityfsMagic = 0x73636673
)

// notRegular refuses reads and writes of devices, FIFOs and sockets: a read of /dev/zero never ends,
// and a write must not replace a device node with a regular file.
func notRegular(op, path string, fi fs.FileInfo) error {
	if fi == nil || fi.Mode().IsRegular() {
		return nil
	}
	return &opError{"EINVAL", fmt.Sprintf("%s %s: not a regular file (%s)", op, quote(path), fi.Mode().Type())}
}

// isPseudoFile tells whether f is on a kernel filesystem whose sizes are not the content's.
func isPseudoFile(f *os.File) bool {
	var st syscall.Statfs_t
	if err := syscall.Fstatfs(int(f.Fd()), &st); err != nil {
		return false
	}
	switch st.Type {
	case procSuperMagic, sysfsMagic, cgroup2Magic, debugfsMagic, securityfsMagic:
		return true
	}
	return false
}

// readPseudo reads a procfs/sysfs file whole, up to maxPseudoFile bytes.
func readPseudo(f *os.File, path string) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(f, maxPseudoFile+1))
	if err != nil {
		return nil, err
	}
	if len(b) > maxPseudoFile {
		return nil, &opError{"EFBIG", fmt.Sprintf("read %s: a kernel file of more than %d bytes (or endless)", quote(path), maxPseudoFile)}
	}
	return b, nil
}
