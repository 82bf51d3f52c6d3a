from django.contrib.auth import views as auth_views
from django.urls import path

from . import desk, help, live, maps, printing, views

app_name = "web"

urlpatterns = [
    path("", views.home, name="home"),
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("password/", views.PasswordChangeView.as_view(), name="password"),
    path("todo/", views.case_list, {"kind": "todo"}, name="todo"),
    path("done/", views.case_list, {"kind": "done"}, name="done"),
    path("cases/", views.case_list, {"kind": "search"}, name="search"),
    path("export/<str:kind>.xlsx", views.export, name="export"),
    path("cases/<int:case_id>/", views.case_detail, name="case"),
    path("cases/<int:case_id>/op/<str:operation>/", views.case_operate, name="operate"),
    path("cases/<int:case_id>/print/slip/", printing.slip, name="print_slip"),
    path("cases/<int:case_id>/print/slip.pdf", printing.slip_pdf, name="print_slip_pdf"),
    path("cases/<int:case_id>/print/file/", printing.case_file, name="print_case"),
    path("cases/<int:case_id>/print/file.pdf", printing.case_file_pdf, name="print_case_pdf"),
    path("attachments/<str:token>/", views.attachment, name="attachment"),
    path("intake/", desk.intake, name="intake"),
    path("intake/geocode.json", desk.geocode_json, name="geocode"),
    path("intake/duplicates.json", desk.duplicates_json, name="duplicates"),
    path("dispatch/", desk.dispatch_desk, name="dispatch"),
    path("map/", maps.map_page, name="map"),
    path("map/grids.geojson", maps.grids_geojson, name="grids_geojson"),
    path("map/workgrids.geojson", maps.work_grids_geojson, name="workgrids_geojson"),
    path("map/cases.geojson", maps.cases_geojson, name="cases_geojson"),
    path("map/base.json", maps.base_layer, name="map_base"),
    path("map/tiles.json", maps.tiles_json, name="map_tiles"),
    path("map/heat.json", maps.heat_json, name="map_heat"),
    path("map/components.json", maps.components_json, name="map_components"),
    path("map/components/<int:component_id>.json", maps.component_json, name="map_component"),
    path("help/workflows/", help.workflows, name="workflows"),
    path("help/workflows/<str:name>.svg", help.workflow_svg, name="workflow_svg"),
    path("live/counts.json", live.counts, name="live_counts"),
]
