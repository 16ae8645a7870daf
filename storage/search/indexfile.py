"""One file of named numpy arrays and JSON sections: written whole under a temporary name and renamed into
place (a file under its final name is complete), read back memory-mapped, so opening it costs next to
nothing and its arrays are read from disk only where they are used.

Layout: ``MAGIC``, the header's length (8 bytes, little-endian), the header (JSON: the caller's ``meta``
and, for each part, its kind, offset and length), then the parts, each at an offset that is a multiple
of 64. Nothing in it is executed: arrays are raw little-endian numbers and sections are JSON (no pickle).
"""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path
from typing import Any, Iterable

import numpy as np

MAGIC = b"LHINDEX\n"
ALIGN = 64


class IndexFileError(ValueError):
    """The file is missing, damaged, or not of this format."""


class Array:
    """An array to write, given as chunks (so a large one need not be joined in memory first)."""

    def __init__(self, dtype: Any, chunks: Iterable[np.ndarray], length: int) -> None:
        self.dtype = np.dtype(dtype).newbyteorder("<")
        self.chunks = chunks
        self.length = length


def write(path: Path, meta: dict[str, Any], arrays: dict[str, Array | np.ndarray],
          sections: dict[str, Any]) -> None:
    """Write ``path`` atomically: ``arrays`` by name (numpy arrays or `Array` chunks), ``sections`` as JSON."""
    parts: list[tuple[str, str, Any, int]] = []  # (name, kind, data, bytes)
    for name, value in arrays.items():
        if isinstance(value, np.ndarray):
            value = Array(value.dtype, [value], len(value))
        parts.append((name, "array", value, value.length * value.dtype.itemsize))
    for name, value in sections.items():
        data = json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()
        parts.append((name, "json", data, len(data)))
    # The header holds every part's offset, and its own length moves them: lay out until it fits.
    header_room = 4096
    while True:
        offset = _aligned(len(MAGIC) + 8 + header_room)
        layout: dict[str, dict[str, Any]] = {}
        for name, kind, data, size in parts:
            entry: dict[str, Any] = {"kind": kind, "offset": offset, "bytes": size}
            if kind == "array":
                entry["dtype"], entry["length"] = data.dtype.str, data.length
            layout[name] = entry
            offset = _aligned(offset + size)
        header = json.dumps({"meta": meta, "parts": layout, "size": offset}, ensure_ascii=False).encode()
        if len(header) <= header_room:
            break
        header_room = _aligned(len(header) * 2)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    try:
        with open(partial, "wb") as out:
            out.write(MAGIC + len(header).to_bytes(8, "little") + header)
            for name, kind, data, size in parts:
                out.seek(layout[name]["offset"])
                if kind == "json":
                    out.write(data)
                    continue
                written = 0
                for chunk in data.chunks:
                    chunk = np.ascontiguousarray(chunk, dtype=data.dtype)
                    out.write(chunk.data.cast("B"))
                    written += len(chunk)
                if written != data.length:
                    raise ValueError(f"{name}: {written} values written, {data.length} announced")
            out.truncate(offset)
            out.flush()
            os.fsync(out.fileno())
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)


class IndexFile:
    """A file written by `write`, opened: ``meta``, ``array(name)`` (a read-only memory-mapped view),
    ``section(name)`` (its JSON, parsed when asked for)."""

    def __init__(self, path: Path) -> None:
        try:
            with open(path, "rb") as f:
                start = f.read(len(MAGIC) + 8)
                if len(start) != len(MAGIC) + 8 or not start.startswith(MAGIC):
                    raise IndexFileError(f"{path}: not an index file")
                length = int.from_bytes(start[len(MAGIC):], "little")
                size = os.fstat(f.fileno()).st_size
                if length > size - len(start):
                    raise IndexFileError(f"{path}: damaged (its header is longer than the file)")
                header = json.loads(f.read(length))
        except FileNotFoundError:
            raise IndexFileError(f"{path}: no such file") from None
        except (OSError, ValueError) as exc:
            raise IndexFileError(f"{path}: cannot be read: {exc}") from None
        if not isinstance(header, dict) or header.get("size") != size or not isinstance(header.get("parts"), dict):
            raise IndexFileError(f"{path}: damaged (its size is not what its header says)")
        self.path = path
        self.meta: dict[str, Any] = header.get("meta") or {}
        self._parts: dict[str, dict[str, Any]] = header["parts"]
        self._map = np.memmap(path, np.uint8, mode="r") if size else np.zeros(0, np.uint8)

    def _part(self, name: str, kind: str) -> dict[str, Any]:
        part = self._parts.get(name)
        if part is None or part.get("kind") != kind or part["offset"] + part["bytes"] > len(self._map):
            raise IndexFileError(f"{self.path}: no {kind} {name!r}")
        return part

    def array(self, name: str) -> np.ndarray:
        part = self._part(name, "array")
        dtype = np.dtype(part["dtype"])
        if part["length"] * dtype.itemsize != part["bytes"]:
            raise IndexFileError(f"{self.path}: {name} has a wrong length")
        return self._map[part["offset"]: part["offset"] + part["bytes"]].view(dtype)

    def section(self, name: str) -> Any:
        part = self._part(name, "json")
        try:
            return json.loads(bytes(self._map[part["offset"]: part["offset"] + part["bytes"]]))
        except ValueError as exc:
            raise IndexFileError(f"{self.path}: {name} is damaged: {exc}") from None


def _aligned(offset: int) -> int:
    return -(-offset // ALIGN) * ALIGN
