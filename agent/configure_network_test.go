package agent

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"syscall"
	"testing"
)

func TestNetworkValidateNamesTheBadField(t *testing.T) {
	cases := map[string]networkConfig{
		"bad mac":                 {MAC: "02:zz:00:00:00:01"},
		"bad address":             {Addresses: []string{"10.0.0.1"}},
		"bad gateway":             {Gateway: "10.0.0"},
		"bad route destination":   {Routes: []routeConfig{{To: "nowhere"}}},
		"bad dns server":          {DNS: []string{"::g"}},
		"bad search domain":       {Search: []string{"a b"}},
		"mtu 70000 is outside":    {MTU: 70000},
		"bad route gateway":       {Routes: []routeConfig{{To: "10.1.0.0/24", Via: "x"}}},
		"want IPv4 CIDR notation": {Addresses: []string{"fd00::1/64"}},
	}
	for want, cfg := range cases {
		err := cfg.validate()
		if err == nil || !strings.Contains(err.Error(), want) || errorCode(err) != "EINVAL" {
			t.Errorf("%+v: got %v, want EINVAL mentioning %q", cfg, err, want)
		}
	}
	ok := networkConfig{MAC: "02:c5:0a:c8:00:06", Addresses: []string{"10.200.0.6/30"}, Gateway: "10.200.0.5",
		Routes: []routeConfig{{To: "10.77.0.0/24"}}, DNS: []string{"10.200.0.5"}, Search: []string{"fc.local"}, MTU: 1500}
	if err := ok.validate(); err != nil {
		t.Fatalf("valid config rejected: %v", err)
	}
}

func TestNetworkPlanReplacesTheOldIdentity(t *testing.T) {
	// A fork restored from its source: old MAC, old address, plus a private network address it keeps.
	link := linkState{name: "eth0", mac: "02:c5:0a:c8:00:02", addresses: []string{"10.200.0.2/30", "10.201.0.2/24"}}
	cfg := networkConfig{MAC: "02:C5:0A:C8:00:06", Addresses: []string{"10.200.0.6/30", "10.201.0.2/24"},
		Gateway: "10.200.0.5", Routes: []routeConfig{{To: "10.9.0.0/16", Via: "10.200.0.5"}}}
	want := [][]string{
		{"link", "set", "dev", "eth0", "down"},
		{"link", "set", "dev", "eth0", "address", "02:c5:0a:c8:00:06"},
		{"addr", "del", "10.200.0.2/30", "dev", "eth0"},
		{"addr", "add", "10.200.0.6/30", "dev", "eth0"},
		{"link", "set", "dev", "eth0", "up"},
		{"route", "replace", "default", "via", "10.200.0.5", "dev", "eth0"},
		{"route", "replace", "10.9.0.0/16", "via", "10.200.0.5", "dev", "eth0"},
	}
	if got := networkPlan(link, &cfg); !reflect.DeepEqual(got, want) {
		t.Fatalf("plan:\n got %q\nwant %q", got, want)
	}
}

func TestNetworkPlanKeepsAnUnchangedLinkUp(t *testing.T) {
	link := linkState{name: "eth0", mac: "02:c5:0a:c8:00:02", addresses: []string{"10.200.0.2/30"}}
	cfg := networkConfig{MAC: "02:c5:0a:c8:00:02", Addresses: []string{"10.200.0.2/30", "10.201.0.3/24"}}
	want := [][]string{
		{"addr", "add", "10.201.0.3/24", "dev", "eth0"},
		{"link", "set", "dev", "eth0", "up"},
	}
	if got := networkPlan(link, &cfg); !reflect.DeepEqual(got, want) {
		t.Fatalf("plan:\n got %q\nwant %q", got, want)
	}
}

func TestResolvConf(t *testing.T) {
	got := string(resolvConf(&networkConfig{DNS: []string{"10.200.0.1"}, Search: []string{"fc.local"}}))
	if !strings.Contains(got, "nameserver 10.200.0.1\n") || !strings.Contains(got, "search fc.local\n") {
		t.Fatalf("resolv.conf:\n%s", got)
	}
}

// Issue 18: on a full disk a resume or fork failed in configure (ENOSPC writing /etc/hostname).
func TestConfigureFilesAreWrittenOnAFullDisk(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("mounting a tmpfs needs root")
	}
	dir := t.TempDir()
	if err := syscall.Mount("tmpfs", dir, "tmpfs", 0, "size=64k"); err != nil {
		t.Skipf("cannot mount a tmpfs: %v", err)
	}
	defer syscall.Unmount(dir, 0)
	path := filepath.Join(dir, "hostname")
	if err := writeFileAtomic(path, []byte("parent\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	filler, _ := os.Create(filepath.Join(dir, "filler"))
	for {
		if _, err := filler.Write(make([]byte, 4096)); err != nil {
			break // full
		}
	}
	filler.Close()
	if err := replaceFile(path, []byte("fork\n"), 0o644); !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("the disk is not full: %v", err)
	}
	if err := writeFileAtomic(path, []byte("parent\n"), 0o644); err != nil {
		t.Fatalf("unchanged content on a full disk: %v", err)
	}
	if err := writeFileAtomic(path, []byte("fork\n"), 0o644); err != nil {
		t.Fatalf("new content on a full disk: %v", err)
	}
	if b, _ := os.ReadFile(path); string(b) != "fork\n" {
		t.Fatalf("hostname file holds %q", b)
	}
}
