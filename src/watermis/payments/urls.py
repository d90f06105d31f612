"""Payments pages: the counter and the cashier's day-end (counter_urls), bank collection
(bank_urls), walking collection (collection_urls)."""

from .bank_urls import urlpatterns as bank_patterns
from .collection_urls import urlpatterns as collection_patterns

app_name = "payments"
urlpatterns = [*bank_patterns, *collection_patterns]
