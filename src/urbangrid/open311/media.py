"""Photos from the public: checked, then re-encoded so no metadata (EXIF, GPS) survives."""

from __future__ import annotations

import io
import warnings

from django.utils.translation import gettext as _
from PIL import Image, ImageOps, UnidentifiedImageError

from .conf import conf
from .errors import Open311Error

ACCEPTED_FORMATS = {"JPEG", "PNG", "WEBP"}
#: Decoded images larger than this are refused (decompression bombs).
MAX_PIXELS = 40_000_000


def reencode(content: bytes, name: str = "") -> bytes:
    """A clean JPEG of the uploaded JPEG, PNG or WebP photo: orientation applied, metadata
    dropped, longest side limited. Raises Open311Error 413 (too large) or 415 (not a photo)."""
    label = name or "media"
    if len(content) > conf("OPEN311_MAX_MEDIA_BYTES"):
        raise Open311Error(
            413,
            _("“%(name)s” is larger than %(mb)d MB.") % {"name": label, "mb": conf("OPEN311_MAX_MEDIA_BYTES") // 2**20},
        )
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(content)) as probe:
                fmt = probe.format
                probe.verify()
            image = Image.open(io.BytesIO(content))
            if fmt not in ACCEPTED_FORMATS:
                raise Open311Error(415, _("“%(name)s” is not a JPEG, PNG or WebP photo.") % {"name": label})
            if image.width * image.height > MAX_PIXELS:
                raise Open311Error(413, _("“%(name)s” has too many pixels.") % {"name": label})
            image = ImageOps.exif_transpose(image)
            image = image.convert("RGB")
    except (UnidentifiedImageError, Image.DecompressionBombError, Image.DecompressionBombWarning, OSError, SyntaxError):
        raise Open311Error(415, _("“%(name)s” is not a readable JPEG, PNG or WebP photo.") % {"name": label}) from None
    side = conf("OPEN311_PHOTO_MAX_SIDE")
    image.thumbnail((side, side))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=85, optimize=True)
    return out.getvalue()
