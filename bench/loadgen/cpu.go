package main

import (
	"os"
	"strconv"
	"strings"
	"time"
)

// The machine may be shared: cpuMeter measures how much CPU processes other
// than the benchmark's own (this process, gatehouse, the baseline) used
// while a scenario ran, from /proc/stat and /proc/PID/stat. Linux only;
// elsewhere it reports 0.
type cpuMeter struct {
	pids  []int
	start time.Time
	busy  uint64 // all processes' busy ticks at start
	ours  uint64 // the benchmark's ticks at start
}

const clockTicks = 100 // USER_HZ, 100 on every Linux this runs on

func newCPUMeter(pids ...int) *cpuMeter {
	m := &cpuMeter{pids: append([]int{os.Getpid()}, pids...), start: time.Now()}
	m.busy, m.ours = machineBusy(), m.oursNow()
	return m
}

func (m *cpuMeter) oursNow() uint64 {
	var t uint64
	for _, pid := range m.pids {
		t += procTicks(pid)
	}
	return t
}

// foreign is the CPU used by other processes since the meter started, in
// CPUs (1.0 = one core kept busy the whole time).
func (m *cpuMeter) foreign() float64 {
	busy, ours := machineBusy(), m.oursNow()
	el := time.Since(m.start).Seconds()
	if busy == 0 || el <= 0 || busy < m.busy {
		return 0
	}
	other := float64(busy-m.busy) - float64(ours-m.ours)
	return max(0, other/clockTicks/el)
}

// machineBusy sums the non-idle ticks of every CPU (the "cpu" line).
func machineBusy() uint64 {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0
	}
	line, _, _ := strings.Cut(string(b), "\n")
	f := strings.Fields(line)
	if len(f) < 9 || f[0] != "cpu" {
		return 0
	}
	var busy uint64
	for i, v := range f[1:9] { // user nice system idle iowait irq softirq steal
		if i == 3 || i == 4 {
			continue
		}
		n, _ := strconv.ParseUint(v, 10, 64)
		busy += n
	}
	return busy
}

// procTicks is a process's utime + stime (and its waited-for children's).
func procTicks(pid int) uint64 {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0
	}
	// The command name may hold spaces: fields start after its ')'.
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0
	}
	f := strings.Fields(s[i+1:])
	// f[0] is field 3 (state); utime, stime, cutime, cstime are 14..17.
	if len(f) < 15 {
		return 0
	}
	var t uint64
	for _, k := range []int{11, 12, 13, 14} {
		n, _ := strconv.ParseUint(f[k], 10, 64)
		t += n
	}
	return t
}
