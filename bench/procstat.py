"""A process's memory as the benchmarks read it (standard library only: the memory benchmark measures the
process that imports this)."""

from __future__ import annotations

import math

GOAL_RSS_MB = 100.0  # the bot's RSS goal (issue 2), with an empty archive as in ping_roundtrip.py


def rss_mb(pid: int | str = "self") -> tuple[float, float]:
    """Current and peak (VmHWM) resident set size in MB."""
    fields: dict[str, float] = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            key, _, value = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                fields[key] = int(value.split()[0]) / 1024
    return fields.get("VmRSS", math.nan), fields.get("VmHWM", math.nan)
