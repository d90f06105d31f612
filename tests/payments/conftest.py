"""The counter's town: the invoices' customers with water and sewage bills of three months,
invoice kinds, stock for the cashier, and a fixed clock (late fees are due on the two older
bills of each customer on ``DAY``)."""

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone
from tests.conftest import make_operator
from tests.invoices.conftest import (  # noqa: F401 - fixtures
    DAY,
    MONTHS,
    give_stock,
    items,
    kinds,
    make_bill,
    town,
)
from tests.money_fixtures import books_add_up, english, memory_storage  # noqa: F401 - autouse here

from watermis.org.roles import CASHIER
from watermis.payments.counter import CounterRules, Tender, counter_arrears

D = Decimal
NOW = timezone.make_aware(datetime.datetime.combine(DAY, datetime.time(10, 0)))


@pytest.fixture
def cashier(org):
    return make_operator(org, "cashier_x", CASHIER)


@pytest.fixture
def cashier2(org):
    return make_operator(org, "cashier_y", CASHIER)


@pytest.fixture
def cashier_b(org):
    return make_operator(org, "cashier_b", CASHIER, unit_key="unit_b")


@pytest.fixture
def stocks(manager, cashier, cashier2, kinds):  # noqa: F811 - the imported fixture
    """Both cashiers of zone A hold water-invoice and receipt numbers."""
    return {
        (who.username, name): give_stock(
            manager,
            who,
            kinds[name],
            first,
            first + 49,
            code=f"{who.username}-{name}".replace("_", "-"),
        )
        for who, base in ((cashier, 1000), (cashier2, 5000))
        for name, first in (("water", base + 1), ("receipt", base + 101))
    }


@pytest.fixture
def bills(town):  # noqa: F811 - the imported fixture
    """Each customer's bills of August, September, October (oldest first)."""
    result = {}
    for n, customer in enumerate(town["customers"]):
        result[customer.pk] = [
            make_bill(customer, month, str(10 + n + m), items=town)
            for m, month in enumerate(MONTHS)
        ]
    return result


def screen(customer, chosen, now=NOW, **options):
    """A :class:`Tender` for ``chosen`` bills with the totals the counter screen shows."""
    due = counter_arrears(customer, timezone.localdate(now), CounterRules.from_params())
    ids = {bill.pk for bill in chosen}
    seen = {line.bill.pk: line.total for line in due.lines if line.bill.pk in ids}
    return Tender(customer_id=customer.pk, bills=tuple(sorted(ids)), seen=seen, **options)


def due_of(customer, bill, now=NOW):
    due = counter_arrears(customer, timezone.localdate(now), CounterRules.from_params())
    return next((line for line in due.lines if line.bill.pk == bill.pk), None)


def put_at_bank(admin, customer, bill, number="ICBC20261124001"):
    """Put ``bill`` in a bank deduction batch waiting for the bank's answer (a line sent)."""
    from watermis.payments import bank, bank_demo
    from watermis.payments.models import BankBatch, BankBatchLine, LineState

    icbc = bank.create_bank(admin, bank_demo.BANKS[0])
    batch = BankBatch.objects.create(
        number=number,
        bank=icbc,
        zone_id=customer.zone_id,
        created_by=admin,
        created_at=NOW,
        business_date=NOW.date(),
    )
    BankBatchLine.objects.create(
        batch=batch,
        seq=1,
        bill=bill,
        customer=customer,
        month=bill.month,
        amount=bill.amount,
        bank_account="6222020000000001",
        account_name=customer.name,
        state=LineState.SENT,
    )
    return batch
