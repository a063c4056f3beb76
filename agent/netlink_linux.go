package agent

import (
	"encoding/binary"
	"fmt"
	"net"
	"strconv"
	"syscall"
)

// The network steps of configure, applied with rtnetlink and interface ioctls: the guest needs no iproute2
// (a template's root filesystem may not have it).

// applyNetworkStep carries out one step of networkPlan (written in ip(8) terms).
func applyNetworkStep(step []string) error {
	bad := fmt.Errorf("configure: network: unknown step %q", step)
	if len(step) < 5 {
		return bad
	}
	switch {
	case step[0] == "link" && step[4] == "down":
		return setLinkUp(step[3], false)
	case step[0] == "link" && step[4] == "up":
		return setLinkUp(step[3], true)
	case step[0] == "link" && step[4] == "address" && len(step) == 6:
		return setLinkMAC(step[3], step[5])
	case step[0] == "link" && step[4] == "mtu" && len(step) == 6:
		return setLinkMTU(step[3], step[5])
	case step[0] == "addr" && len(step) == 5:
		return changeAddress(step[1] == "add", step[2], step[4])
	case step[0] == "route" && step[1] == "replace":
		via := ""
		if step[3] == "via" {
			via = step[4]
		}
		return replaceRoute(step[2], via, step[len(step)-1])
	}
	return bad
}

// ifreq returns a struct ifreq for name with its union's first bytes set.
func ifreq(name string) (*[40]byte, int, error) {
	var ifr [40]byte
	if len(name) >= 16 {
		return nil, -1, fmt.Errorf("interface name %q too long", name)
	}
	copy(ifr[:], name)
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_DGRAM|syscall.SOCK_CLOEXEC, 0)
	return &ifr, fd, err
}

func setLinkUp(name string, up bool) error {
	ifr, fd, err := ifreq(name)
	if err != nil {
		return err
	}
	defer syscall.Close(fd)
	if err := ifreqIoctl(fd, syscall.SIOCGIFFLAGS, ifr); err != nil {
		return fmt.Errorf("get flags of %s: %w", name, err)
	}
	flags := binary.LittleEndian.Uint16(ifr[16:])
	if up {
		flags |= syscall.IFF_UP
	} else {
		flags &^= syscall.IFF_UP
	}
	binary.LittleEndian.PutUint16(ifr[16:], flags)
	if err := ifreqIoctl(fd, syscall.SIOCSIFFLAGS, ifr); err != nil {
		return fmt.Errorf("set %s up=%v: %w", name, up, err)
	}
	return nil
}

func setLinkMAC(name, mac string) error {
	hw, err := net.ParseMAC(mac)
	if err != nil {
		return err
	}
	ifr, fd, err := ifreq(name)
	if err != nil {
		return err
	}
	defer syscall.Close(fd)
	binary.LittleEndian.PutUint16(ifr[16:], syscall.ARPHRD_ETHER) // struct sockaddr: family, then the address
	copy(ifr[18:], hw)
	if err := ifreqIoctl(fd, syscall.SIOCSIFHWADDR, ifr); err != nil {
		return fmt.Errorf("set the MAC of %s to %s: %w", name, mac, err)
	}
	return nil
}

func setLinkMTU(name, value string) error {
	mtu, err := strconv.Atoi(value)
	if err != nil {
		return err
	}
	ifr, fd, err := ifreq(name)
	if err != nil {
		return err
	}
	defer syscall.Close(fd)
	binary.LittleEndian.PutUint32(ifr[16:], uint32(mtu))
	if err := ifreqIoctl(fd, syscall.SIOCSIFMTU, ifr); err != nil {
		return fmt.Errorf("set the MTU of %s to %d: %w", name, mtu, err)
	}
	return nil
}

func changeAddress(add bool, cidr, dev string) error {
	ip, ipnet, err := net.ParseCIDR(cidr)
	if err != nil {
		return err
	}
	iface, err := net.InterfaceByName(dev)
	if err != nil {
		return err
	}
	ones, _ := ipnet.Mask.Size()
	msg := make([]byte, 8) // struct ifaddrmsg
	msg[0] = syscall.AF_INET
	msg[1] = byte(ones)
	binary.LittleEndian.PutUint32(msg[4:], uint32(iface.Index))
	msg = append(msg, rtattr(syscall.IFA_LOCAL, ip.To4())...)
	msg = append(msg, rtattr(syscall.IFA_ADDRESS, ip.To4())...)
	typ, flags := uint16(syscall.RTM_DELADDR), 0
	if add {
		typ, flags = syscall.RTM_NEWADDR, syscall.NLM_F_CREATE|syscall.NLM_F_REPLACE
	}
	if err := netlinkRequest(typ, flags, msg); err != nil {
		return fmt.Errorf("%s address %s on %s: %w", map[bool]string{true: "add", false: "delete"}[add], cidr, dev, err)
	}
	return nil
}

func replaceRoute(dst, via, dev string) error {
	iface, err := net.InterfaceByName(dev)
	if err != nil {
		return err
	}
	var dstIP net.IP
	ones := 0
	if dst != "default" {
		var ipnet *net.IPNet
		if _, ipnet, err = net.ParseCIDR(dst); err != nil {
			return err
		}
		dstIP = ipnet.IP.To4()
		ones, _ = ipnet.Mask.Size()
	}
	msg := make([]byte, 12) // struct rtmsg
	msg[0] = syscall.AF_INET
	msg[1] = byte(ones)
	msg[4] = syscall.RT_TABLE_MAIN
	msg[5] = syscall.RTPROT_BOOT
	msg[6] = syscall.RT_SCOPE_LINK
	if via != "" {
		msg[6] = syscall.RT_SCOPE_UNIVERSE
	}
	msg[7] = syscall.RTN_UNICAST
	if ones > 0 {
		msg = append(msg, rtattr(syscall.RTA_DST, dstIP)...)
	}
	if via != "" {
		msg = append(msg, rtattr(syscall.RTA_GATEWAY, net.ParseIP(via).To4())...)
	}
	oif := make([]byte, 4)
	binary.LittleEndian.PutUint32(oif, uint32(iface.Index))
	msg = append(msg, rtattr(syscall.RTA_OIF, oif)...)
	if err := netlinkRequest(syscall.RTM_NEWROUTE, syscall.NLM_F_CREATE|syscall.NLM_F_REPLACE, msg); err != nil {
		return fmt.Errorf("route %s via %q dev %s: %w", dst, via, dev, err)
	}
	return nil
}

func rtattr(typ uint16, data []byte) []byte {
	b := make([]byte, 4, 4+len(data)+3)
	binary.LittleEndian.PutUint16(b, uint16(4+len(data)))
	binary.LittleEndian.PutUint16(b[2:], typ)
	b = append(b, data...)
	for len(b)%4 != 0 {
		b = append(b, 0)
	}
	return b
}

// netlinkRequest sends one rtnetlink request and waits for its acknowledgement.
func netlinkRequest(typ uint16, flags int, body []byte) error {
	fd, err := syscall.Socket(syscall.AF_NETLINK, syscall.SOCK_RAW|syscall.SOCK_CLOEXEC, syscall.NETLINK_ROUTE)
	if err != nil {
		return err
	}
	defer syscall.Close(fd)
	if err := syscall.Bind(fd, &syscall.SockaddrNetlink{Family: syscall.AF_NETLINK}); err != nil {
		return err
	}
	const seq = 1
	msg := make([]byte, syscall.NLMSG_HDRLEN, syscall.NLMSG_HDRLEN+len(body))
	binary.LittleEndian.PutUint32(msg[0:], uint32(syscall.NLMSG_HDRLEN+len(body)))
	binary.LittleEndian.PutUint16(msg[4:], typ)
	binary.LittleEndian.PutUint16(msg[6:], uint16(flags|syscall.NLM_F_REQUEST|syscall.NLM_F_ACK))
	binary.LittleEndian.PutUint32(msg[8:], seq)
	msg = append(msg, body...)
	if err := syscall.Sendto(fd, msg, 0, &syscall.SockaddrNetlink{Family: syscall.AF_NETLINK}); err != nil {
		return err
	}
	buf := make([]byte, 8192)
	for {
		n, _, err := syscall.Recvfrom(fd, buf, 0)
		if err != nil {
			return err
		}
		msgs, err := syscall.ParseNetlinkMessage(buf[:n])
		if err != nil {
			return err
		}
		for _, m := range msgs {
			if m.Header.Seq != seq || m.Header.Type != syscall.NLMSG_ERROR || len(m.Data) < 4 {
				continue
			}
			if code := int32(binary.LittleEndian.Uint32(m.Data[0:4])); code != 0 {
				return syscall.Errno(-code)
			}
			return nil
		}
	}
}
