package agent

import (
	"encoding/binary"
	"errors"
	"log"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"
	"unsafe"
)

const (
	agentPortName = "createos.agent"
	cgroupRoot    = "/sys/fs/cgroup/createos"
)

// RunInit is PID 1 of the guest, started by the initramfs after switch_root: it prepares the system
// and then serves the agent port forever. It never returns: init exiting panics the kernel.
func RunInit(version string, logger *log.Logger) {
	ignoreSignals(logger)
	syscall.Umask(0o022)
	mountFilesystems(logger)
	cmdline := readCmdline()
	if name := cmdline["createos.hostname"]; name != "" {
		if err := syscall.Sethostname([]byte(name)); err != nil {
			logger.Printf("sethostname %s: %v", name, err)
		}
	}
	if err := loopbackUp(); err != nil {
		logger.Printf("lo up: %v", err)
	}
	reaper := NewReaper(true)
	cgroups, err := OpenCgroups(cgroupRoot, logger)
	if err != nil {
		logger.Printf("exec process trees without cgroups: %v", err)
		cgroups = nil
	}
	root := cmdline["root"]
	if root == "" {
		root = "/dev/vda"
	}
	go growRootFS(root, logger)
	a := NewAgent(version, reaper, cgroups, logger)
	a.OwnsSystem = true
	a.RootDevice, a.RootMount = root, "/"
	a.HostnameBound = bindHostnameFile(logger)
	if err := a.ListenSelfSignals(SelfSignalAddr); err != nil {
		logger.Printf("self-signals: %v", err)
	}
	for {
		port, err := openAgentPort()
		if err != nil {
			logger.Printf("%v; retrying", err)
			time.Sleep(time.Second)
			continue
		}
		logger.Printf("serving %s (agent %s, boot %d ms)", port.Name(), version, a.bootMs)
		a.ServePort(port)
	}
}

// ignoreSignals catches every signal: the Go runtime would otherwise exit on SIGTERM, SIGINT, …
// and the kernel panics when init dies. Caught (not ignored) signals revert to default in children.
func ignoreSignals(logger *log.Logger) {
	sigs := make(chan os.Signal, 8)
	signal.Notify(sigs)
	go func() {
		for s := range sigs {
			if s != syscall.SIGCHLD && s != syscall.SIGURG && s != syscall.SIGWINCH {
				logger.Printf("ignoring signal %v", s)
			}
		}
	}()
}

type mount struct {
	source, target, fstype string
	flags                  uintptr
	data                   string
}

var mounts = []mount{
	{"proc", "/proc", "proc", syscall.MS_NOSUID | syscall.MS_NODEV | syscall.MS_NOEXEC, ""},
	{"sysfs", "/sys", "sysfs", syscall.MS_NOSUID | syscall.MS_NODEV | syscall.MS_NOEXEC, ""},
	{"devtmpfs", "/dev", "devtmpfs", syscall.MS_NOSUID, "mode=0755"},
	{"devpts", "/dev/pts", "devpts", syscall.MS_NOSUID | syscall.MS_NOEXEC, "newinstance,ptmxmode=0666,mode=620,gid=5"},
	{"tmpfs", "/dev/shm", "tmpfs", syscall.MS_NOSUID | syscall.MS_NODEV, "mode=1777"},
	{"cgroup2", "/sys/fs/cgroup", "cgroup2", syscall.MS_NOSUID | syscall.MS_NODEV | syscall.MS_NOEXEC, "nsdelegate"},
}

// mountFilesystems mounts what the initramfs did not already hand over.
func mountFilesystems(logger *log.Logger) {
	for _, m := range mounts {
		if err := os.MkdirAll(m.target, 0o755); err != nil {
			logger.Printf("mkdir %s: %v", m.target, err)
			continue
		}
		if isMountPoint(m.target) {
			continue
		}
		if err := syscall.Mount(m.source, m.target, m.fstype, m.flags, m.data); err != nil {
			logger.Printf("mount %s on %s: %v", m.fstype, m.target, err)
		}
	}
	links := [][2]string{{"pts/ptmx", "/dev/ptmx"}, {"/proc/self/fd", "/dev/fd"},
		{"/proc/self/fd/0", "/dev/stdin"}, {"/proc/self/fd/1", "/dev/stdout"}, {"/proc/self/fd/2", "/dev/stderr"}}
	for _, l := range links {
		if _, err := os.Lstat(l[1]); errors.Is(err, os.ErrNotExist) {
			if err := os.Symlink(l[0], l[1]); err != nil {
				logger.Printf("symlink %s: %v", l[1], err)
			}
		}
	}
}

func isMountPoint(path string) bool {
	var st, parent syscall.Stat_t
	if syscall.Stat(path, &st) != nil || syscall.Stat(filepath.Dir(path), &parent) != nil {
		return false
	}
	return st.Dev != parent.Dev
}

// readCmdline returns the key=value words of the kernel command line.
func readCmdline() map[string]string {
	b, _ := os.ReadFile("/proc/cmdline")
	args := map[string]string{}
	for _, w := range strings.Fields(string(b)) {
		if k, v, ok := strings.Cut(w, "="); ok {
			args[k] = v
		}
	}
	return args
}

func loopbackUp() error {
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_DGRAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer syscall.Close(fd)
	var ifr [40]byte // struct ifreq: name, then flags as the first member of the union
	copy(ifr[:], "lo")
	if err := ifreqIoctl(fd, syscall.SIOCGIFFLAGS, &ifr); err != nil {
		return err
	}
	flags := binary.LittleEndian.Uint16(ifr[16:]) | syscall.IFF_UP | syscall.IFF_RUNNING
	binary.LittleEndian.PutUint16(ifr[16:], flags)
	return ifreqIoctl(fd, syscall.SIOCSIFFLAGS, &ifr)
}

func ifreqIoctl(fd int, req uintptr, ifr *[40]byte) error {
	if _, _, errno := syscall.Syscall(syscall.SYS_IOCTL, uintptr(fd), req, uintptr(unsafe.Pointer(ifr))); errno != 0 {
		return errno
	}
	return nil
}

// bindHostnameFile binds hostnameFile (tmpfs) over /etc/hostname, holding the current name; false if it could
// not, and configure then replaces /etc/hostname itself.
func bindHostnameFile(logger *log.Logger) bool {
	name, err := os.Hostname()
	if err == nil {
		err = os.MkdirAll(filepath.Dir(hostnameFile), 0o755)
	}
	if err == nil {
		err = os.WriteFile(hostnameFile, []byte(name+"\n"), 0o644)
	}
	if _, serr := os.Stat("/etc/hostname"); err == nil && errors.Is(serr, os.ErrNotExist) {
		err = os.WriteFile("/etc/hostname", nil, 0o644) // a mount needs a file to cover
	}
	if err == nil {
		err = syscall.Mount(hostnameFile, "/etc/hostname", "", syscall.MS_BIND, "")
	}
	if err != nil {
		logger.Printf("/etc/hostname stays the image's file: %v", err)
		return false
	}
	return true
}

// growRootFS grows the root ext4 filesystem to its disk, which may be larger than the image.
func growRootFS(dev string, logger *log.Logger) {
	before, after, err := growOnline(dev, "/")
	if err != nil {
		logger.Printf("%v", err)
	} else if after > before {
		logger.Printf("grew %s from %d to %d MiB", dev, before>>20, after>>20)
	}
}

// openAgentPort opens the virtio-serial port that QEMU names createos.agent.
func openAgentPort() (*os.File, error) {
	names, _ := filepath.Glob("/sys/class/virtio-ports/*/name")
	for _, n := range names {
		if b, err := os.ReadFile(n); err == nil && strings.TrimSpace(string(b)) == agentPortName {
			return os.OpenFile("/dev/"+filepath.Base(filepath.Dir(n)), os.O_RDWR, 0)
		}
	}
	return nil, errors.New("no virtio port named " + agentPortName)
}
