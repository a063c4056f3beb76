package agent

import (
	"bufio"
	"os"
	"sort"
	"strconv"
	"strings"
)

// account is a user of the guest, from /etc/passwd and /etc/group.
type account struct {
	name, home, shell string
	uid, gid          int
	groups            []int // supplementary groups, the primary one included
}

// lookupAccount finds a user by name or numeric id; "" is the agent's own user (root in the guest).
// A numeric id without a passwd entry is accepted, with home "/".
func lookupAccount(name string) (*account, error) {
	if name == "" {
		name = strconv.Itoa(os.Getuid())
	}
	id, numErr := strconv.Atoi(name)
	var acct *account
	scanColonFile("/etc/passwd", func(f []string) bool {
		if len(f) < 7 || (f[0] != name && (numErr != nil || f[2] != name)) {
			return true
		}
		uid, err1 := strconv.Atoi(f[2])
		gid, err2 := strconv.Atoi(f[3])
		if err1 != nil || err2 != nil {
			return true
		}
		acct = &account{name: f[0], uid: uid, gid: gid, home: f[5], shell: f[6]}
		return false
	})
	switch {
	case acct != nil:
	case numErr == nil && id >= 0:
		acct = &account{name: name, uid: id, gid: id, home: "/", shell: "/bin/sh"}
	case name == "root":
		acct = &account{name: "root", home: "/root", shell: "/bin/sh"}
	default:
		return nil, &opError{"start_failed", "unknown user " + quote(name)}
	}
	if acct.home == "" {
		acct.home = "/"
	}
	if acct.shell == "" {
		acct.shell = "/bin/sh"
	}
	acct.groups = []int{acct.gid}
	scanColonFile("/etc/group", func(f []string) bool {
		if len(f) < 4 {
			return true
		}
		for _, member := range strings.Split(f[3], ",") {
			if gid, err := strconv.Atoi(f[2]); err == nil && member == acct.name && gid != acct.gid {
				acct.groups = append(acct.groups, gid)
			}
		}
		return true
	})
	return acct, nil
}

// scanColonFile calls fn with the fields of each line until it returns false; a missing file is empty.
func scanColonFile(path string, fn func([]string) bool) {
	f, err := os.Open(path)
	if err != nil {
		return
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if line := sc.Text(); line != "" && !strings.HasPrefix(line, "#") && !fn(strings.Split(line, ":")) {
			return
		}
	}
}

// execEnv is the default environment of a user, with the request's variables merged over it.
func execEnv(acct *account, extra map[string]string, tty bool) []string {
	env := map[string]string{"PATH": defaultPath, "HOME": acct.home, "USER": acct.name,
		"LOGNAME": acct.name, "SHELL": acct.shell, "LANG": "C.UTF-8"}
	if tty {
		env["TERM"] = "xterm-256color"
	}
	for k, v := range extra {
		env[k] = v
	}
	list := make([]string, 0, len(env))
	for k, v := range env {
		list = append(list, k+"="+v)
	}
	sort.Strings(list)
	return list
}
