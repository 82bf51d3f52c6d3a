from django.urls import path

from . import views

app_name = "evaluation"

urlpatterns = [
    path("report/", views.report, name="report"),
    path("report.xlsx", views.report_xlsx, name="report_xlsx"),
    path("report.pdf", views.report_pdf, name="report_pdf"),
    path("bulletin/", views.bulletin, name="bulletin"),
    path("bulletin.pdf", views.bulletin_pdf, name="bulletin_pdf"),
    path("scores/", views.scores, name="scores"),
    path("scores/publish/", views.scores_publish, name="scores_publish"),
    path("scores.xlsx", views.scores_xlsx, name="scores_xlsx"),
]
