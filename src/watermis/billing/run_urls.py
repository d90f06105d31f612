"""Billing pages: bill runs and month-end."""

from django.urls import path

from . import run_views as views

urlpatterns = [
    path("runs/", views.BillRunListView.as_view(), name="run_list"),
    path("runs/start/", views.StartRunView.as_view(), name="run_start"),
    path("runs/<int:pk>/", views.BillRunDetailView.as_view(), name="run_detail"),
    path("runs/<int:pk>/resume/", views.ResumeRunView.as_view(), name="run_resume"),
    path("month-end/", views.MonthEndView.as_view(), name="month_end"),
    path("month-end/history/", views.MonthEndListView.as_view(), name="monthend_list"),
]
