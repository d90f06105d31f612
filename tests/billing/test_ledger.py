"""The customer ledger: posting, allocation, reversal, idempotent intake, the verify proof."""

import datetime
import threading
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import IntegrityError, connection, connections, transaction
from django.utils import timezone

from watermis.billing import ledger
from watermis.billing.models import Account, Allocation, Direction, EntryKind, LedgerEntry
from watermis.billing.verify import verify_books
from watermis.core import bulk
from watermis.customers import services as customer_services
from watermis.tariffs import services as tariff_services
from watermis.tariffs.models import CategoryKind

D = Decimal
DAY = datetime.date(2026, 11, 24)


@pytest.fixture
def customer(org, admin):
    category = tariff_services.create_category(
        admin, {"code": "RES", "name": "居民", "kind": CategoryKind.RESIDENTIAL}
    )
    tariff = tariff_services.create_tariff(
        admin, {"code": "RES", "name": "居民水价", "category": category}
    )
    area = customer_services.create_area(
        admin, {"code": "A1", "name": "东一片", "zone": org["zone_a"]}
    )
    book = customer_services.create_book(admin, {"code": "DA01", "name": "东一册", "area": area})
    return customer_services.open_customer(
        admin,
        {"name": "张三", "address": "解放路1号", "book": book, "category": category},
        {"number": "M001", "installed_on": DAY, "tariff": tariff},
        today=DAY,
    )


def post(actor, customer, kind, amount, **kw):
    return ledger.post_entry(actor, customer, kind, D(amount), business_date=DAY, **kw).entry


def paid(entry):
    return sum(a.amount for a in Allocation.objects.filter(debit=entry))


def test_bills_and_payments_move_the_balance(customer, cashier_a):
    bill1 = post(None, customer, EntryKind.BILL, "52.00", reason="2026-10")
    bill2 = post(None, customer, EntryKind.BILL, "48.50", reason="2026-11")
    assert ledger.balance_of(customer.pk) == D("-100.50")
    payment = post(cashier_a, customer, EntryKind.PAYMENT, "60.00")
    assert payment.posted_by == cashier_a and payment.unit == cashier_a.unit
    assert paid(bill1) == D("52.00") and paid(bill2) == D("8.00")  # oldest first
    assert ledger.balance_of(customer.pk) == D("-40.50")


def test_named_bill_is_paid_first(customer):
    bill1 = post(None, customer, EntryKind.BILL, "52.00")
    bill2 = post(None, customer, EntryKind.BILL, "48.50")
    post(None, customer, EntryKind.PAYMENT, "48.50", settle=[bill2])
    assert paid(bill2) == D("48.50") and paid(bill1) == 0


def test_open_credit_pays_the_next_bill(customer):
    post(None, customer, EntryKind.PAYMENT, "100.00")  # an overpayment
    bill = post(None, customer, EntryKind.BILL, "30.00")
    assert paid(bill) == D("30.00") and ledger.balance_of(customer.pk) == D("70.00")


def test_a_deposit_is_a_pot_of_its_own(customer):
    bill = post(None, customer, EntryKind.BILL, "30.00")
    deposit = post(None, customer, EntryKind.DEPOSIT, "100.00")
    assert paid(bill) == 0  # deposit money pays bills only through a transfer
    assert ledger.balance_of(customer.pk) == D("-30.00")
    assert ledger.deposit_of(customer.pk) == D("100.00")
    assert ledger.prepaid_of(customer.pk) == D("100.00")
    post(None, customer, EntryKind.BILL, "20.00")
    assert ledger.deposit_of(customer.pk) == D("100.00")
    ledger.reverse_entry(None, deposit, "typed wrong", DAY)
    assert ledger.deposit_of(customer.pk) == 0 and ledger.balance_of(customer.pk) == D("-50.00")


def test_reversal_reopens_the_bill(customer, clerk_a):
    bill = post(None, customer, EntryKind.BILL, "52.00")
    payment = post(None, customer, EntryKind.PAYMENT, "52.00")
    with pytest.raises(ValidationError):
        ledger.reverse_entry(clerk_a, payment, "", DAY)
    reversal = ledger.reverse_entry(clerk_a, payment, "银行退票", DAY)
    assert reversal.direction == Direction.DEBIT and reversal.reverses == payment
    assert paid(bill) == 0 and ledger.balance_of(customer.pk) == D("-52.00")
    with pytest.raises(ValidationError, match="already"):
        ledger.reverse_entry(clerk_a, payment, "again", DAY)
    with pytest.raises(ValidationError):
        ledger.reverse_entry(clerk_a, reversal, "undo", DAY)


def test_reversed_bill_frees_its_payment_for_the_next(customer, clerk_a):
    wrong = post(None, customer, EntryKind.BILL, "80.00")
    post(None, customer, EntryKind.PAYMENT, "80.00")
    ledger.reverse_entry(clerk_a, wrong, "抄错表", DAY)
    assert ledger.balance_of(customer.pk) == D("80.00")
    right = post(None, customer, EntryKind.BILL, "50.00")
    assert paid(right) == D("50.00")


def test_external_key_posts_once(customer):
    first = ledger.post_entry(
        None,
        customer,
        EntryKind.PAYMENT,
        D("10"),
        business_date=DAY,
        channel="wechat",
        external_key="T1",
    )
    again = ledger.post_entry(
        None,
        customer,
        EntryKind.PAYMENT,
        D("10"),
        business_date=DAY,
        channel="wechat",
        external_key="T1",
    )
    assert again.repeated and again.entry == first.entry
    assert LedgerEntry.objects.count() == 1 and ledger.balance_of(customer.pk) == D("10")


def test_bad_amounts_are_refused(customer):
    for amount in ("0", "-5", "1.234"):
        with pytest.raises(ValidationError) as caught:
            post(None, customer, EntryKind.PAYMENT, amount)
        assert "amount" in caught.value.message_dict
    assert not LedgerEntry.objects.exists()


def test_database_refuses_a_direction_against_the_kind(customer):
    with pytest.raises(IntegrityError), transaction.atomic():
        LedgerEntry.objects.create(
            customer=customer,
            zone_id=customer.zone_id,
            kind=EntryKind.BILL,
            direction=Direction.CREDIT,
            amount=D("1"),
            posted_at="2026-11-24T00:00:00Z",
            business_date=DAY,
        )


class _Undo(Exception):
    pass


def test_verify_finds_references_the_database_does_not_check(customer):
    """Bulk tables carry no foreign-key constraint (ADR 0003): verify proves the references."""
    post(None, customer, EntryKind.BILL, "52.00")
    assert verify_books() == []
    with pytest.raises(_Undo), transaction.atomic():
        columns = ("id", "bill_id", "item_id", "kind", "tier", "volume", "unit_price", "amount")
        bulk.write_rows(
            "billing_billline",
            (*columns, "price_from"),
            [(990001, 990002, 990003, "water", 1, D("1"), D("2.07"), D("2.07"), DAY)],
        )
        problems = verify_books()
        assert "billline 990001: bill 990002 does not exist" in problems
        assert "billline 990001: item 990003 does not exist" in problems
        assert len(problems) == 2
        raise _Undo
    assert verify_books() == []


def test_lock_balances_opens_missing_accounts_and_then_costs_one_query(
    customer, django_assert_num_queries
):
    Account.objects.filter(pk=customer.pk).delete()
    with transaction.atomic():
        assert ledger.lock_balances([customer.pk], {customer.pk: customer.zone_id}) == {
            customer.pk: D("0.00")
        }
    post(None, customer, EntryKind.BILL, "52.00")
    with transaction.atomic(), django_assert_num_queries(1):
        assert ledger.lock_balances([customer.pk], {}) == {customer.pk: D("-52.00")}


def test_update_column_sets_many_values_in_one_statement(customer, django_assert_num_queries):
    post(None, customer, EntryKind.BILL, "52.00")
    with django_assert_num_queries(1):
        bulk.update_column(Account, "balance", [(customer.pk, D("-12.34"))], key="customer_id")
    assert Account.objects.get(pk=customer.pk).balance == D("-12.34")
    bulk.update_column(Account, "balance", [(customer.pk, D("-52.00"))], key="customer_id")
    assert verify_books() == []


def test_verify_finds_a_tampered_balance(customer):
    post(None, customer, EntryKind.BILL, "52.00")
    assert verify_books() == []
    call_command("verify")
    Account.objects.filter(pk=customer.pk).update(balance=D("0"))
    assert "cached balance 0.00 != entries total -52.00" in verify_books()[0]
    with pytest.raises(CommandError):
        call_command("verify")
    Account.objects.filter(pk=customer.pk).update(balance=D("-52.00"))


def test_entries_are_append_only(customer):
    entry = post(None, customer, EntryKind.BILL, "52.00")
    with (
        pytest.raises(Exception, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute("UPDATE billing_ledgerentry SET amount = 1 WHERE id = %s", [entry.pk])


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_payments_never_lose_money(org, admin):
    category = tariff_services.create_category(
        admin, {"code": "RES", "name": "居民", "kind": CategoryKind.RESIDENTIAL}
    )
    tariff = tariff_services.create_tariff(
        admin, {"code": "RES", "name": "居民水价", "category": category}
    )
    area = customer_services.create_area(
        admin, {"code": "A1", "name": "东一片", "zone": org["zone_a"]}
    )
    book = customer_services.create_book(admin, {"code": "DA01", "name": "东一册", "area": area})
    customer = customer_services.open_customer(
        admin,
        {"name": "张三", "address": "解放路1号", "book": book, "category": category},
        {"number": "M001", "installed_on": DAY, "tariff": tariff},
        today=DAY,
    )
    post(None, customer, EntryKind.BILL, "100.00")
    errors = []

    def pay(n):
        try:
            post(
                None, customer, EntryKind.PAYMENT, "10.00", channel="bank", external_key=f"K{n % 4}"
            )
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=pay, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert LedgerEntry.objects.filter(kind=EntryKind.PAYMENT).count() == 4
    assert ledger.balance_of(customer.pk) == D("-60.00")
    assert verify_books() == []


def test_bulk_payments_pay_whole_open_bills_and_move_balances(customer, admin):
    bill = post(None, customer, EntryKind.BILL, "52.00")
    other = post(None, customer, EntryKind.BILL, "48.50")
    posted_at = timezone.now()
    row = (bill.pk, customer.pk, customer.zone_id, D("52.00"), DAY, posted_at, None, "")
    with pytest.raises(ValidationError, match="whole open amount"):
        ledger.pay_in_bulk([(*row[:3], D("50.00"), *row[4:])], "缴费")
    [entry_id] = ledger.pay_in_bulk([(*row, "BANK-1/7")], "缴费")
    entry = LedgerEntry.objects.get(pk=entry_id)
    assert (entry.kind, entry.amount, entry.external_key) == ("payment", D("52.00"), "BANK-1/7")
    assert paid(bill) == D("52.00") and paid(other) == 0
    assert ledger.balance_of(customer.pk) == D("-48.50")
    with pytest.raises(ValidationError, match="whole open amount"):
        ledger.pay_in_bulk([row], "缴费")  # paid already
