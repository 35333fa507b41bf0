"""The Teams app icons, drawn in code and written as PNG with zlib and struct (no image library).

The color icon (192x192) is a white ring and check mark on the accent color; the outline icon (32x32) is
the same shape in white on a transparent background, as Teams requires.
"""

from __future__ import annotations

import math
import struct
import zlib

ACCENT = (0x1F, 0x5F, 0xA8)


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def encode_png(width: int, height: int, rgba: list[bytes]) -> bytes:
    """An 8-bit RGBA PNG from rows of ``width * 4`` bytes."""
    raw = b"".join(b"\x00" + row for row in rgba)
    header = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header) + _chunk(b"IDAT", zlib.compress(raw, 9)) + _chunk(b"IEND", b"")
    )


def _segment_distance(px: float, py: float, a: tuple[float, float], b: tuple[float, float]) -> float:
    (ax, ay), (bx, by) = a, b
    dx, dy = bx - ax, by - ay
    t = max(0.0, min(1.0, ((px - ax) * dx + (py - ay) * dy) / (dx * dx + dy * dy)))
    return math.hypot(px - (ax + t * dx), py - (ay + t * dy))


def _mark(x: float, y: float) -> bool:
    """The ActionDesk mark in unit coordinates (0..1): a ring with a check inside."""
    r = math.hypot(x - 0.5, y - 0.5)
    if 0.34 <= r <= 0.42:
        return True
    check = ((0.33, 0.52), (0.45, 0.64), (0.68, 0.38))
    return min(_segment_distance(x, y, check[0], check[1]), _segment_distance(x, y, check[1], check[2])) <= 0.045


def draw(size: int, background: tuple[int, int, int] | None) -> bytes:
    rows = []
    for j in range(size):
        row = bytearray()
        for i in range(size):
            if _mark((i + 0.5) / size, (j + 0.5) / size):
                row += b"\xff\xff\xff\xff"
            elif background is None:
                row += b"\x00\x00\x00\x00"
            else:
                row += bytes((*background, 0xFF))
        rows.append(bytes(row))
    return encode_png(size, size, rows)


def color_icon() -> bytes:
    return draw(192, ACCENT)


def outline_icon() -> bytes:
    return draw(32, None)
