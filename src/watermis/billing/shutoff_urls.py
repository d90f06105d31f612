"""Billing pages: the shutoff and restore lists (F6.4)."""

from django.urls import path

from . import shutoff_views as views

urlpatterns = [
    path("shutoff/", views.ShutoffListView.as_view(), name="shutoff_list"),
    path("shutoff/meter/<int:pk>/", views.RecordView.as_view(), name="shutoff_record"),
    path("shutoff/restore/", views.RestoreListView.as_view(), name="restore_list"),
    path(
        "shutoff/restore/meter/<int:pk>/",
        views.RecordView.as_view(restore=True),
        name="restore_record",
    ),
]
