package agent

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"syscall"
)

// configureRequest is the `configure` op: every field is optional, and only what is present is applied.
// The network part is applied by configureNetwork (configure_network.go).
type configureRequest struct {
	Hostname   *string        `json:"hostname"`
	TimeUnixMs *int64         `json:"time_unix_ms"`
	Entropy    []byte         `json:"entropy"` // base64 in JSON
	Network    *networkConfig `json:"network"`
}

var hostnamePattern = regexp.MustCompile(`^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$`)

// configure sets the clock and the hostname: after a snapshot restore the guest's clock is as old as the
// snapshot, and a fork or template restore carries another VM's name.
func (a *Agent) configure(st *stream, raw []byte) {
	var req configureRequest
	if !decode(st, raw, &req) {
		return
	}
	if req.Network != nil {
		if err := req.Network.validate(); err != nil {
			st.failErr(err)
			return
		}
	}
	if !a.OwnsSystem && (req.TimeUnixMs != nil || req.Hostname != nil || req.Network != nil || req.Entropy != nil) {
		st.fail("EPERM", "configure: this agent does not own the system (serve mode)")
		return
	}
	if req.Entropy != nil {
		if err := reseedRandom(req.Entropy); err != nil {
			st.failErr(err)
			return
		}
	}
	if req.TimeUnixMs != nil {
		tv := syscall.NsecToTimeval(*req.TimeUnixMs * 1e6)
		if err := syscall.Settimeofday(&tv); err != nil {
			st.fail(errorCode(err), "configure: settimeofday: "+err.Error())
			return
		}
	}
	if req.Hostname != nil {
		if err := a.setHostname(*req.Hostname); err != nil {
			st.failErr(err)
			return
		}
	}
	if req.Network != nil {
		if err := a.configureNetwork(req.Network); err != nil {
			st.failErr(err)
			return
		}
	}
	if req.Entropy != nil { // sent with every boot and restore, never on a re-attach of the host
		if n := a.Self.drop(); n > 0 {
			a.Log.Printf("configure: %d self-signal(s) from before the snapshot dropped", n)
		}
	}
	st.event(map[string]any{"type": "ok"})
}

// hostnameFile is what /etc/hostname shows once the agent bound it there at boot (init_linux.go), as Docker
// binds it: a tmpfs file that configure rewrites in place. Under emulation a create and rename on the root
// ext4 was ~100 ms of a restore's ~130 ms configure, and a full disk cannot refuse a tmpfs write.
const hostnameFile = "/run/createos/hostname"

func (a *Agent) setHostname(name string) error {
	if !hostnamePattern.MatchString(name) {
		return &opError{"EINVAL", fmt.Sprintf("configure: bad hostname %s", quote(name))}
	}
	if err := syscall.Sethostname([]byte(name)); err != nil {
		return fmt.Errorf("configure: sethostname: %w", err)
	}
	if a.HostnameBound {
		// In place: the bind mount holds this very inode.
		if err := os.WriteFile(hostnameFile, []byte(name+"\n"), 0o644); err != nil {
			return fmt.Errorf("configure: %w", err)
		}
		return nil
	}
	return writeFileAtomic("/etc/hostname", []byte(name+"\n"), 0o644)
}

// writeFileAtomic replaces path by a complete new file, never leaving half of one. A file that already
// holds data is left alone (a resume configures what the snapshot has), and on a full disk the file is
// rewritten in place, in the block it already has: a paused sandbox whose disk is full must resume and
// fork (issue 18: ENOSPC on /etc/hostname bricked it).
func writeFileAtomic(path string, data []byte, mode os.FileMode) error {
	if old, err := os.ReadFile(path); err == nil && bytes.Equal(old, data) {
		return nil
	}
	err := replaceFile(path, data, mode)
	if errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT) {
		if werr := os.WriteFile(path, data, mode); werr == nil {
			return nil
		}
	}
	return err
}

func replaceFile(path string, data []byte, mode os.FileMode) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".createos-*")
	if err != nil {
		return fmt.Errorf("configure: %w", err)
	}
	defer os.Remove(tmp.Name())
	if _, err = tmp.Write(data); err == nil {
		err = tmp.Chmod(mode)
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		return fmt.Errorf("configure: writing %s: %w", path, err)
	}
	return nil
}
