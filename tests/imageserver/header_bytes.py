"""How many leading bytes a file needs before its size can be known, from its structure.

The reference the tests and the benchmark compare ``bytes_read`` with. It is not found by
bisecting with Pillow: a prefix can open by luck (a JPEG cut exactly after its size segment
opens, while one cut a few bytes later, in the middle of the next segment, does not), so the
needed length is where every longer prefix opens: the end of the JPEG SOS header, the start
of the first PNG IDAT chunk, the GIF image descriptor plus its LZW byte, 30 bytes of WebP.
"""

from __future__ import annotations

import struct


def header_bytes(data: bytes) -> int:
    """Leading bytes after which Pillow (or our WebP reader) always knows the size."""
    if data.startswith(b"\xff\xd8"):
        return _jpeg(data)
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return _png(data)
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return _gif(data)
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return 30
    raise ValueError("not a JPEG, PNG, GIF or WebP file")


def _jpeg(data: bytes) -> int:
    offset = 2
    while offset + 4 <= len(data):
        while data[offset + 1] == 0xFF:  # fill bytes before a marker
            offset += 1
        marker = data[offset + 1]
        (length,) = struct.unpack(">H", data[offset + 2 : offset + 4])
        if marker == 0xDA:  # start of scan: Pillow stops after its header
            return offset + 2 + length
        offset += 2 + length
    raise ValueError("JPEG without a start-of-scan segment")


def _png(data: bytes) -> int:
    offset = 8
    while offset + 8 <= len(data):
        length, kind = struct.unpack(">I4s", data[offset : offset + 8])
        if kind == b"IDAT":
            return offset + 8
        offset += 12 + length
    raise ValueError("PNG without an IDAT chunk")


def _gif(data: bytes) -> int:
    offset = 13
    if data[10] & 0x80:
        offset += 3 * 2 ** ((data[10] & 7) + 1)
    while offset < len(data):
        if data[offset] == 0x21:  # extension: label, then sub-blocks up to a zero size
            offset += 2
            while data[offset]:
                offset += data[offset] + 1
            offset += 1
        elif data[offset] == 0x2C:  # image descriptor, local palette, LZW code size
            flags = data[offset + 9]
            offset += 10
            if flags & 0x80:
                offset += 3 * 2 ** ((flags & 7) + 1)
            return offset + 1
        else:
            raise ValueError(f"unexpected GIF block 0x{data[offset]:02x}")
    raise ValueError("GIF without an image descriptor")
