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


def run_cleanly(work, workdir, stop, log, keep: bool = False) -> int:
    """A benchmark's body ``work()`` with what it starts stopped whatever happens: ``stop()`` after success, an
    error (printed, with the tail of each ``workdir/*/*.log``), Ctrl-C or SIGTERM, and not cut short by a second
    Ctrl-C; then ``workdir`` removed unless ``keep``. Returns the exit code: 0, 1 after an error, 130 interrupted.
    (Its modules are imported here, not by the processes that import this file to measure themselves.)"""
    import shutil
    import signal
    import traceback

    def on_term(_signum, _frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_term)  # stop everything as on Ctrl-C
    signal.signal(signal.SIGINT, signal.default_int_handler)  # even when started with SIGINT ignored
    code = 0
    try:
        work()
    except KeyboardInterrupt:
        log("interrupted")
        code = 130
    except Exception as exc:
        log(f"failed: {exc!r}")
        traceback.print_exc()
        for path in sorted(workdir.glob("*/*.log")):
            log(f"--- tail of {path}:\n{path.read_text(errors='replace')[-2000:]}")
        code = 1
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not leave servers behind
        stop()
        signal.signal(signal.SIGINT, signal.default_int_handler)
        if keep:
            log(f"kept {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    return code
