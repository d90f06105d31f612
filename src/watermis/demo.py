"""The demo water company: every module adds its part here, in dependency order.

``build_demo`` is deterministic for a given seed. Each part writes in bulk
and journals what it writes, so the generator scales to benchmark sizes.
"""

import random

from django.db import transaction

from watermis.billing import demo as billing_demo
from watermis.core.journal import audit_context
from watermis.customers import demo as customers_demo
from watermis.documents import demo as documents_demo
from watermis.invoices import demo as invoices_demo
from watermis.org import demo as org_demo
from watermis.org.models import Company, Operator
from watermis.payments import bank_demo, collection_demo, deposit_demo
from watermis.payments import demo as payments_demo
from watermis.readings import demo as readings_demo
from watermis.tariffs import demo as tariffs_demo


def demo_exists():
    return Company.objects.exists()


DEFAULT_CUSTOMERS = 3000
# Above this many customers the demo has no reading history (a benchmark-sized company
# would need tens of millions of reads); bench/readings.py measures readings at scale.
READINGS_UP_TO = 20_000


def build_demo(seed=2026, staff_per_unit=8, customers=DEFAULT_CUSTOMERS, progress=None, today=None):
    """Build the demo company in one transaction; returns what was built.

    ``customers``: how many accounts (with their meters) to generate; the same
    generator reaches benchmark sizes (a million) in bounded memory.
    ``progress(done, total)`` is told after each chunk of customers.
    ``today``: the readings run 24 months up to this day's month (default: today), billed
    and mostly paid; only for up to ``READINGS_UP_TO`` customers.
    """
    rng = random.Random(seed)
    with audit_context(source="command:load_demo"), transaction.atomic():
        built = org_demo.build(rng, staff_per_unit=staff_per_unit)
        built.update(documents_demo.build())
        built.update(tariffs_demo.build(rng))
        built["customer_data"] = customers_demo.build(
            rng, built, built, customers=customers, progress=progress
        )
        if customers <= READINGS_UP_TO:
            built["reading_data"] = readings_demo.build(random.Random(seed + 5), today=today)
            built["billing_data"] = billing_demo.build(
                random.Random(seed + 6), Operator.objects.get(username="manager"), today=today
            )
        built["invoice_data"] = invoices_demo.build(random.Random(seed + 7), today=today)
        built["collection_data"] = collection_demo.build(today=today)
        if customers <= READINGS_UP_TO:
            built["counter_data"] = payments_demo.build(random.Random(seed + 9), today=today)
            built["bank_data"] = bank_demo.build(random.Random(seed + 8), today=today)
            built["deposit_data"] = deposit_demo.build(random.Random(seed + 10), today=today)
    return built


def demo_logins():
    """(username, role, zone) of each demo operator, for the README and the console."""
    return [(username, role, zone or "*") for username, role, zone, _flag in org_demo.OPERATORS]
