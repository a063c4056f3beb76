package agent

import (
	"bufio"
	"encoding/hex"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
)

// selfSignalPort is never dialled for the host, whatever the scope or address: the self-signal endpoint
// trusts its caller to be inside the guest (spec §13).
const selfSignalPort = 1029

// dialScopeNetwork asks for what listens on the guest's network addresses only: a service bound to
// loopback stays private to the guest (the public ingress uses this scope).
const dialScopeNetwork = "network"

// errRefused is how every refused dial looks, so that a forbidden port, a loopback-only service and a
// port where nothing listens cannot be told apart.
func errRefused(port int) error {
	return &opError{"ECONNREFUSED", fmt.Sprintf("dial port %d: connection refused", port)}
}

// procNetTCP are the kernel's socket tables read to find a port's listeners.
var procNetTCP = []string{"/proc/net/tcp", "/proc/net/tcp6"}

// networkTargets are the addresses to dial to reach a listener of port that is bound to a non-loopback
// address (a wildcard bind reached over loopback, a specific one at its own address); empty when only
// loopback-bound sockets, or none, listen there.
func networkTargets(port int) []string {
	var targets []string
	for _, file := range procNetTCP {
		for _, ip := range listeners(file, port) {
			switch {
			case ip.IsLoopback():
			case ip.IsUnspecified() && ip.To4() != nil:
				targets = append(targets, "127.0.0.1")
			case ip.IsUnspecified():
				targets = append(targets, "::1", "127.0.0.1") // a dual-stack wildcard also takes IPv4
			default:
				targets = append(targets, ip.String())
			}
		}
	}
	return targets
}

// listeners reads the local addresses of the LISTEN sockets on port from one /proc/net/tcp* table.
func listeners(file string, port int) []net.IP {
	f, err := os.Open(file)
	if err != nil {
		return nil
	}
	defer f.Close()
	var ips []net.IP
	lines := bufio.NewScanner(f)
	lines.Scan() // header
	for lines.Scan() {
		fields := strings.Fields(lines.Text())
		if len(fields) < 4 || fields[3] != "0A" { // 0A: TCP_LISTEN
			continue
		}
		ip, p, ok := parseProcAddr(fields[1])
		if ok && p == port {
			ips = append(ips, ip)
		}
	}
	return ips
}

// parseProcAddr decodes "0100007F:0405" (IPv4) or 32 hex digits ":PORT" (IPv6): the address is in
// 32-bit words of host byte order (little endian here), the port big endian.
func parseProcAddr(s string) (net.IP, int, bool) {
	addr, portHex, found := strings.Cut(s, ":")
	if !found {
		return nil, 0, false
	}
	raw, err := hex.DecodeString(addr)
	if err != nil || (len(raw) != 4 && len(raw) != 16) {
		return nil, 0, false
	}
	port, err := strconv.ParseUint(portHex, 16, 16)
	if err != nil {
		return nil, 0, false
	}
	ip := make(net.IP, len(raw))
	for w := 0; w < len(raw); w += 4 {
		for i := 0; i < 4; i++ {
			ip[w+i] = raw[w+3-i]
		}
	}
	return ip, int(port), true
}
