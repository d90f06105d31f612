"""Billing pages: write-offs (F3.21) and bill corrections, cancel and red bills (F3.22)."""

from django.urls import path

from . import writeoff_views as views

urlpatterns = [
    path("bills/<int:pk>/write-off/", views.BillWriteOffView.as_view(), name="bill_writeoff"),
    path("bills/<int:pk>/cancel/", views.BillCancelView.as_view(), name="bill_cancel"),
    path("bills/<int:pk>/red-bill/", views.BillRedBillView.as_view(), name="bill_redbill"),
    path("write-offs/", views.WriteOffListView.as_view(), name="writeoff_list"),
    path(
        "write-offs/approvals/",
        views.WriteOffApprovalListView.as_view(),
        name="writeoff_approvals",
    ),
    path("write-offs/<int:pk>/", views.WriteOffDecisionView.as_view(), name="writeoff_detail"),
    path("red-bills/", views.RedBillRequestListView.as_view(), name="redbill_list"),
    path("red-bills/<int:pk>/", views.RedBillDecisionView.as_view(), name="redbill_detail"),
]
