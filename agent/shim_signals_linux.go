package agent

import (
	"runtime"
	"syscall"
	"unsafe"
)

// resetSignals gives the program the shim becomes default signal dispositions and an empty signal
// mask, as init or a login would. exec keeps ignored signals ignored: an agent started with SIGINT
// ignored (a test binary run as a background job by a non-interactive shell, which ignores SIGINT and
// SIGQUIT for it) would otherwise hand that on to every exec, which then survives the host's
// `signal INT`. It locks the goroutine to its thread: the mask is per thread and exec runs on it.
func resetSignals() {
	runtime.LockOSThread()
	var dfl struct {
		handler  uintptr // SIG_DFL = 0
		flags    uint64
		restorer uintptr
		mask     uint64
	}
	for sig := 1; sig <= 64; sig++ {
		if sig == int(syscall.SIGKILL) || sig == int(syscall.SIGSTOP) {
			continue
		}
		// Numbers the kernel refuses (none in 1..64 besides the two above) return EINVAL: harmless.
		_, _, _ = syscall.RawSyscall6(syscall.SYS_RT_SIGACTION, uintptr(sig), uintptr(unsafe.Pointer(&dfl)), 0, 8, 0, 0)
	}
	var empty uint64
	_, _, _ = syscall.RawSyscall6(syscall.SYS_RT_SIGPROCMASK, 2 /* SIG_SETMASK */, uintptr(unsafe.Pointer(&empty)), 0, 8, 0, 0)
}
