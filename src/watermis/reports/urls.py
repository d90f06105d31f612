from django.urls import path

from . import views

app_name = "reports"

urlpatterns = [
    path("statistics/", views.StatisticsView.as_view(), name="statistics"),
    path("revenue-by-item/", views.RevenueByItemView.as_view(), name="revenue_by_item"),
    path("surcharges/", views.SurchargesView.as_view(), name="surcharges"),
    path("waivers/", views.WaiversView.as_view(), name="waivers"),
    path("bad-debts/", views.BadDebtsView.as_view(), name="bad_debts"),
    path("late-fees/", views.LateFeesView.as_view(), name="late_fees"),
    path("charts/comparison/", views.ComparisonChartView.as_view(), name="comparison"),
    path("charts/trend/", views.TrendChartView.as_view(), name="trend"),
    path("charts/collection/", views.CollectionChartView.as_view(), name="collection"),
]
