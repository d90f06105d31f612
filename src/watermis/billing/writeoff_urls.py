"""Billing pages: writeoff."""

urlpatterns = []
