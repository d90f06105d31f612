"""Billing pages: shutoff."""

urlpatterns = []
