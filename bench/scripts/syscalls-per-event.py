#!/usr/bin/env python3
"""Syscalls per delivered durable event.

syscalls-per-event.py PERF_TRACE_SUMMARY BENCH_PROGRESS FROM_MS TO_MS

PERF_TRACE_SUMMARY is `perf trace -s -p PID` output (per thread; summed
here by syscall name). BENCH_PROGRESS is dispatch-bench's progress output
(lines with unix_ms= and durable=); the durable events received between
FROM_MS and TO_MS (unix ms, the trace's window) are interpolated from it.
"""
import re
import sys
from collections import Counter


def durable_at(points, t):
    """Linear interpolation of the durable count at unix ms t."""
    for (t0, d0), (t1, d1) in zip(points, points[1:]):
        if t0 <= t <= t1:
            return d0 + (d1 - d0) * (t - t0) / (t1 - t0)
    raise SystemExit(f"time {t} outside the bench's progress lines")


def main():
    trace, progress, t_from, t_to = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    calls, ms = Counter(), Counter()
    row = re.compile(r"^\s+([a-z_0-9]+)\s+(\d+)\s+(\d+)\s+([\d.]+)\s")
    for line in open(trace):
        m = row.match(line)
        if m:
            calls[m.group(1)] += int(m.group(2))
            ms[m.group(1)] += float(m.group(4))
    points = []
    for line in open(progress):
        m = re.search(r"unix_ms=(\d+) .*durable=(\d+)", line)
        if m:
            points.append((int(m.group(1)), int(m.group(2))))
    events = durable_at(points, t_to) - durable_at(points, t_from)
    total = sum(calls.values())
    print(f"window {(t_to - t_from) / 1000:.1f} s, {events:.0f} durable events received, "
          f"{total} syscalls = {total / events:.3f} per event")
    print(f"{'syscall':<20}{'calls':>10}{'per event':>11}{'ms in call':>12}")
    for name, n in calls.most_common():
        if n / events >= 0.001:
            print(f"{name:<20}{n:>10}{n / events:>11.3f}{ms[name]:>12.1f}")


if __name__ == "__main__":
    main()
