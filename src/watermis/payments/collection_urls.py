from django.urls import path

from . import collection_views as views

urlpatterns = [
    path("collection/", views.CollectionView.as_view(), name="collection"),
    path("collection/ticket/", views.TicketView.as_view(), name="collection_ticket"),
    path("collection/remittances/", views.RemittanceListView.as_view(), name="remittance_list"),
    path(
        "collection/remittances/<int:pk>/",
        views.RemittanceDetailView.as_view(),
        name="remittance_detail",
    ),
    path(
        "collection/statistics/",
        views.CollectorStatisticsView.as_view(),
        name="collector_statistics",
    ),
]
