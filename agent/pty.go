package agent

import (
	"fmt"
	"os"
	"syscall"
	"unsafe"
)

// openPty returns a new pseudo-terminal pair of the given size. The master is pollable, so reads
// on it honour deadlines.
func openPty(size winSize) (master, slave *os.File, err error) {
	master, err = os.OpenFile("/dev/ptmx", os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		return nil, nil, err
	}
	var unlock int32
	var n uint32
	if err = ioctl(master, syscall.TIOCSPTLCK, unsafe.Pointer(&unlock)); err == nil {
		err = ioctl(master, syscall.TIOCGPTN, unsafe.Pointer(&n))
	}
	if err == nil {
		slave, err = os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|syscall.O_NOCTTY, 0)
	}
	if err == nil {
		err = setWinSize(master, size)
	}
	if err != nil {
		master.Close()
		if slave != nil {
			slave.Close()
		}
		return nil, nil, fmt.Errorf("open pty: %w", err)
	}
	return master, slave, nil
}

func setWinSize(master *os.File, size winSize) error {
	if size.Rows == 0 || size.Cols == 0 {
		size = winSize{Rows: 24, Cols: 80}
	}
	ws := struct{ rows, cols, xpixel, ypixel uint16 }{size.Rows, size.Cols, 0, 0}
	return ioctl(master, syscall.TIOCSWINSZ, unsafe.Pointer(&ws))
}

// foregroundPgrp is the terminal's foreground process group, the target of signals typed at it.
func foregroundPgrp(master *os.File) (int, error) {
	var pgrp int32
	err := ioctl(master, syscall.TIOCGPGRP, unsafe.Pointer(&pgrp))
	return int(pgrp), err
}

// sendEOF types the terminal's end-of-file character (normally ^D).
func sendEOF(master *os.File) error {
	var t syscall.Termios
	if err := ioctl(master, syscall.TCGETS, unsafe.Pointer(&t)); err != nil {
		return err
	}
	_, err := master.Write([]byte{t.Cc[syscall.VEOF]})
	return err
}

// ioctl runs on the raw descriptor without File.Fd, which would switch the file to blocking mode.
func ioctl(f *os.File, req uintptr, arg unsafe.Pointer) error {
	rc, err := f.SyscallConn()
	if err != nil {
		return err
	}
	var errno syscall.Errno
	if err := rc.Control(func(fd uintptr) {
		_, _, errno = syscall.Syscall(syscall.SYS_IOCTL, fd, req, uintptr(arg))
	}); err != nil {
		return err
	}
	if errno != 0 {
		return errno
	}
	return nil
}
