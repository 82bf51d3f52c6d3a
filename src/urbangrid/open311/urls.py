from django.urls import re_path

from . import views

app_name = "open311"
# The format suffix: any letters, checked (case-insensitively) by the views, so that an
# unknown format answers 400 in XML and `.JSON` works like `.json`.
_FMT = r"(?:\.(?P<fmt>[A-Za-z0-9]+))?"
_ID = r"(?P<{}>[^/]+?)" + _FMT

urlpatterns = [
    re_path(rf"^(?:v2/)?discovery{_FMT}$", views.discovery, name="discovery"),
    re_path(rf"^v2/services{_FMT}$", views.services, name="services"),
    re_path(rf"^v2/services/{_ID.format('code')}$", views.service_definition, name="service"),
    re_path(rf"^v2/requests{_FMT}$", views.requests, name="requests"),
    re_path(rf"^v2/requests/{_ID.format('request_id')}$", views.request_detail, name="request"),
    re_path(rf"^v2/tokens/{_ID.format('token')}$", views.token, name="token"),
    re_path(r"^v2/media/(?P<token>[0-9a-f]{32})\.jpg$", views.media, name="media"),
    re_path(rf"^(?P<rest>.*?){_FMT}$", views.unknown),
]
