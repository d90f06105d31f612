"""The demo company (24 months of everything) for the reports themselves: built once for
this package and rolled back after it. Its tests run on one xdist worker together."""

import datetime

import pytest
from django.db import transaction

from watermis.demo import build_demo
from watermis.reports import facts

DEMO_TODAY = datetime.date(2026, 11, 20)
FIRST, LAST = datetime.date(2024, 1, 1), datetime.date(2026, 12, 1)


@pytest.fixture(scope="package")
def demo(django_db_setup, django_db_blocker):
    """The demo company (160 accounts, 24 months billed and mostly paid, with waivers,
    write-offs, red bills, deposits), built once and rolled back after the package."""
    with django_db_blocker.unblock(), transaction.atomic():
        built = build_demo(seed=3, customers=160, today=DEMO_TODAY)
        facts.refresh()
        yield built
        transaction.set_rollback(True)


def pytest_collection_modifyitems(items):
    for item in items:
        if "/reports/demo/" in str(item.fspath):
            item.add_marker(pytest.mark.xdist_group("reports-demo"))
