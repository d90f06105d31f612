"""Meter reading pages: query."""

from django.urls import path

from . import query_views as views

urlpatterns = [
    path("abnormal/", views.AbnormalReadingListView.as_view(), name="abnormal"),
    path("history/", views.ReadingListView.as_view(), name="reading_list"),
    path("monitored/", views.MonitoredMeterListView.as_view(), name="monitored_list"),
    path("monitored/reads/", views.MonitoredReadingListView.as_view(), name="monitored_reads"),
    path("monitored/add/", views.MonitoredMeterAddView.as_view(), name="monitored_add"),
    path("monitored/<int:pk>/", views.MonitoredHistoryView.as_view(), name="monitored_history"),
    path("monitored/<int:pk>/stop/", views.MonitoredMeterStopView.as_view(), name="monitored_stop"),
    path("loss-rates/", views.LossRateView.as_view(), name="loss_rates"),
    path("loss-rates/<int:pk>/", views.LossHistoryView.as_view(), name="loss_history"),
    path("loss-rates/trend/", views.LossTrendView.as_view(), name="loss_trend"),
    path("progress/", views.ProgressView.as_view(), name="progress"),
]
