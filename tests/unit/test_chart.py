"""The standard-library PNG chart decodes as a real PNG and draws what it claims."""

import struct
import zlib

from steps.chart import RED, Chart, Point, RefLine, Series


def decode(png: bytes) -> tuple[int, int, bytes]:
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, size = 8, b"", None
    while pos < len(png):
        (length,) = struct.unpack(">I", png[pos : pos + 4])
        kind, data = png[pos + 4 : pos + 8], png[pos + 8 : pos + 8 + length]
        (crc,) = struct.unpack(">I", png[pos + 8 + length : pos + 12 + length])
        assert crc == zlib.crc32(kind + data) & 0xFFFFFFFF
        if kind == b"IHDR":
            size = struct.unpack(">II", data[:8])
        elif kind == b"IDAT":
            idat += data
        pos += 12 + length
    return size[0], size[1], zlib.decompress(idat)


def pixel(raw: bytes, width: int, x: int, y: int) -> tuple[int, int, int]:
    row = y * (width * 3 + 1) + 1
    return tuple(raw[row + x * 3 : row + x * 3 + 3])


def test_chart_is_a_valid_png_with_the_reference_line():
    chart = Chart(
        "t", "x", "y", [Series("s", (0, 0, 255), [Point(1, 1, "a", True), Point(2, 3, "b")])], [RefLine(2.0, "SLA")]
    )
    width, height, raw = decode(chart.png())
    assert (width, height) == (900, 560)
    assert len(raw) == height * (width * 3 + 1)
    reds = [y for y in range(height) if sum(pixel(raw, width, x, y) == RED for x in range(100, 800)) > 200]
    assert reds, "no dashed SLA line found"
