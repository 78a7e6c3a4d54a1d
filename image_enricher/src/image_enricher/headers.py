"""Image size and format from the first bytes of a file, fed chunk by chunk.

JPEG, PNG and GIF go through Pillow's lazy ``Image.open`` with ``formats=`` limited to the
format the magic bytes announce (``ImageFile.Parser`` retries ``Image.open`` the same way,
but cannot limit the formats). WebP is parsed here: Pillow reads a whole WebP file before it
reports its size, and the size sits in the first 30 bytes of the RIFF container.
"""

from __future__ import annotations

import io
import struct
from dataclasses import dataclass

from PIL import Image, UnidentifiedImageError

from image_enricher.errors import AnalysisError, ErrorCode

FORMATS = ("JPEG", "PNG", "GIF", "WEBP")
_SNIFF_BYTES = 16  # every magic below fits


@dataclass(frozen=True)
class ImageSize:
    """What the header says: pixel size and Pillow's format name (``JPEG``, ``PNG``…)."""

    width: int
    height: int
    format: str


def sniff_format(head: bytes) -> str | None:
    """The format the magic bytes announce, or ``None`` when they match none we accept."""
    if head.startswith(b"\xff\xd8\xff"):
        return "JPEG"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "PNG"
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return "GIF"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "WEBP"
    return None


def webp_size(data: bytes) -> tuple[int, int] | None:
    """Width and height from a WebP RIFF header; ``None`` until enough bytes are in.

    Layouts (RFC 9649): ``VP8 `` lossy keeps 14-bit sizes after the start code at offset 26,
    ``VP8L`` lossless packs 14-bit ``size - 1`` values after the signature byte at 21, and
    ``VP8X`` extended stores 24-bit ``size - 1`` values at offset 24.
    """
    if len(data) < 16:
        return None
    chunk = data[12:16]
    if chunk == b"VP8 ":
        if len(data) < 30:
            return None
        if data[23:26] != b"\x9d\x01\x2a":
            raise AnalysisError(ErrorCode.NOT_AN_IMAGE, "the WebP VP8 frame header is invalid")
        width, height = struct.unpack("<HH", data[26:30])
        return width & 0x3FFF, height & 0x3FFF
    if chunk == b"VP8L":
        if len(data) < 25:
            return None
        if data[20] != 0x2F:
            raise AnalysisError(ErrorCode.NOT_AN_IMAGE, "the WebP VP8L signature is invalid")
        bits = int.from_bytes(data[21:25], "little")
        return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
    if chunk == b"VP8X":
        if len(data) < 30:
            return None
        width = int.from_bytes(data[24:27], "little") + 1
        height = int.from_bytes(data[27:30], "little") + 1
        return width, height
    raise AnalysisError(ErrorCode.NOT_AN_IMAGE, "the WebP file has an unknown first chunk")


class HeaderParser:
    """Feed the start of a file; :meth:`feed` returns the size as soon as it is known.

    Nothing is decoded: Pillow's ``open`` is lazy and stops at the frame header. The pixel
    cap is checked here (and Pillow's own ``DecompressionBombError``/``Warning`` become the
    same error), so a small file declaring a huge image is refused before anyone decodes it.
    """

    def __init__(self, max_pixels: int) -> None:
        self.max_pixels = max_pixels
        self.format: str | None = None
        self._buffer = bytearray()

    @property
    def bytes_fed(self) -> int:
        return len(self._buffer)

    def feed(self, data: bytes) -> ImageSize | None:
        """Add bytes; the size once known, ``None`` while more bytes are needed."""
        self._buffer += data
        if self.format is None:
            if len(self._buffer) < _SNIFF_BYTES:
                return None
            self.format = sniff_format(bytes(self._buffer[:_SNIFF_BYTES]))
            if self.format is None:
                raise AnalysisError(
                    ErrorCode.NOT_AN_IMAGE, "the content is not a JPEG, PNG, GIF or WebP image"
                )
        if self.format == "WEBP":
            size = webp_size(bytes(self._buffer[:32]))
            return None if size is None else self._checked(size[0], size[1], "WEBP")
        return self._try_pillow(self.format)

    def finish(self) -> ImageSize:
        """The stream ended: the size, or why there is none."""
        if self.format is None and self._buffer:
            self.format = sniff_format(bytes(self._buffer))
        if self.format is None:
            raise AnalysisError(
                ErrorCode.NOT_AN_IMAGE, "the content is not a JPEG, PNG, GIF or WebP image"
            )
        size = self.feed(b"")
        if size is None:
            raise AnalysisError(
                ErrorCode.NOT_AN_IMAGE, f"the {self.format} header is truncated or invalid"
            )
        return size

    def _try_pillow(self, fmt: str) -> ImageSize | None:
        try:
            with Image.open(io.BytesIO(self._buffer), formats=[fmt]) as image:
                width, height = image.size
                found = image.format or fmt
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            raise AnalysisError(
                ErrorCode.TOO_MANY_PIXELS, "the image declares more pixels than allowed"
            ) from None
        except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError):
            return None  # not enough bytes yet (Pillow cannot tell truncated from invalid)
        # A JPEG with a multi-picture extension opens as MPO: still a JPEG file.
        return self._checked(width, height, "JPEG" if found == "MPO" else found)

    def _checked(self, width: int, height: int, fmt: str) -> ImageSize:
        if width <= 0 or height <= 0:
            raise AnalysisError(ErrorCode.NOT_AN_IMAGE, "the image header declares no pixels")
        if width * height > self.max_pixels:
            raise AnalysisError(
                ErrorCode.TOO_MANY_PIXELS,
                f"the image declares {width}x{height} pixels, over the cap of {self.max_pixels}",
            )
        return ImageSize(width=width, height=height, format=fmt)
