"""Billing pages: run."""

urlpatterns = []
