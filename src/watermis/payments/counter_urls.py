"""Counter pages: the counter, payments, reversal, printing, day-end, waivers, waiver limits."""

from django.urls import path

from . import views

urlpatterns = [
    path("counter/", views.CounterView.as_view(), name="counter"),
    path("", views.PaymentListView.as_view(), name="payment_list"),
    path("<int:pk>/", views.PaymentDetailView.as_view(), name="payment_detail"),
    path("<int:pk>/reverse/", views.PaymentReverseView.as_view(), name="payment_reverse"),
    path("<int:pk>/print/", views.PaymentPrintView.as_view(), name="payment_print"),
    path("day-end/", views.DayEndView.as_view(), name="day_end"),
    path("waivers/", views.WaiverListView.as_view(), name="waiver_list"),
    path("waiver-limits/", views.WaiverLimitListView.as_view(), name="waiverlimit_list"),
    path("waiver-limits/add/", views.WaiverLimitEditView.as_view(), name="waiverlimit_add"),
    path(
        "waiver-limits/<int:pk>/edit/",
        views.WaiverLimitEditView.as_view(),
        name="waiverlimit_edit",
    ),
]
