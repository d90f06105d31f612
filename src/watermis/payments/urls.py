"""Payments pages: the counter and the cashier's day-end (counter_urls), bank collection
(bank_urls)."""

app_name = "payments"
urlpatterns = []
