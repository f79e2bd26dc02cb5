"""A write-only byte buffer that exporters write into and drain between batches, so output streams in chunks.

It has tell() but no seek(): zipfile then writes an XLSX in streaming mode (data descriptors), never rewinding.
"""
from __future__ import annotations


class ChunkSink:
    def __init__(self) -> None:
        self._parts: list[bytes] = []
        self._size = 0

    def write(self, data: bytes) -> int:
        if data:
            self._parts.append(bytes(data))
            self._size += len(data)
        return len(data)

    def tell(self) -> int:
        return self._size

    def flush(self) -> None:
        pass

    def drain(self) -> bytes:
        """What was written since the last drain."""
        out = b"".join(self._parts)
        self._parts.clear()
        return out
