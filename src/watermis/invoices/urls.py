"""Invoice pages: invoices, issuing, stock and numbers, kinds and tax codes."""

from django.urls import path

from . import views

app_name = "invoices"

urlpatterns = [
    path("", views.InvoiceListView.as_view(), name="invoice_list"),
    path("<int:pk>/", views.InvoiceDetailView.as_view(), name="invoice_detail"),
    path("<int:pk>/void/", views.InvoiceVoidView.as_view(), name="invoice_void"),
    path("<int:pk>/reprint/", views.InvoiceReprintView.as_view(), name="invoice_reprint"),
    path("<int:pk>/red/", views.InvoiceRedView.as_view(), name="invoice_red"),
    path("<int:pk>/status/", views.InvoiceStatusView.as_view(), name="invoice_status"),
    path("<int:pk>/pdf/", views.InvoiceFileView.as_view(), name="invoice_pdf"),
    path("<int:pk>/xml/", views.InvoiceXmlView.as_view(), name="invoice_xml"),
    path("issue/", views.IssueView.as_view(), name="issue"),
    path("reissue/", views.ReissueBatchView.as_view(), name="reissue_batch"),
    path("collection/", views.CollectionView.as_view(), name="collection"),
    path("stock/", views.StockListView.as_view(), name="stock_list"),
    path("stock/add/", views.StockIssueView.as_view(), name="stock_add"),
    path("stock/mine/", views.MyStockView.as_view(), name="my_stock"),
    path("stock/<int:pk>/", views.StockDetailView.as_view(), name="stock_detail"),
    path("stock/<int:pk>/return/", views.StockReturnView.as_view(), name="stock_return"),
    path("stock/<int:pk>/spoil/", views.StockSpoilView.as_view(), name="stock_spoil"),
    path("numbers/", views.NumberUseListView.as_view(), name="usage_list"),
    path("kinds/", views.KindListView.as_view(), name="kind_list"),
    path("kinds/add/", views.KindEditView.as_view(), name="kind_add"),
    path("kinds/<int:pk>/", views.KindDetailView.as_view(), name="kind_detail"),
    path("kinds/<int:pk>/edit/", views.KindEditView.as_view(), name="kind_edit"),
    path("tax-codes/", views.TaxCodeListView.as_view(), name="taxcode_list"),
    path("tax-codes/add/", views.TaxCodeEditView.as_view(), name="taxcode_add"),
    path("tax-codes/<int:pk>/edit/", views.TaxCodeEditView.as_view(), name="taxcode_edit"),
]
