"""Bank collection pages (F3.23), included by payments/urls.py."""

from django.urls import path

from . import bank_views as views

urlpatterns = [
    path("bank/", views.BatchListView.as_view(), name="batch_list"),
    path("bank/generate/", views.BatchGenerateView.as_view(), name="batch_generate"),
    path("bank/<int:pk>/", views.BatchDetailView.as_view(), name="batch_detail"),
    path("bank/<int:pk>/file/", views.BatchFileView.as_view(), name="batch_file"),
    path("bank/<int:pk>/result/", views.BatchResultView.as_view(), name="batch_result"),
    path("bank/<int:pk>/report/", views.BatchReportView.as_view(), name="batch_report"),
    path("bank/<int:pk>/slips/", views.BatchSlipsView.as_view(), name="batch_slips"),
    path("bank/<int:pk>/cancel/", views.BatchCancelView.as_view(), name="batch_cancel"),
    path(
        "bank/errors/<str:token>/",
        views.BatchErrorReportView.as_view(),
        name="batch_error_report",
    ),
    path("bank/banks/", views.BankListView.as_view(), name="bank_list"),
    path("bank/banks/add/", views.BankEditView.as_view(), name="bank_add"),
    path("bank/banks/<int:pk>/", views.BankDetailView.as_view(), name="bank_detail"),
    path("bank/banks/<int:pk>/edit/", views.BankEditView.as_view(), name="bank_edit"),
]
