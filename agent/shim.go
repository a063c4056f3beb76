package agent

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
)

// ShimArg, as argv[1], makes the agent binary run as the exec shim.
const ShimArg = "__exec"

// shimSpec tells the shim what to become.
type shimSpec struct {
	Cgroup string     `json:"cgroup,omitempty"` // exec cgroup to join; "" without cgroups
	Creds  *shimCreds `json:"creds,omitempty"`  // nil: keep the agent's user
	Dir    string     `json:"dir"`
	Argv   []string   `json:"argv"`
}

type shimCreds struct {
	UID    int   `json:"uid"`
	GID    int   `json:"gid"`
	Groups []int `json:"groups"`
}

// RunShim is the child side of an exec. Go 1.19 cannot start a child inside a cgroup (there is no
// UseCgroupFD), so the agent starts itself: as root it joins the exec's cgroup, then drops to the
// user, changes directory, finds the program in the target environment's PATH and replaces itself
// with it. A failure is written to fd 3, a close-on-exec pipe that the agent reads until EOF.
func RunShim(spec string) {
	syscall.CloseOnExec(3)
	err := runShim(spec)
	_, _ = os.NewFile(3, "exec-status").WriteString(err.Error())
	os.Exit(127)
}

func runShim(arg string) error {
	var spec shimSpec
	if err := json.Unmarshal([]byte(arg), &spec); err != nil || len(spec.Argv) == 0 {
		return fmt.Errorf("exec shim: bad spec %q", arg)
	}
	if spec.Cgroup != "" {
		procs := filepath.Join(spec.Cgroup, "cgroup.procs")
		if err := os.WriteFile(procs, []byte(strconv.Itoa(os.Getpid())), 0); err != nil {
			return fmt.Errorf("join cgroup: %w", err)
		}
	}
	if c := spec.Creds; c != nil {
		if err := syscall.Setgroups(c.Groups); err != nil {
			return fmt.Errorf("setgroups %v: %w", c.Groups, err)
		}
		if err := syscall.Setgid(c.GID); err != nil {
			return fmt.Errorf("setgid %d: %w", c.GID, err)
		}
		if err := syscall.Setuid(c.UID); err != nil {
			return fmt.Errorf("setuid %d: %w", c.UID, err)
		}
	}
	if err := os.Chdir(spec.Dir); err != nil {
		return err
	}
	path, err := exec.LookPath(spec.Argv[0]) // PATH of the target's environment, which the shim runs with
	if err != nil {
		return err
	}
	resetSignals()
	return &exec.Error{Name: spec.Argv[0], Err: syscall.Exec(path, spec.Argv, os.Environ())}
}
