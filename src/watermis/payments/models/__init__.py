"""Payments tables, one module per sub-domain: counter.py (counter payments, late-fee
waivers), bank.py (bank collection batches and files)."""

from .counter import (  # noqa: F401
    CounterMethod,
    CounterPayment,
    CounterPaymentLine,
    LateFeeWaiver,
    WaiverLimit,
)
