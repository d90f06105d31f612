"""Payments pages: the counter and the cashier's day-end (counter_urls), bank collection
(bank_urls), walking collection (collection_urls), prepaid deposits (deposit_urls)."""

from .bank_urls import urlpatterns as bank_patterns
from .collection_urls import urlpatterns as collection_patterns
from .counter_urls import urlpatterns as counter_patterns
from .deposit_urls import urlpatterns as deposit_patterns

app_name = "payments"
urlpatterns = [*counter_patterns, *bank_patterns, *collection_patterns, *deposit_patterns]
