from django.urls import path

from . import import_views

app_name = "customers_import"

urlpatterns = [
    path("", import_views.ImportView.as_view(), name="upload"),
    path("template/", import_views.TemplateFileView.as_view(), name="template"),
    path("errors/<str:token>/", import_views.ErrorReportView.as_view(), name="error_report"),
    path("export/", import_views.ExportView.as_view(), name="export"),
]
