"""Small deterministic PNG avatars ("identicons") for a few demo people, written without Pillow."""

from __future__ import annotations

import hashlib
import struct
import zlib

_PALETTE = (
    (0x1F, 0x77, 0xB4),
    (0x2C, 0xA0, 0x2C),
    (0xD6, 0x27, 0x28),
    (0x94, 0x67, 0xBD),
    (0x8C, 0x56, 0x4B),
    (0xE3, 0x77, 0xC2),
    (0x17, 0xBE, 0xCF),
    (0xFF, 0x7F, 0x0E),
)
_BACKGROUND = (0xF0, 0xF2, 0xF5)


def _chunk(kind: bytes, data: bytes) -> bytes:
    body = kind + data
    return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body) & 0xFFFFFFFF)


def identicon_png(seed: str, *, size: int = 64, cells: int = 5) -> bytes:
    """A ``size``×``size`` RGB PNG: a left-right symmetric ``cells``×``cells`` pattern coloured from
    the SHA-256 of ``seed``. The same seed always gives the same bytes."""
    digest = hashlib.sha256(seed.encode("utf-8")).digest()
    colour = _PALETTE[digest[0] % len(_PALETTE)]
    half = (cells + 1) // 2
    on = [[bool(digest[1 + r * half + c] & 1) for c in range(half)] for r in range(cells)]
    grid = [row + row[: cells // 2][::-1] for row in on]
    margin = size // (cells * 2)
    cell = (size - 2 * margin) // cells
    raw = bytearray()
    for y in range(size):
        raw.append(0)  # filter type: none
        gy = (y - margin) // cell if margin <= y < margin + cell * cells else -1
        for x in range(size):
            gx = (x - margin) // cell if margin <= x < margin + cell * cells else -1
            filled = gy >= 0 and gx >= 0 and grid[gy][gx]
            raw.extend(colour if filled else _BACKGROUND)
    header = struct.pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", zlib.compress(bytes(raw), 9))
        + _chunk(b"IEND", b"")
    )
