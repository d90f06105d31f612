"""Payments tables, one module per sub-domain: counter.py (counter payments, late-fee
waivers), bank.py (bank collection batches and files), collection.py (walking collection)."""

from .collection import InspectionTransfer, Remittance, RemittanceLine

__all__ = ["InspectionTransfer", "Remittance", "RemittanceLine"]
