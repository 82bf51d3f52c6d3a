from django.urls import path

from . import views

app_name = "mobile"

urlpatterns = [
    path("", views.home, name="home"),
    path("grids.geojson", views.my_grids, name="grids"),
    path("categories.json", views.categories, name="categories"),
    path("report/", views.report, name="report"),
    path("cases/<int:case_id>/", views.case_page, name="case"),
    path("cases/<int:case_id>/op/<str:operation>/", views.operate, name="operate"),
    path("manifest.webmanifest", views.manifest, name="manifest"),
    path("sw.js", views.service_worker, name="sw"),
]
