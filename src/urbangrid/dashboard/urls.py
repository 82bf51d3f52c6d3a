from django.urls import path

from . import views

app_name = "dashboard"

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("screen/", views.screen, name="screen"),
    path("api/summary.json", views.summary_json, name="summary_json"),
    path("api/screen.json", views.screen_json, name="screen_json"),
    path("api/feed.json", views.feed_json, name="feed_json"),
    path("api/density.json", views.density_json, name="density_json"),
    path("api/collectors.json", views.collectors_json, name="collectors_json"),
]
