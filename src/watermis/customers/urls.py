from django.urls import path

from . import views

app_name = "customers"

urlpatterns = [
    path("areas/", views.AreaListView.as_view(), name="area_list"),
    path("areas/add/", views.AreaEditView.as_view(), name="area_add"),
    path("areas/<int:pk>/", views.AreaDetailView.as_view(), name="area_detail"),
    path("areas/<int:pk>/edit/", views.AreaEditView.as_view(), name="area_edit"),
    path("books/", views.BookListView.as_view(), name="book_list"),
    path("books/add/", views.BookEditView.as_view(), name="book_add"),
    path("books/<int:pk>/", views.BookDetailView.as_view(), name="book_detail"),
    path("books/<int:pk>/edit/", views.BookEditView.as_view(), name="book_edit"),
    path("route-order/", views.RouteOrderView.as_view(), name="route_order"),
    path("move/", views.MoveCustomersView.as_view(), name="move_customers"),
    path("batch-update/", views.BatchUpdateView.as_view(), name="batch_update"),
    path("", views.CustomerListView.as_view(), name="customer_list"),
    path("open/", views.OpenCustomerView.as_view(), name="customer_open"),
    path("new/", views.NewCustomerListView.as_view(), name="new_customers"),
    path("closed/", views.ClosedCustomerListView.as_view(), name="closed_customers"),
    path("<int:pk>/", views.CustomerDetailView.as_view(), name="customer_detail"),
    path("<int:pk>/edit/", views.CustomerEditView.as_view(), name="customer_edit"),
    path("<int:pk>/status/", views.CustomerStatusView.as_view(), name="customer_status"),
    path("<int:pk>/add-meter/", views.CustomerAddMeterView.as_view(), name="customer_add_meter"),
    path("meters/", views.MeterListView.as_view(), name="meter_list"),
    path("meters/master/", views.MasterMeterListView.as_view(), name="master_list"),
    path("meters/master/add/", views.MasterMeterAddView.as_view(), name="master_add"),
    path("meters/events/", views.MeterEventListView.as_view(), name="event_list"),
    path("meters/<int:pk>/", views.MeterDetailView.as_view(), name="meter_detail"),
    path("meters/<int:pk>/edit/", views.MeterEditView.as_view(), name="meter_edit"),
    path("meters/<int:pk>/replace/", views.MeterReplaceView.as_view(), name="meter_replace"),
    path("meters/<int:pk>/transfer/", views.MeterTransferView.as_view(), name="meter_transfer"),
    path("meters/<int:pk>/shutoff/", views.MeterShutoffView.as_view(), name="meter_shutoff"),
    path(
        "<int:pk>/surcharges/add/",
        views.CustomerSurchargeAddView.as_view(),
        name="customer_surcharge_add",
    ),
    path("surcharges/<int:pk>/end/", views.SurchargeEndView.as_view(), name="surcharge_end"),
    path(
        "meters/<int:pk>/restore/",
        views.MeterShutoffView.as_view(restore=True),
        name="meter_restore",
    ),
]
