from django.urls import path

from . import views

app_name = "portal"

urlpatterns = [
    path("", views.home, name="home"),
    path("report/", views.report, name="report"),
    path("report/received/", views.receipt, name="receipt"),
    path("track/", views.track, name="track"),
    path("track/<str:number>/", views.case_detail, name="case"),
    path("track/<str:number>/rate/", views.rate, name="rate"),
    path("map.json", views.map_data, name="map"),
]
