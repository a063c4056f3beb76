// Package agent is the in-guest agent of createos-sandbox: PID 1 of every sandbox VM, serving the
// protocol of docs/agent-protocol.md on a virtio-serial port (or a socket, in tests).
package agent

import (
	"encoding/json"
	"errors"
	"log"
	"os"
	"syscall"
	"unsafe"
)

const (
	Magic           = "createos-agent"
	ProtocolVersion = 1
)

// Agent holds what all connections share.
type Agent struct {
	Version string   // reported in HELLO
	Reaper  *Reaper  // the only waiter for child processes
	Cgroups *Cgroups // nil: process trees are killed without cgroups
	Shim    string   // this binary, re-executed as the exec shim (see shim.go)
	Log     *log.Logger
	// OwnsSystem: PID 1 of a guest, allowed to set the clock and hostname (configure); not in serve mode.
	OwnsSystem bool
	Self       *SelfSignals // queued until a watch stream takes them
	// RootDevice and RootMount: the root filesystem grow_fs grows (growfs_linux.go); "" is /dev/vda on /.
	RootDevice, RootMount string
	// HostnameBound: /etc/hostname is hostnameFile, bound at boot (configure.go).
	HostnameBound bool
	procs         procTable // managed processes (procs.go): the agent's, not a connection's
	bootMs        int64
}

// NewAgent returns an agent whose HELLO reports the current uptime as boot time.
func NewAgent(version string, reaper *Reaper, cgroups *Cgroups, logger *log.Logger) *Agent {
	// /proc/self/exe stays this very binary even if the file is replaced meanwhile.
	return &Agent{Version: version, Reaper: reaper, Cgroups: cgroups, Shim: "/proc/self/exe", Log: logger,
		Self: NewSelfSignals(), bootMs: uptimeMs()}
}

type helloRequest struct {
	Magic   string `json:"magic"`
	Version int    `json:"version"`
}

type helloAnswer struct {
	Magic    string `json:"magic"`
	Version  int    `json:"version"`
	Agent    string `json:"agent"`
	Kernel   string `json:"kernel"`
	Hostname string `json:"hostname"`
	BootMs   int64  `json:"boot_ms"`
}

func (a *Agent) hello() []byte {
	var u syscall.Utsname
	_ = syscall.Uname(&u)
	host, _ := os.Hostname()
	b, _ := json.Marshal(helloAnswer{Magic: Magic, Version: ProtocolVersion, Agent: a.Version,
		Kernel: cString(u.Release[:]), Hostname: host, BootMs: a.bootMs})
	return b
}

var ops = map[string]func(*Agent, *stream, []byte){
	"ping":       (*Agent).ping,
	"exec":       (*Agent).exec,
	"write_file": (*Agent).writeFile,
	"read_file":  (*Agent).readFile,
	"stat":       (*Agent).stat,
	"list":       (*Agent).list,
	"mkdir":      (*Agent).mkdir,
	"remove":     (*Agent).remove,
	"rename":     (*Agent).rename,
	"dial":       (*Agent).dial,
	"configure":  (*Agent).configure,
	"watch":      (*Agent).watch,
}

// handle runs the operation an OPEN asked for; the caller closes the stream afterwards.
func (a *Agent) handle(st *stream, req []byte) {
	var head struct {
		Op string `json:"op"`
	}
	if err := json.Unmarshal(req, &head); err != nil {
		st.fail("bad_request", "OPEN payload is not a JSON object: "+err.Error())
		return
	}
	op, ok := ops[head.Op]
	if !ok {
		st.fail("unknown_op", "unknown op "+quote(head.Op))
		return
	}
	op(a, st, req)
}

func (a *Agent) ping(st *stream, _ []byte) {
	st.event(map[string]any{"type": "pong", "uptime_ms": uptimeMs()})
}

// decode parses an op's request, answering bad_request when it is malformed.
func decode(st *stream, raw []byte, v any) bool {
	if err := json.Unmarshal(raw, v); err != nil {
		st.fail("bad_request", "malformed request: "+err.Error())
		return false
	}
	return true
}

// opError is a failure that carries its protocol code.
type opError struct{ code, msg string }

func (e *opError) Error() string { return e.msg }

// errorCode names an error for the protocol: its errno name where there is one.
func errorCode(err error) string {
	var oe *opError
	if errors.As(err, &oe) {
		return oe.code
	}
	var errno syscall.Errno
	if errors.As(err, &errno) {
		if name, ok := errnoNames[errno]; ok {
			return name
		}
	}
	if os.IsTimeout(err) {
		return "ETIMEDOUT"
	}
	return "EIO"
}

var errnoNames = map[syscall.Errno]string{
	syscall.EPERM: "EPERM", syscall.ENOENT: "ENOENT", syscall.ESRCH: "ESRCH", syscall.EINTR: "EINTR",
	syscall.EIO: "EIO", syscall.ENXIO: "ENXIO", syscall.E2BIG: "E2BIG", syscall.ENOEXEC: "ENOEXEC",
	syscall.EBADF: "EBADF", syscall.ECHILD: "ECHILD", syscall.EAGAIN: "EAGAIN", syscall.ENOMEM: "ENOMEM",
	syscall.EACCES: "EACCES", syscall.EFAULT: "EFAULT", syscall.EBUSY: "EBUSY", syscall.EEXIST: "EEXIST",
	syscall.EXDEV: "EXDEV", syscall.ENODEV: "ENODEV", syscall.ENOTDIR: "ENOTDIR", syscall.EISDIR: "EISDIR",
	syscall.EINVAL: "EINVAL", syscall.ENFILE: "ENFILE", syscall.EMFILE: "EMFILE", syscall.ENOTTY: "ENOTTY",
	syscall.ETXTBSY: "ETXTBSY", syscall.EFBIG: "EFBIG", syscall.ENOSPC: "ENOSPC", syscall.ESPIPE: "ESPIPE",
	syscall.EROFS: "EROFS", syscall.EMLINK: "EMLINK", syscall.EPIPE: "EPIPE", syscall.ERANGE: "ERANGE",
	syscall.ENAMETOOLONG: "ENAMETOOLONG", syscall.ENOSYS: "ENOSYS", syscall.ENOTEMPTY: "ENOTEMPTY",
	syscall.ELOOP: "ELOOP", syscall.EOPNOTSUPP: "EOPNOTSUPP", syscall.EADDRINUSE: "EADDRINUSE",
	syscall.EADDRNOTAVAIL: "EADDRNOTAVAIL", syscall.ENETDOWN: "ENETDOWN", syscall.ENETUNREACH: "ENETUNREACH",
	syscall.ECONNABORTED: "ECONNABORTED", syscall.ECONNRESET: "ECONNRESET", syscall.ENOTCONN: "ENOTCONN",
	syscall.ETIMEDOUT: "ETIMEDOUT", syscall.ECONNREFUSED: "ECONNREFUSED", syscall.EHOSTUNREACH: "EHOSTUNREACH",
	syscall.EDQUOT: "EDQUOT", syscall.ESTALE: "ESTALE",
}

func uptimeMs() int64 {
	const clockBoottime = 7
	var ts syscall.Timespec
	syscall.Syscall(syscall.SYS_CLOCK_GETTIME, clockBoottime, uintptr(unsafe.Pointer(&ts)), 0)
	return ts.Sec*1000 + ts.Nsec/1e6
}

func cString(b []int8) string {
	s := make([]byte, 0, len(b))
	for _, c := range b {
		if c == 0 {
			break
		}
		s = append(s, byte(c))
	}
	return string(s)
}

func quote(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}
