package agent

import (
	"bufio"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// The stats op: the guest's own CPU, memory, disk and network figures from /proc and statfs.
func init() { ops["stats"] = (*Agent).stats }

// cpuSample is the guest's cumulative CPU time (all CPUs) at a moment.
type cpuSample struct {
	at         time.Time
	busyTicks  uint64
	totalTicks uint64 // busy, idle, iowait and steal: what the kernel's tick accounted at all
}

// cpuWindow keeps the previous /proc/stat reading, so that cpu_cores_used is an average since the last call
// (at least cpuMinWindow ago).
var cpuWindow struct {
	mu   sync.Mutex
	last *cpuSample
}

const cpuMinWindow = 250 * time.Millisecond

type statsAnswer struct {
	Type             string  `json:"type"`
	CPUCount         int     `json:"cpu_count"`
	CPUCoresUsed     float64 `json:"cpu_cores_used"`
	CPUWindowMs      int64   `json:"cpu_window_ms"`
	CPUSecondsTotal  float64 `json:"cpu_seconds_total"` // busy CPU time since boot
	MemoryTotalBytes uint64  `json:"memory_total_bytes"`
	MemoryUsedBytes  uint64  `json:"memory_used_bytes"` // total - available
	DiskTotalBytes   uint64  `json:"disk_total_bytes"`
	DiskUsedBytes    uint64  `json:"disk_used_bytes"`
	NetRxBytes       uint64  `json:"net_rx_bytes"` // all interfaces but lo
	NetTxBytes       uint64  `json:"net_tx_bytes"`
	Load1            float64 `json:"load1"`
	UptimeMs         int64   `json:"uptime_ms"`
	ManagedProcesses int     `json:"managed_processes"`
}

func (a *Agent) stats(st *stream, _ []byte) {
	ans := statsAnswer{Type: "ok", CPUCount: runtime.NumCPU(), UptimeMs: uptimeMs()}
	now, err := readCPU()
	if err != nil {
		st.failErr(err)
		return
	}
	cpuWindow.mu.Lock()
	prev := cpuWindow.last
	if prev == nil || now.at.Sub(prev.at) < cpuMinWindow {
		// No earlier reading that is old enough: measure over a short window now.
		cpuWindow.mu.Unlock()
		base := now
		if prev != nil {
			base = *prev
		}
		time.Sleep(cpuMinWindow - now.at.Sub(base.at))
		if now, err = readCPU(); err != nil {
			st.failErr(err)
			return
		}
		prev = &base
		cpuWindow.mu.Lock()
	}
	cpuWindow.last = &now
	cpuWindow.mu.Unlock()
	window := now.at.Sub(prev.at)
	ans.CPUWindowMs = window.Milliseconds()
	// Busy ticks over all ticks of the same /proc/stat, not over wall time: a short window holds only a few
	// dozen ticks, and ticks against a clock overshoot by one tick (a busy loop read 1.07 of one core).
	if total := now.totalTicks - prev.totalTicks; total > 0 {
		ans.CPUCoresUsed = float64(now.busyTicks-prev.busyTicks) / float64(total) * float64(ans.CPUCount)
	}
	ans.CPUSecondsTotal = float64(now.busyTicks) / clockTicks
	if mem, err := readMeminfo(); err == nil {
		ans.MemoryTotalBytes = mem["MemTotal"]
		ans.MemoryUsedBytes = mem["MemTotal"] - mem["MemAvailable"]
	}
	var fs syscall.Statfs_t
	if syscall.Statfs("/", &fs) == nil {
		ans.DiskTotalBytes = fs.Blocks * uint64(fs.Bsize)
		ans.DiskUsedBytes = (fs.Blocks - fs.Bfree) * uint64(fs.Bsize)
	}
	ans.NetRxBytes, ans.NetTxBytes = readNetDev()
	if b, err := os.ReadFile("/proc/loadavg"); err == nil {
		if f := strings.Fields(string(b)); len(f) > 0 {
			ans.Load1, _ = strconv.ParseFloat(f[0], 64)
		}
	}
	for _, m := range a.procs.list() {
		if !m.isTreeExited() {
			ans.ManagedProcesses++
		}
	}
	st.event(ans)
}

// clockTicks is USER_HZ, the unit of /proc/stat: 100 on every Linux architecture we run on.
const clockTicks = 100

func readCPU() (cpuSample, error) {
	f, err := os.Open("/proc/stat")
	if err != nil {
		return cpuSample{}, err
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	s.Scan()
	fields := strings.Fields(s.Text()) // cpu user nice system idle iowait irq softirq steal guest ...
	var sample cpuSample
	for i, v := range fields[1:] {
		if i >= 8 { // guest time is already in user
			break
		}
		n, _ := strconv.ParseUint(v, 10, 64)
		sample.totalTicks += n
		if i != 3 && i != 4 && i != 7 { // not idle, iowait or steal: time the guest did not run
			sample.busyTicks += n
		}
	}
	sample.at = time.Now()
	return sample, nil
}

func readMeminfo() (map[string]uint64, error) {
	b, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		return nil, err
	}
	out := map[string]uint64{}
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) >= 2 {
			n, _ := strconv.ParseUint(f[1], 10, 64)
			out[strings.TrimSuffix(f[0], ":")] = n * 1024 // kB
		}
	}
	return out, nil
}

func readNetDev() (rx, tx uint64) {
	b, err := os.ReadFile("/proc/net/dev")
	if err != nil {
		return 0, 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		name, counters, ok := strings.Cut(line, ":")
		if !ok || strings.TrimSpace(name) == "lo" {
			continue
		}
		f := strings.Fields(counters)
		if len(f) >= 9 {
			r, _ := strconv.ParseUint(f[0], 10, 64)
			t, _ := strconv.ParseUint(f[8], 10, 64)
			rx, tx = rx+r, tx+t
		}
	}
	return rx, tx
}
