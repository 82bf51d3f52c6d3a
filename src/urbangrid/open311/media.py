"""Photos from the public: checked, then re-encoded so no metadata (EXIF, GPS) survives.

Decoding is the expensive part (a 40-megapixel PNG takes over a second and ~470 MB), so
sizes are read from the headers of all photos first and bounded before anything is decoded:
per photo `OPEN311_MAX_PHOTO_PIXELS`, per request `OPEN311_MAX_REQUEST_PIXELS`. JPEGs are
decoded at a reduced scale (`draft`) when they are larger than the published size, which
makes large camera JPEGs cheap; the limits count the pixels actually decoded.
"""

from __future__ import annotations

import io
import warnings
from collections.abc import Iterable
from dataclasses import dataclass

from django.utils.translation import gettext as _
from PIL import Image, ImageOps, UnidentifiedImageError

from .conf import conf
from .errors import Open311Error

ACCEPTED_FORMATS = {"JPEG", "PNG", "WEBP"}
_DECODE_ERRORS = (
    UnidentifiedImageError,
    Image.DecompressionBombError,
    Image.DecompressionBombWarning,
    OSError,
    SyntaxError,
    ValueError,
)


@dataclass
class _Probe:
    label: str
    content: bytes
    image: Image.Image  # opened, not decoded; JPEGs already set to their draft scale

    @property
    def pixels(self) -> int:
        return self.image.width * self.image.height


def _unreadable(label: str) -> Open311Error:
    return Open311Error(415, _("“%(name)s” is not a readable JPEG, PNG or WebP photo.") % {"name": label})


def _probe(content: bytes, label: str) -> _Probe:
    """Check size, format and structure without decoding; choose the JPEG draft scale."""
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
            if fmt not in ACCEPTED_FORMATS:
                raise Open311Error(415, _("“%(name)s” is not a JPEG, PNG or WebP photo.") % {"name": label})
            image = Image.open(io.BytesIO(content))
            if fmt == "JPEG":
                side = conf("OPEN311_PHOTO_MAX_SIDE")
                w, h = image.size
                scale = max(w, h) / side
                if scale > 1:
                    # the smallest DCT scale that still gives at least the published size
                    image.draft("RGB", (max(1, int(w / scale)), max(1, int(h / scale))))
    except _DECODE_ERRORS:
        raise _unreadable(label) from None
    probe = _Probe(label, content, image)
    if probe.pixels > conf("OPEN311_MAX_PHOTO_PIXELS"):
        raise Open311Error(413, _("“%(name)s” has too many pixels.") % {"name": label})
    return probe


def _encode(probe: _Probe) -> bytes:
    side = conf("OPEN311_PHOTO_MAX_SIDE")
    try:
        image = probe.image
        if image.mode not in ("RGB", "RGBA", "L", "LA"):
            image = image.convert("RGBA" if "transparency" in image.info or image.mode.endswith("A") else "RGB")
        image.thumbnail((side, side))  # decodes (at the draft scale), then shrinks
        image = ImageOps.exif_transpose(image)
        image = image.convert("RGB")
    except _DECODE_ERRORS:
        raise _unreadable(probe.label) from None
    out = io.BytesIO()
    image.save(out, "JPEG", quality=85, optimize=True)
    return out.getvalue()


def reencode_all(uploads: Iterable) -> list[bytes]:
    """Clean JPEGs of uploaded files (objects with `read()` and `name`): all are checked
    (bytes, format, pixels per photo and per request) before any is decoded. Raises
    Open311Error 413 (too large) or 415 (not a photo)."""
    probes = []
    for upload in uploads:
        if hasattr(upload, "seek"):
            upload.seek(0)
        probes.append(_probe(upload.read(), getattr(upload, "name", "") or "media"))
    if sum(p.pixels for p in probes) > conf("OPEN311_MAX_REQUEST_PIXELS"):
        raise Open311Error(
            413,
            _("The photos have too many pixels together (at most %(mp)d megapixels per request).")
            % {"mp": conf("OPEN311_MAX_REQUEST_PIXELS") // 1_000_000},
        )
    return [_encode(p) for p in probes]


def reencode(content: bytes, name: str = "") -> bytes:
    """A clean JPEG of one uploaded JPEG, PNG or WebP photo: orientation applied, metadata
    dropped, longest side limited. Raises Open311Error 413 (too large) or 415 (not a photo)."""
    return reencode_all([_Upload(content, name)])[0]


@dataclass
class _Upload:
    content: bytes
    name: str

    def read(self) -> bytes:
        return self.content
