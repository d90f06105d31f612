"""Concurrent issuing on PostgreSQL: numbers from one stock are never duplicated, never skipped,
and a bill is never on two live invoices (DESIGN.md "Invoice numbers ... under a row lock")."""

import threading

import pytest
from django.core.exceptions import ValidationError
from django.db import connections
from django.utils import translation

from watermis.invoices import numbering, services
from watermis.invoices.models import Invoice, InvoiceBill, NumberUse, NumberUseKind

from .conftest import MONTHS, give_stock, make_bill, pay

THREADS = 8


def run_threads(target, arguments):
    errors = []

    def work(*args):
        try:
            with translation.override("en"):  # a new thread starts in the default language
                target(*args)
        except ValidationError as exc:
            errors.append(exc)
        except Exception as exc:  # noqa: BLE001 - reported by the test
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=work, args=args) for args in arguments]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return errors


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_parallel_issuing_from_one_stock_has_no_duplicate_and_no_gap(manager, cashier, kinds, town):
    stock = give_stock(manager, cashier, kinds["water"], 1, 100)
    bills = []
    for n in range(THREADS * 2):
        customer = town["customers"][n % 3]
        bill = make_bill(customer, MONTHS[n // 6 % 3], str(n + 1), items=town)
        pay(bill)
        bills.append(bill)

    def issue(bill):
        services.issue_invoice(cashier, kinds["water"], [bill])

    def spoil():
        numbering.spoil_number(cashier, stock, "卡纸")

    errors = run_threads(issue, [(b,) for b in bills])
    errors += run_threads(spoil, [()] * 3)
    assert errors == []
    stock.refresh_from_db()
    taken = THREADS * 2 + 3
    assert stock.next == 1 + taken
    sequences = sorted(NumberUse.objects.filter(stock=stock).values_list("sequence", flat=True))
    assert sequences == list(range(1, 1 + taken))  # no duplicate, no gap
    numbers = list(Invoice.objects.values_list("number", flat=True))
    assert len(numbers) == len(set(numbers)) == THREADS * 2
    assert NumberUse.objects.filter(use=NumberUseKind.SPOILED).count() == 3
    assert numbering.stock_problems(stock) == []


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_parallel_issuing_of_one_bill_succeeds_once_and_uses_one_number(
    manager, cashier, cashier2, kinds, town
):
    stocks = [
        give_stock(manager, cashier, kinds["water"], 1, 50),
        give_stock(manager, cashier2, kinds["water"], 51, 100),
    ]
    bill = make_bill(town["customers"][0], MONTHS[0], "10", items=town)
    pay(bill)
    operators = [cashier, cashier2] * (THREADS // 2)
    errors = run_threads(
        lambda who: services.issue_invoice(who, kinds["water"], [bill]),
        [(who,) for who in operators],
    )
    assert len(errors) == THREADS - 1
    assert all("already has its water items" in str(exc) for exc in errors), errors
    assert InvoiceBill.objects.filter(bill=bill, live=True).count() == 1
    for stock in stocks:
        stock.refresh_from_db()
        assert numbering.stock_problems(stock) == []
    assert sum(stock.used for stock in stocks) == 1  # the refusals took no number


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_parallel_einvoices_get_consecutive_numbers(cashier, kinds, town):
    bills = []
    for n in range(THREADS):
        bill = make_bill(town["customers"][n % 3], MONTHS[n // 3], str(n + 1), items=town)
        pay(bill)
        bills.append(bill)
    errors = run_threads(
        lambda bill: services.issue_invoice(cashier, kinds["einvoice"], [bill]),
        [(b,) for b in bills],
    )
    assert errors == []
    tails = sorted(int(n[5:]) for n in Invoice.objects.values_list("number", flat=True))
    assert tails == list(range(1, THREADS + 1))
