"""Meter reading pages: entry."""

from django.urls import path

from . import views

urlpatterns = [
    path("periods/", views.ReadingPeriodListView.as_view(), name="period_list"),
    path("periods/open/", views.OpenPeriodsView.as_view(), name="period_open"),
    path("periods/<int:pk>/", views.PeriodEntryView.as_view(), name="period_detail"),
    path("periods/<int:pk>/close/", views.ClosePeriodView.as_view(), name="period_close"),
    path("entry/", views.AccountEntryView.as_view(), name="account_entry"),
    path("reads/<int:pk>/", views.ReadingDetailView.as_view(), name="reading_detail"),
    path("reads/<int:pk>/enter/", views.ReadingEnterView.as_view(), name="reading_enter"),
    path("reads/<int:pk>/confirm/", views.ReadingConfirmView.as_view(), name="reading_confirm"),
    path("reads/<int:pk>/estimate/", views.ReadingEstimateView.as_view(), name="reading_estimate"),
    path("reads/<int:pk>/interim/", views.ReadingInterimView.as_view(), name="reading_interim"),
    path("reads/<int:pk>/split/", views.ReadingSplitView.as_view(), name="reading_split"),
]
