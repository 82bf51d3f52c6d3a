from __future__ import annotations

import io

import pytest
from PIL import Image

from tests.factories import World


@pytest.fixture
def world(db, settings, tmp_path):
    from urbangrid.open311 import actions, public

    settings.MEDIA_ROOT = tmp_path / "media"
    public.clear_service_cache()
    actions._key_cache.clear()
    return World()


@pytest.fixture
def partner(world):
    """A partner application with generous limits: (application, key)."""
    from urbangrid.open311.actions import issue_application

    return issue_application("测试伙伴", rate_limit=1000, address_rate_limit=1000)


@pytest.fixture
def key(partner) -> str:
    return partner[1]


def jpeg_with_exif(size: tuple[int, int] = (64, 48)) -> bytes:
    """A JPEG carrying camera and GPS metadata, as phones write them."""
    exif = Image.Exif()
    exif[0x010F] = "SecretCamMaker"  # Make
    exif[0x0131] = "SecretSoftware"  # Software
    exif[0x8825] = {1: "N", 2: (30.0, 37.0, 48.0), 3: "E", 4: (120.0, 33.0, 1.0)}  # GPS IFD
    out = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(out, "JPEG", exif=exif.tobytes())
    return out.getvalue()
