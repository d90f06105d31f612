"""Meter reading pages: entry (entry_urls), handheld files (file_urls), queries (query_urls)."""

from .entry_urls import urlpatterns as entry_patterns
from .file_urls import urlpatterns as file_patterns
from .query_urls import urlpatterns as query_patterns

app_name = "readings"
urlpatterns = [*entry_patterns, *file_patterns, *query_patterns]
