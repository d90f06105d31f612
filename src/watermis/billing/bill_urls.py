"""Billing pages: bills, accounts and ledger entries (read only)."""

from django.urls import path

from . import bill_views as views

urlpatterns = [
    path("bills/", views.BillListView.as_view(), name="bill_list"),
    path("bills/paid/", views.PaidBillListView.as_view(), name="paid_bills"),
    path("bills/arrears/", views.ArrearsListView.as_view(), name="arrears"),
    path("bills/<int:pk>/", views.BillDetailView.as_view(), name="bill_detail"),
    path("accounts/<int:pk>/", views.AccountDetailView.as_view(), name="account_detail"),
    path("entries/", views.LedgerEntryListView.as_view(), name="entry_list"),
]
