"""Spans of time written the way people type them: ``1d``, ``2h``, ``1h30m``."""

from __future__ import annotations

from datetime import timedelta

UNITS = (("d", 86400), ("h", 3600), ("m", 60), ("s", 1))


def format_duration(span: int | float | timedelta, sep: str = "", zero: str = "0s") -> str:
    """``5400`` → ``1h30m`` (``sep=" "``: ``1h 30m``); whole seconds, largest unit first."""
    seconds = int(span.total_seconds() if isinstance(span, timedelta) else span)
    parts = []
    for unit, size in UNITS:
        if seconds >= size:
            parts.append(f"{seconds // size}{unit}")
            seconds %= size
    return sep.join(parts) or zero
