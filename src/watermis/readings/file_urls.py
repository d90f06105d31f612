"""Meter reading pages: handheld files (F2.3)."""

from django.urls import path

from . import file_views

urlpatterns = [
    path("files/", file_views.FileDownloadView.as_view(), name="file_download"),
    path("files/upload/", file_views.FileUploadView.as_view(), name="file_upload"),
    path(
        "files/errors/<str:token>/",
        file_views.FileErrorReportView.as_view(),
        name="file_error_report",
    ),
]
