from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from urbangrid.catalog.models import Category, CategoryKind, Component
from urbangrid.core.models import User

from .conftest import grid_centre
from .test_importing import as_csv, survey_rows

IMPORT_URL = "/admin/catalog/component/import/"


@pytest.fixture
def admin_client(client, db):
    client.force_login(User.objects.create_superuser("root", "root@example.org", None))
    return client


def test_import_view_shows_row_errors(admin_client, categories, grids):
    assert reverse("admin:catalog_component_import") == IMPORT_URL
    assert IMPORT_URL in admin_client.get(reverse("admin:catalog_component_changelist")).content.decode()
    assert admin_client.get(IMPORT_URL).status_code == 200

    upload = SimpleUploadedFile("survey.csv", as_csv(survey_rows()), content_type="text/csv")
    response = admin_client.post(IMPORT_URL, {"file": upload, "crs": "WGS84", "atomic": "on"})
    page = response.content.decode()
    assert response.status_code == 200
    assert "Unknown component class code 9999." in page and "0 of 10 rows imported, 9 rows rejected." in page
    assert not Component.objects.exists()

    upload = SimpleUploadedFile("survey.csv", as_csv(survey_rows()), content_type="text/csv")
    admin_client.post(IMPORT_URL, {"file": upload, "crs": "WGS84"})
    assert Component.objects.count() == 1  # departments W1/W2 do not exist here: only row 3 is good


def test_import_needs_add_permission(client, db):
    client.force_login(User.objects.create_user("clerk", password=None, is_staff=True))
    assert client.get(IMPORT_URL).status_code == 403


def test_component_pages(admin_client, categories, grids):
    lon, lat = grid_centre(2)
    lamp = Category.objects.get(kind=CategoryKind.COMPONENT, code="0118")
    response = admin_client.post(reverse("admin:catalog_component_add"), {
        "obj_id": "", "category": lamp.pk, "name": "路灯", "state": "intact", "lon": lon, "lat": lat,
        "address": "", "data_source": "", "note": "",
    })
    assert response.status_code == 302, response.context["adminform"].form.errors
    component = Component.objects.get()
    assert (component.obj_id, component.unit_grid) == ("3304020118000001", grids[2])
    page = admin_client.get(reverse("admin:catalog_component_change", args=[component.pk])).content.decode()
    assert "<svg" in page
    major = Category.objects.get(kind=CategoryKind.COMPONENT, code="01", parent=None)
    traffic = Category.objects.get(kind=CategoryKind.COMPONENT, code="02", parent=None)
    listing = admin_client.get(reverse("admin:catalog_component_changelist"), {"major": major.pk})
    assert "3304020118000001" in listing.content.decode()
    listing = admin_client.get(reverse("admin:catalog_component_changelist"), {"major": traffic.pk})
    assert "3304020118000001" not in listing.content.decode()
    categories_page = admin_client.get(reverse("admin:catalog_category_changelist"), {"major": major.pk, "q": "井盖"})
    assert "上水井盖" in categories_page.content.decode()


def test_component_form_rejects_foreign_identifier(admin_client, categories, grids):
    lon, lat = grid_centre(0)
    cover = Category.objects.get(kind=CategoryKind.COMPONENT, code="0101")
    response = admin_client.post(reverse("admin:catalog_component_add"), {
        "obj_id": "3304020118000001", "category": cover.pk, "state": "intact", "lon": lon + 1, "lat": lat,
    })
    errors = response.context["adminform"].form.errors
    assert "class code in the identifier" in str(errors["obj_id"]) and "outside" in str(errors["lon"])
