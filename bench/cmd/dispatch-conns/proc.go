package main

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"strings"
)

// readStatus reads resident memory and thread count from /proc/PID/status.
func readStatus(pid int) (memory, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return memory{}, err
	}
	defer f.Close()
	var m memory
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		key, val, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		fields := strings.Fields(val)
		if len(fields) == 0 {
			continue
		}
		n, err := strconv.ParseInt(fields[0], 10, 64)
		if err != nil {
			continue
		}
		switch key {
		case "VmRSS":
			m.rss = n << 10 // kB
		case "RssAnon":
			m.anon = n << 10
		case "Threads":
			m.threads = n
		}
	}
	if err := sc.Err(); err != nil {
		return m, err
	}
	if m.rss == 0 {
		return m, fmt.Errorf("no VmRSS in /proc/%d/status", pid)
	}
	return m, nil
}
