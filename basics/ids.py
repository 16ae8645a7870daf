"""Stable transaction ids: the same thing sent again gets the same id, so the homeserver drops the repeat."""

from __future__ import annotations

import hashlib


def txn_id(key: str, index: int | None = None, kind: str | None = None) -> str:
    """``lh-[<kind>-]<32 hex of sha256(key)>[-<index>]``: the form every send, redaction and planned message
    has always used (stored ids stay valid)."""
    digest = hashlib.sha256(key.encode()).hexdigest()[:32]
    return (f"lh-{kind}-" if kind else "lh-") + digest + (f"-{index}" if index is not None else "")
