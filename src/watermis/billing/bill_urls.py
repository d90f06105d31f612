"""Billing pages: bill."""

urlpatterns = []
