"""Two cashiers paying the same bill at the same moment on PostgreSQL: exactly one succeeds,
the other is told who paid it and when; many cashiers paying different customers at once
all succeed, every invoice number used once (DESIGN.md "Posting takes a row lock")."""

import threading

import pytest
from django.core.exceptions import ValidationError
from django.db import connections
from django.utils import translation

from watermis.billing import ledger
from watermis.billing.verify import verify_books
from watermis.invoices import numbering
from watermis.invoices.models import Invoice
from watermis.payments import counter
from watermis.payments.models import CounterPayment

from .conftest import NOW, D, give_stock, screen


def run_together(calls):
    """Run each call in its own thread, started together; returns (results, errors)."""
    barrier = threading.Barrier(len(calls))
    results, errors = [], []

    def work(call):
        try:
            with translation.override("en"):
                barrier.wait()
                results.append(call())
        except Exception as exc:  # noqa: BLE001 - reported by the test
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=work, args=(call,)) for call in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results, errors


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_cashiers_paying_the_same_bill_one_succeeds(
    town, bills, cashier, cashier2, stocks, kinds
):
    customer = town["customers"][0]
    aug = bills[customer.pk][0]
    tender = screen(customer, [aug], tendered=D("100"), invoice_kind=kinds["water"])
    results, errors = run_together(
        [lambda who=who: counter.take_payment(who, tender, now=NOW) for who in (cashier, cashier2)]
    )
    assert len(results) == 1 and len(errors) == 1, errors
    error = errors[0]
    assert isinstance(error, ValidationError)
    winner = results[0].cashier.name
    assert f"was paid or changed by {winner} at 10:00" in " ".join(error.messages)
    assert CounterPayment.objects.count() == 1 and Invoice.objects.count() == 1
    assert ledger.balance_of(customer.pk) == -D("92.00")  # Sep 44 + Oct 48 left
    assert verify_books() == []


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_many_cashiers_at_once_never_lose_a_payment_or_a_number(
    org, town, bills, manager, cashier, kinds
):
    stock = give_stock(manager, cashier, kinds["water"], 1, 100, code="RACE")
    calls = []
    for customer in town["customers"][:3]:
        for bill in bills[customer.pk]:
            tender = screen(customer, [bill], invoice_kind=kinds["water"])
            calls.append(lambda t=tender: counter.take_payment(cashier, t, now=NOW))
    results, errors = run_together(calls)
    # payments of one customer queue on its account; a screen read before a sibling bill's
    # payment stays right (each bill's own total does not change)
    assert errors == [] and len(results) == 9
    stock.refresh_from_db()
    assert stock.next == 10 and numbering.stock_problems(stock) == []
    assert verify_books() == []
