"""Generated test images: real files Pillow writes, in the shapes NASA serves.

Everything is deterministic (seeded by the caller), so a URL always serves the same bytes.
"""

from __future__ import annotations

import io
import random
import struct
import zlib
from functools import lru_cache

from PIL import Image

# Pixel sizes seen on apod.nasa.gov (image + hdurl) and the Mars rover cameras.
NASA_SIZES: tuple[tuple[int, int], ...] = (
    (1024, 768),
    (1024, 1024),
    (1200, 1200),
    (1280, 960),
    (1344, 1200),
    (1600, 1067),
    (1920, 1080),
    (2048, 1536),
)
EXTENSIONS = {
    "jpg": "JPEG",
    "jpeg": "JPEG",
    "png": "PNG",
    "gif": "GIF",
    "webp": "WEBP",
}
CONTENT_TYPES = {"JPEG": "image/jpeg", "PNG": "image/png", "GIF": "image/gif", "WEBP": "image/webp"}
VARIANTS = {
    "JPEG": ("baseline", "progressive", "exif", "exif_icc"),
    "PNG": ("rgb", "interlaced"),
    "GIF": ("static",),
    "WEBP": ("lossy", "lossless", "alpha"),
}
EXIF_BLOCK_BYTES = 60_000


def _pixels(width: int, height: int, noise: int, seed: int, mode: str = "RGB") -> Image.Image:
    """A gradient with ``noise`` percent of random texture (noise makes files NASA-heavy)."""
    gradient = Image.linear_gradient("L").resize((width, height)).convert(mode)
    if noise <= 0:
        return gradient
    rng = random.Random(seed)
    bands = len(mode)
    texture = Image.frombytes(mode, (width, height), rng.randbytes(width * height * bands))
    return Image.blend(gradient, texture, min(noise, 100) / 100)


@lru_cache(maxsize=128)
def make_image(
    fmt: str,
    width: int,
    height: int,
    variant: str = "",
    noise: int = 20,
    seed: int = 0,
    quality: int = 90,
) -> bytes:
    """The bytes of a ``fmt`` image of ``width`` x ``height`` in one of :data:`VARIANTS`."""
    variant = variant or VARIANTS[fmt][0]
    if variant not in VARIANTS[fmt]:
        raise ValueError(f"{fmt} has no variant {variant!r}; choose from {VARIANTS[fmt]}")
    out = io.BytesIO()
    if fmt == "JPEG":
        image = _pixels(width, height, noise, seed)
        options: dict[str, object] = {"quality": quality}
        if variant == "progressive":
            options["progressive"] = True
        if variant in ("exif", "exif_icc"):
            # The size segment (SOF) comes after every APPn block: the reader must get past it.
            exif = Image.Exif()
            exif[0x010E] = "NASA image description " + "x" * EXIF_BLOCK_BYTES  # ImageDescription
            options["exif"] = exif.tobytes()
        if variant == "exif_icc":
            options["icc_profile"] = bytes(range(256)) * 240  # 60 KB, split over APP2 blocks
        image.save(out, "JPEG", **options)
    elif fmt == "PNG":
        _pixels(width, height, noise, seed).save(
            out, "PNG", compress_level=1, interlace=variant == "interlaced"
        )
    elif fmt == "GIF":
        # The fixed web palette without dithering: an adaptive palette of a textured image
        # takes seconds, and a GIF's header is all the readers look at.
        paletted = _pixels(width, height, noise, seed).convert(
            "P", palette=Image.Palette.WEB, dither=Image.Dither.NONE
        )
        paletted.save(out, "GIF")
    elif fmt == "WEBP":
        mode = "RGBA" if variant == "alpha" else "RGB"
        _pixels(width, height, noise, seed, mode).save(
            out, "WEBP", quality=quality, lossless=variant == "lossless", method=0
        )
    else:
        raise ValueError(f"unknown format {fmt!r}")
    return out.getvalue()


def png_bomb(width: int = 50_000, height: int = 50_000) -> bytes:
    """A valid PNG of a few hundred bytes that declares ``width`` x ``height`` pixels."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)  # 8-bit greyscale
    # One compressed row of zeros is enough for a header; decoding would need gigabytes.
    idat = zlib.compress(b"\x00" * (width + 1), 9)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def endless_jpeg_prefix() -> bytes:
    """The start of a JPEG whose size segment never comes (comment blocks follow for ever)."""
    return b"\xff\xd8"


def jpeg_comment_segment() -> bytes:
    """One maximal COM segment (64 KiB) to pad an endless JPEG stream with."""
    payload = b"c" * 65533
    return b"\xff\xfe" + struct.pack(">H", len(payload) + 2) + payload
