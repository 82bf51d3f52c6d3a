from django.conf import settings
from django.contrib import admin
from django.urls import include, path

from urbangrid.api.main import api
from urbangrid.web.views import favicon

admin.site.site_header = settings.ADMIN_SITE_TITLE
admin.site.site_title = settings.ADMIN_SITE_TITLE

urlpatterns = [
    path("i18n/", include("django.conf.urls.i18n")),
    # browsers ask for /favicon.ico on every page (the admin's too): answer with the static icon
    path("favicon.ico", favicon, name="favicon"),
    path("admin/", admin.site.urls),
    path("api/v1/", api.urls),
    path("open311/", include("urbangrid.open311.urls")),
    path("portal/", include("urbangrid.portal.urls")),
    path("m/", include("urbangrid.mobile.urls")),
    path("evaluation/", include("urbangrid.evaluation.urls")),
    path("dashboard/", include("urbangrid.dashboard.urls")),
    path("", include("urbangrid.web.urls")),
]
