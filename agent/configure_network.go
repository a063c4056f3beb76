package agent

import (
	"fmt"
	"net"
	"sort"
	"strings"
)

// networkConfig is the `network` of the configure op (docs/agent-protocol.md).
type networkConfig struct {
	MAC       string        `json:"mac"`
	Addresses []string      `json:"addresses"`
	Gateway   string        `json:"gateway"`
	Routes    []routeConfig `json:"routes"`
	DNS       []string      `json:"dns"`
	Search    []string      `json:"search"`
	MTU       int           `json:"mtu"`
}

type routeConfig struct {
	To  string `json:"to"`
	Via string `json:"via"`
}

// validate rejects a malformed request before anything is changed, naming the bad field.
func (n *networkConfig) validate() error {
	bad := func(format string, args ...any) error {
		return &opError{"EINVAL", "configure: network: " + fmt.Sprintf(format, args...)}
	}
	if n.MAC != "" {
		if hw, err := net.ParseMAC(n.MAC); err != nil || len(hw) != 6 {
			return bad("bad mac %s", quote(n.MAC))
		}
	}
	for _, a := range n.Addresses {
		if ip, _, err := net.ParseCIDR(a); err != nil || ip.To4() == nil {
			return bad("bad address %s (want IPv4 CIDR notation)", quote(a))
		}
	}
	if n.Gateway != "" && !isIPv4(n.Gateway) {
		return bad("bad gateway %s", quote(n.Gateway))
	}
	for _, r := range n.Routes {
		if _, _, err := net.ParseCIDR(r.To); err != nil {
			return bad("bad route destination %s", quote(r.To))
		}
		if r.Via != "" && !isIPv4(r.Via) {
			return bad("bad route gateway %s", quote(r.Via))
		}
	}
	for _, d := range n.DNS {
		if !isIPv4(d) {
			return bad("bad dns server %s", quote(d))
		}
	}
	for _, s := range n.Search {
		if s == "" || strings.ContainsAny(s, " \t\n#;") {
			return bad("bad search domain %s", quote(s))
		}
	}
	if n.MTU != 0 && (n.MTU < 576 || n.MTU > 65535) {
		return bad("mtu %d is outside 576..65535", n.MTU)
	}
	return nil
}

func isIPv4(s string) bool {
	ip := net.ParseIP(s)
	return ip != nil && ip.To4() != nil
}

// linkState is what the plan starts from: the interface's name, MAC and IPv4 addresses (CIDR notation).
type linkState struct {
	name      string
	mac       string
	addresses []string
}

// networkPlan returns the steps (in ip(8) terms) that take the link from its state to n. A new MAC is set with the link
// down: that also drops the old identity's neighbours and routes (a restored fork still has its source's).
// Addresses are changed one by one, so an unchanged address keeps its connections.
func networkPlan(link linkState, n *networkConfig) [][]string {
	var plan [][]string
	dev := link.name
	if n.MAC != "" {
		want, _ := net.ParseMAC(n.MAC)
		if have, err := net.ParseMAC(link.mac); err != nil || have.String() != want.String() {
			plan = append(plan, []string{"link", "set", "dev", dev, "down"},
				[]string{"link", "set", "dev", dev, "address", want.String()})
		}
	}
	if n.MTU != 0 {
		plan = append(plan, []string{"link", "set", "dev", dev, "mtu", fmt.Sprint(n.MTU)})
	}
	if n.Addresses != nil {
		want := map[string]bool{}
		for _, a := range n.Addresses {
			want[canonicalCIDR(a)] = true
		}
		have := map[string]bool{}
		for _, a := range link.addresses {
			have[canonicalCIDR(a)] = true
			if !want[canonicalCIDR(a)] {
				plan = append(plan, []string{"addr", "del", a, "dev", dev})
			}
		}
		for _, a := range n.Addresses {
			if !have[canonicalCIDR(a)] {
				plan = append(plan, []string{"addr", "add", a, "dev", dev})
				have[canonicalCIDR(a)] = true
			}
		}
	}
	plan = append(plan, []string{"link", "set", "dev", dev, "up"})
	if n.Gateway != "" {
		plan = append(plan, []string{"route", "replace", "default", "via", n.Gateway, "dev", dev})
	}
	for _, r := range n.Routes {
		cmd := []string{"route", "replace", r.To}
		if r.Via != "" {
			cmd = append(cmd, "via", r.Via)
		}
		plan = append(plan, append(cmd, "dev", dev))
	}
	return plan
}

func canonicalCIDR(a string) string {
	ip, ipnet, err := net.ParseCIDR(a)
	if err != nil {
		return a
	}
	ones, _ := ipnet.Mask.Size()
	return fmt.Sprintf("%s/%d", ip, ones)
}

// resolvConf renders /etc/resolv.conf.
func resolvConf(n *networkConfig) []byte {
	var b strings.Builder
	b.WriteString("# written by the createos agent\n")
	for _, d := range n.DNS {
		b.WriteString("nameserver " + d + "\n")
	}
	if len(n.Search) > 0 {
		b.WriteString("search " + strings.Join(n.Search, " ") + "\n")
	}
	return []byte(b.String())
}

// ethernetLink finds the guest's only ethernet interface (the lowest-numbered one with a 6-byte MAC).
func ethernetLink() (linkState, error) {
	ifaces, err := net.Interfaces()
	if err != nil {
		return linkState{}, fmt.Errorf("configure: network: %w", err)
	}
	sort.Slice(ifaces, func(i, j int) bool { return ifaces[i].Index < ifaces[j].Index })
	for _, iface := range ifaces {
		if iface.Flags&net.FlagLoopback != 0 || len(iface.HardwareAddr) != 6 {
			continue
		}
		link := linkState{name: iface.Name, mac: iface.HardwareAddr.String()}
		addrs, err := iface.Addrs()
		if err != nil {
			return linkState{}, fmt.Errorf("configure: network: addresses of %s: %w", iface.Name, err)
		}
		for _, a := range addrs {
			if ipnet, ok := a.(*net.IPNet); ok && ipnet.IP.To4() != nil {
				link.addresses = append(link.addresses, ipnet.String())
			}
		}
		return link, nil
	}
	return linkState{}, &opError{"ENODEV", "configure: network: the guest has no ethernet interface"}
}

// configureNetwork applies n to the guest's ethernet interface (netlink_linux.go), then writes /etc/resolv.conf.
func (a *Agent) configureNetwork(n *networkConfig) error {
	link, err := ethernetLink()
	if err != nil {
		return err
	}
	for _, step := range networkPlan(link, n) {
		if err := applyNetworkStep(step); err != nil {
			return fmt.Errorf("configure: network: %s: %w", strings.Join(step, " "), err)
		}
	}
	if n.DNS != nil || n.Search != nil {
		return writeFileAtomic("/etc/resolv.conf", resolvConf(n), 0o644)
	}
	return nil
}
