"""Generating bank batches: which bills are taken, which are left, and the bills at the bank."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from watermis.billing import ledger
from watermis.billing.models import EntryKind
from watermis.core.models import AuditEntry
from watermis.payments import bank
from watermis.payments.bank_queries import bank_batches_of_bills, bills_at_bank
from watermis.payments.models import BankBatch, BankBatchLine, BatchState, LineState

from .bank_fixtures import *  # noqa: F403
from .bank_fixtures import MONTHS, TODAY, D


def test_a_batch_per_bank_takes_the_unpaid_bills_of_mandated_customers(
    admin, bank_town, banks, bills, generate
):
    batches = generate()
    assert [b.bank.code for b in batches] == ["CCB", "ICBC"]
    ccb, icbc = batches
    assert icbc.number == "ICBC20261124001" and icbc.state == BatchState.OPEN
    assert icbc.zone == bank_town["zone_a"] and icbc.business_date == TODAY
    lines = list(icbc.lines.order_by("seq"))
    # 张三's two months, 李四, 钱七 — not 王五 (counter), 赵六 (CCB), 孙八 (zone B)
    assert [line.bill_id for line in lines] == [
        bills["zhang_aug"].pk,
        bills["zhang_sep"].pk,
        bills["li_sep"].pk,
        bills["qian_oct"].pk,
    ]
    assert [line.seq for line in lines] == [1, 2, 3, 4]
    assert lines[0].bank_account == "6222020000000001"  # spaces dropped
    assert lines[0].account_name == "张三" and lines[0].mandate_no == "WT0001"
    assert lines[0].month == MONTHS[0] and lines[0].amount == D("35.50")
    assert {line.state for line in lines} == {LineState.SENT}
    assert icbc.line_count == 4 and icbc.amount == D("117.04")
    assert [line.bill_id for line in ccb.lines.all()] == [bills["zhao_sep"].pk]
    assert AuditEntry.objects.filter(
        object_type="payments.bankbatch", object_id=str(icbc.pk), verb="generate_bank_batch"
    ).exists()


def test_bills_at_the_bank_are_not_taken_again_and_the_counter_sees_them(
    bank_town, banks, bills, generate
):
    (icbc,) = generate(bank=banks["icbc"])
    every = [b.pk for b in bills.values()]
    sent = {bills[k].pk for k in ("zhang_aug", "zhang_sep", "li_sep", "qian_oct")}
    assert bills_at_bank(every) == sent
    assert bills_at_bank([]) == set()
    assert bank_batches_of_bills([bills["li_sep"].pk, bills["wang_sep"].pk]) == {
        bills["li_sep"].pk: icbc.number
    }
    with pytest.raises(ValidationError, match="No unpaid bill"):
        generate(bank=banks["icbc"])
    # a new bill of 张三 goes into a second batch, numbered on
    november = make_bill(bank_town["zhang"], D("9.99"), TODAY.replace(day=1))  # noqa: F405
    (second,) = generate(bank=banks["icbc"])
    assert second.number == "ICBC20261124002"
    assert list(second.lines.values_list("bill_id", flat=True)) == [november.pk]


def test_paid_partly_paid_cancelled_and_inspection_bills(bank_town, banks, bills, generate):
    from watermis.billing.models import Bill

    zhang = bank_town["zhang"]
    ledger.post_entry(
        None,
        zhang,
        EntryKind.PAYMENT,
        bills["zhang_aug"].amount,
        business_date=TODAY,
        settle=[bills["zhang_aug"].entry],
    )
    ledger.post_entry(
        None,
        bank_town["li"],
        EntryKind.PAYMENT,
        D("8.00"),
        business_date=TODAY,
        settle=[bills["li_sep"].entry],
    )
    Bill.objects.filter(pk=bills["qian_oct"].pk).update(inspection=True)
    (icbc,) = generate(bank=banks["icbc"])
    amounts = dict(icbc.lines.values_list("bill_id", "amount"))
    # paid: left; partly paid: its open 20.00; inspection: left
    assert amounts == {bills["zhang_sep"].pk: D("41.20"), bills["li_sep"].pk: D("20.00")}


def test_books_and_months_narrow_the_batch(bank_town, banks, bills, generate):
    (icbc,) = generate(bank=banks["icbc"], books=[bank_town["book_a1"]], month_from=MONTHS[1])
    assert set(icbc.lines.values_list("bill_id", flat=True)) == {
        bills["zhang_sep"].pk,
        bills["li_sep"].pk,
    }
    assert list(icbc.books.all()) == [bank_town["book_a1"]] and icbc.month_from == MONTHS[1]
    (rest,) = generate(bank=banks["icbc"], month_to=MONTHS[2])
    assert set(rest.lines.values_list("bill_id", flat=True)) == {
        bills["zhang_aug"].pk,
        bills["qian_oct"].pk,
    }


def test_bad_selections_are_refused(bank_town, banks, bills, generate):
    with pytest.raises(ValidationError) as caught:
        generate(month_from=MONTHS[2], month_to=MONTHS[0])
    assert "month_to" in caught.value.error_dict
    with pytest.raises(ValidationError) as caught:
        generate(books=[bank_town["book_b1"]])
    assert "books" in caught.value.error_dict
    banks["ccb"].active = False
    banks["ccb"].save()
    with pytest.raises(ValidationError) as caught:
        generate(bank=banks["ccb"])
    assert "bank" in caught.value.error_dict
    assert not BankBatch.objects.exists()


def test_preview_counts_without_writing(admin, bank_town, banks, bills):
    previews = bank.preview_batches(admin, bank_town["zone_a"])
    figures = {p.bank.code: (p.customers, p.bills, p.amount) for p in previews}
    assert figures == {"CCB": (1, 1, D("66.60")), "ICBC": (3, 4, D("117.04"))}
    assert not BankBatch.objects.exists()


def test_zone_scope_and_permission(bank_town, banks, bills, clerk_a, clerk_b, cashier_a, generate):
    with pytest.raises(PermissionDenied):
        generate(actor=clerk_a, zone=bank_town["zone_b"])
    with pytest.raises(PermissionDenied):
        generate(actor=cashier_a)
    (sun,) = generate(actor=clerk_b, zone=bank_town["zone_b"])
    assert list(sun.lines.values_list("bill_id", flat=True)) == [bills["sun_sep"].pk]
    assert sun.created_by == clerk_b
    assert BankBatch.objects.restrict(clerk_a).count() == 0
    assert BankBatch.objects.restrict(clerk_b).get() == sun


def test_a_bill_waits_in_one_batch_only(bank_town, banks, bills):
    """The database itself refuses a second waiting line of a bill (partial unique index)."""
    from django.db import IntegrityError, transaction

    (icbc,) = bank.generate_batches(None, bank_town["zone_a"], bank=banks["icbc"], today=TODAY)
    line = icbc.lines.first()
    with pytest.raises(IntegrityError), transaction.atomic():
        BankBatchLine.objects.create(
            batch=icbc,
            seq=99,
            bill_id=line.bill_id,
            customer_id=line.customer_id,
            month=line.month,
            amount=line.amount,
            bank_account=line.bank_account,
            account_name=line.account_name,
        )
