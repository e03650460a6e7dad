package benchkit

import (
	"fmt"
	"os"
	"strconv"
	"strings"
)

// clockTicks is USER_HZ, the unit of utime/stime in /proc/PID/stat: 100 on
// every Linux architecture Go supports (the kernel ABI fixes it; sysconf
// would need cgo).
const clockTicks = 100

// Sample is one reading of a process's CPU time and memory.
type Sample struct {
	CPUSeconds float64 // utime + stime
	RSSKiB     int64   // VmRSS
	HWMKiB     int64   // VmHWM (peak RSS)
}

// ReadProc reads /proc/<pid>/stat and /proc/<pid>/status ("self" for us).
func ReadProc(pid string) (Sample, error) {
	stat, err := os.ReadFile("/proc/" + pid + "/stat")
	if err != nil {
		return Sample{}, fmt.Errorf("benchkit: read /proc/%s/stat: %w", pid, err)
	}
	cpu, err := ParseStatCPU(string(stat))
	if err != nil {
		return Sample{}, fmt.Errorf("benchkit: /proc/%s/stat: %w", pid, err)
	}
	status, err := os.ReadFile("/proc/" + pid + "/status")
	if err != nil {
		return Sample{}, fmt.Errorf("benchkit: read /proc/%s/status: %w", pid, err)
	}
	rss, hwm := ParseStatusMem(string(status))
	return Sample{CPUSeconds: cpu, RSSKiB: rss, HWMKiB: hwm}, nil
}

// ParseStatCPU returns utime+stime in seconds from a /proc/PID/stat line
// (proc(5): fields 14 and 15, counted after the parenthesised command,
// which may itself contain spaces and parentheses).
func ParseStatCPU(stat string) (float64, error) {
	i := strings.LastIndexByte(stat, ')')
	if i < 0 {
		return 0, fmt.Errorf("no command field")
	}
	f := strings.Fields(stat[i+1:])
	// f[0] is field 3 (state); utime is field 14, stime field 15.
	if len(f) < 13 {
		return 0, fmt.Errorf("%d fields after the command, want at least 13", len(f))
	}
	ut, err1 := strconv.ParseUint(f[11], 10, 64)
	st, err2 := strconv.ParseUint(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("utime %q / stime %q not numbers", f[11], f[12])
	}
	return float64(ut+st) / clockTicks, nil
}

// ParseStatusMem returns VmRSS and VmHWM in KiB from /proc/PID/status
// (0 when absent, as for kernel threads).
func ParseStatusMem(status string) (rss, hwm int64) {
	for _, line := range strings.Split(status, "\n") {
		k, v, ok := strings.Cut(line, ":")
		if !ok || (k != "VmRSS" && k != "VmHWM") {
			continue
		}
		f := strings.Fields(v)
		if len(f) == 0 {
			continue
		}
		n, err := strconv.ParseInt(f[0], 10, 64)
		if err != nil || n < 0 {
			continue
		}
		if k == "VmRSS" {
			rss = n
		} else {
			hwm = n
		}
	}
	return rss, hwm
}
