"""Payments pages: the counter and the cashier's day-end (counter_urls), bank collection
(bank_urls)."""

from django.urls import include, path

app_name = "payments"
urlpatterns = [
    path("", include("watermis.payments.counter_urls")),
]
