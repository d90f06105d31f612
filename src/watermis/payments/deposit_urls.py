"""Prepaid-deposit pages (F4.1–F4.6, issue 9), included by payments/urls.py."""

from django.urls import path

from . import deposit_views as views

urlpatterns = [
    path("deposits/take/", views.DepositView.as_view(), name="deposit"),
    path("deposits/", views.DepositListView.as_view(), name="deposit_list"),
    path("deposits/<int:pk>/", views.DepositDetailView.as_view(), name="deposit_detail"),
    path("deposits/<int:pk>/voucher/", views.DepositVoucherView.as_view(), name="deposit_voucher"),
    path("deposits/<int:pk>/correct/", views.DepositCorrectView.as_view(), name="deposit_correct"),
    path("deposits/balances/", views.DepositBalanceListView.as_view(), name="deposit_balances"),
    path(
        "deposits/transactions/",
        views.DepositEntryListView.as_view(),
        name="deposit_transactions",
    ),
    path("deposits/transfers/", views.TransferRunListView.as_view(), name="transfer_list"),
    path(
        "deposits/transfers/<int:pk>/",
        views.TransferRunDetailView.as_view(),
        name="transfer_detail",
    ),
    path(
        "deposits/transfers/<int:pk>/report/",
        views.TransferReportView.as_view(),
        name="transfer_report",
    ),
    path(
        "deposits/transfers/<int:pk>/undo/",
        views.TransferRunUndoView.as_view(),
        name="transfer_run_undo",
    ),
    path(
        "deposits/transfer/<int:pk>/undo/",
        views.TransferUndoView.as_view(),
        name="transfer_undo",
    ),
]
