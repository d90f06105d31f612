"""Billing pages: bills and accounts (bill_urls), bill runs and month-end (run_urls),
write-offs and red bills (writeoff_urls), the shutoff list (shutoff_urls)."""

from .bill_urls import urlpatterns as bill_patterns
from .run_urls import urlpatterns as run_patterns
from .shutoff_urls import urlpatterns as shutoff_patterns
from .writeoff_urls import urlpatterns as writeoff_patterns

app_name = "billing"
urlpatterns = [*bill_patterns, *run_patterns, *writeoff_patterns, *shutoff_patterns]
