"""Prepaid deposits through the service (F4.1–F4.4): deposits at the counter and from a
channel (idempotent), corrections, transfers (whole bills, partial cover, overdraft, bills
at a bank, idempotent reruns), the transfer right after a bill run, undo (refused while
invoiced), and the ledger's two pots."""

import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Sum

from watermis.billing import ledger
from watermis.billing.bills import with_status
from watermis.billing.models import Account, Allocation, Bill, BillStatus, EntryKind, LedgerEntry
from watermis.core.models import AuditEntry
from watermis.invoices import services as invoice_services
from watermis.payments import deposits
from watermis.payments.models import (
    CounterMethod,
    Deposit,
    DepositChannel,
    DepositTransfer,
    TransferRun,
    TransferTrigger,
)
from watermis.system.models import Parameter

from .conftest import NOW, D, put_at_bank

NEXT_DAY = NOW + datetime.timedelta(days=1)


def status(bill):
    return with_status(Bill.objects.filter(pk=bill.pk)).get().status


def account(customer):
    return Account.objects.get(pk=customer.pk)


def transfer(actor, zone=None, now=NOW):
    """Start a transfer and run it here (the task's body), as the worker would."""
    run = deposits.start_transfer(actor, zone, now=now)
    return deposits.run_transfer(run.pk)


@pytest.fixture
def zhang(town, bills):
    customer = town["customers"][0]
    return customer, bills[customer.pk]  # bills of 40.00, 44.00, 48.00


def test_a_counter_deposit_moves_the_deposit_not_the_bills(zhang, cashier):
    customer, (aug, sep, octo) = zhang
    before = account(customer).balance
    deposit = deposits.take_deposit(
        cashier, customer, "100", method=CounterMethod.CASH, tendered="150", now=NOW
    )
    assert (deposit.amount, deposit.change, deposit.balance_before, deposit.balance_after) == (
        D("100.00"),
        D("50.00"),
        D("0.00"),
        D("100.00"),
    )
    assert deposit.entry.kind == EntryKind.DEPOSIT and deposit.entry.posted_by == cashier
    assert account(customer).deposit == D("100.00")
    assert account(customer).balance == before  # the bill account is untouched
    assert status(aug) == BillStatus.UNPAID  # a deposit pays bills only by a transfer
    assert not Allocation.objects.filter(credit=deposit.entry).exists()
    assert AuditEntry.objects.filter(verb="take_deposit").count() == 1
    assert deposits.voucher_number(deposit) == f"YC2026-{deposit.pk:06d}"


def test_bad_deposits_are_refused_by_field(zhang, cashier):
    customer, _bills = zhang
    for amount, field in (("", "amount"), ("0", "amount"), ("-5", "amount"), ("1.234", "amount")):
        with pytest.raises(ValidationError) as caught:
            deposits.take_deposit(cashier, customer, amount, now=NOW)
        assert field in caught.value.message_dict
    with pytest.raises(ValidationError) as caught:
        deposits.take_deposit(cashier, customer, "60000", now=NOW)
    assert "at most 50000" in caught.value.message_dict["amount"][0]
    with pytest.raises(ValidationError) as caught:
        deposits.take_deposit(cashier, customer, "100", tendered="90", now=NOW)
    assert "tendered" in caught.value.message_dict
    with pytest.raises(ValidationError) as caught:
        deposits.take_deposit(
            cashier, customer, "100", method=CounterMethod.WECHAT, tendered="120", now=NOW
        )
    assert "tendered" in caught.value.message_dict
    with pytest.raises(ValidationError) as caught:
        deposits.take_deposit(cashier, customer, "100", channel=DepositChannel.WECHAT, now=NOW)
    assert "reference" in caught.value.message_dict
    assert not Deposit.objects.exists() and account(customer).deposit == 0


def test_a_channel_deposit_is_taken_once_per_reference(zhang, cashier):
    customer, _bills = zhang
    first = deposits.take_deposit(
        cashier, customer, "200", channel=DepositChannel.WECHAT, reference="WX123", now=NOW
    )
    again = deposits.take_deposit(
        cashier, customer, "200", channel=DepositChannel.WECHAT, reference="WX123", now=NOW
    )
    assert again.pk == first.pk and again.repeated
    assert Deposit.objects.count() == 1 and account(customer).deposit == D("200.00")
    with pytest.raises(ValidationError) as caught:
        deposits.take_deposit(
            cashier, customer, "201", channel=DepositChannel.WECHAT, reference="WX123", now=NOW
        )
    assert "reference" in caught.value.message_dict


def test_a_customer_of_another_zone_needs_the_cross_zone_permission(town, bills, cashier):
    other = town["customers"][3]  # zone B
    with pytest.raises(PermissionDenied):
        deposits.take_deposit(cashier, other, "50", now=NOW)


def test_a_deposit_with_pay_bills_pays_the_oldest_bills_it_covers(zhang, cashier):
    customer, (aug, sep, octo) = zhang
    deposit = deposits.take_deposit(cashier, customer, "90", pay_bills=True, now=NOW)
    moved = deposit.transfer
    assert moved.amount == D("84.00") and moved.bills == 2  # 40 + 44; 48 does not fit in 6
    assert (status(aug), status(sep), status(octo)) == (
        BillStatus.PAID,
        BillStatus.PAID,
        BillStatus.UNPAID,
    )
    assert account(customer).deposit == D("6.00")
    assert moved.run.trigger == TransferTrigger.COUNTER
    assert [b.pk for b, _amount in deposits.transfer_bills(moved)] == [aug.pk, sep.pk]


def test_a_transfer_run_pays_every_covered_account_and_is_idempotent(town, bills, cashier, manager):
    zhang, li, wang, _zhao = town["customers"]
    deposits.take_deposit(cashier, zhang, "200", now=NOW)  # covers all three (132.00)
    deposits.take_deposit(cashier, li, "30", now=NOW)  # covers none (first bill 44.00)
    run = transfer(manager)
    assert (run.customers, run.bills, run.amount) == (1, 3, D("132.00"))
    assert run.finished_at is not None and run.candidates == 2 and run.looked_at == 2
    assert account(zhang).deposit == D("68.00") and account(li).deposit == D("30.00")
    assert all(status(b) == BillStatus.PAID for b in bills[zhang.pk])
    assert account(zhang).balance == 0
    again = transfer(manager)
    assert (again.customers, again.bills, again.amount) == (0, 0, D("0"))
    assert DepositTransfer.objects.count() == 1
    assert wang.pk not in set(DepositTransfer.objects.values_list("customer_id", flat=True))


def test_partial_cover_pays_part_of_the_next_bill(town, bills, cashier, manager):
    li = town["customers"][1]  # bills of 44.00, 48.00, 52.00
    Parameter.objects.create(key="deposits.partial_cover", value="1")
    deposits.take_deposit(cashier, li, "50", now=NOW)
    run = transfer(manager)
    assert run.amount == D("50.00") and run.partial
    first, second, _third = bills[li.pk]
    assert status(first) == BillStatus.PAID and status(second) == BillStatus.PARTLY_PAID
    assert account(li).deposit == 0


def test_overdraft_lets_the_deposit_go_below_zero_up_to_the_limit(town, bills, cashier, manager):
    li = town["customers"][1]
    Parameter.objects.create(key="deposits.overdraft_limit", value="20")
    deposits.take_deposit(cashier, li, "30", now=NOW)
    transfer(manager)
    assert account(li).deposit == D("-14.00")  # 30 + 20 covers 44.00, not 48.00 more
    with pytest.raises(ValidationError):  # a correction would go below −20
        deposits.correct_deposit(cashier, Deposit.objects.get(), "typed wrong", now=NOW)


def test_the_deposit_never_goes_negative_by_default(town, bills, cashier, manager):
    li = town["customers"][1]
    deposits.take_deposit(cashier, li, "44", now=NOW)
    transfer(manager)
    assert account(li).deposit == 0
    with pytest.raises(ValidationError) as caught:
        deposits.correct_deposit(cashier, Deposit.objects.get(), "typed wrong", now=NOW)
    assert "Undo those transfers first" in caught.value.messages[0]
    assert account(li).deposit == 0


def test_a_bill_at_the_bank_is_not_transferred(zhang, cashier, manager, admin):
    customer, (aug, sep, octo) = zhang
    put_at_bank(admin, customer, aug)
    deposits.take_deposit(cashier, customer, "200", now=NOW)
    run = transfer(manager)
    assert run.amount == D("92.00") and status(aug) == BillStatus.UNPAID
    assert status(sep) == BillStatus.PAID


def test_a_correction_reverses_the_deposit_with_a_linked_entry(zhang, cashier, cashier2):
    customer, _bills = zhang
    deposit = deposits.take_deposit(cashier, customer, "100", now=NOW)
    with pytest.raises(ValidationError):
        deposits.correct_deposit(cashier, deposit, "  ", now=NOW)
    with pytest.raises(PermissionDenied):  # another cashier
        deposits.correct_deposit(cashier2, deposit, "typed 100 for 10", now=NOW)
    with pytest.raises(PermissionDenied):  # the next day
        deposits.correct_deposit(cashier, deposit, "typed 100 for 10", now=NEXT_DAY)
    correction = deposits.correct_deposit(cashier, deposit, "typed 100 for 10", now=NOW)
    assert correction.entry.kind == EntryKind.REVERSAL
    assert correction.entry.reverses_id == deposit.entry_id
    assert account(customer).deposit == 0 and correction.balance_after == 0
    deposit.refresh_from_db()
    assert deposit.amount == D("100.00")  # the deposit row stays
    with pytest.raises(ValidationError):
        deposits.correct_deposit(cashier, Deposit.objects.get(pk=deposit.pk), "again", now=NOW)


def test_a_supervisor_corrects_any_deposit_any_day(zhang, cashier, manager):
    customer, _bills = zhang
    deposit = deposits.take_deposit(cashier, customer, "100", now=NOW)
    deposits.correct_deposit(manager, deposit, "wrong account", now=NEXT_DAY)
    assert account(customer).deposit == 0


def test_undo_returns_the_bills_and_the_money(zhang, cashier, manager):
    customer, (aug, sep, octo) = zhang
    deposits.take_deposit(cashier, customer, "200", now=NOW)
    transfer(manager)
    moved = DepositTransfer.objects.get()
    with pytest.raises(PermissionDenied):
        deposits.undo_transfer(cashier, moved, "wrong")
    with pytest.raises(ValidationError):
        deposits.undo_transfer(manager, moved, "")
    undo = deposits.undo_transfer(manager, moved, "the October read was wrong")
    assert undo.operator == manager
    assert all(status(b) == BillStatus.UNPAID for b in (aug, sep, octo))
    assert account(customer).deposit == D("200.00")
    assert LedgerEntry.objects.filter(kind=EntryKind.REVERSAL).count() == 2
    with pytest.raises(ValidationError):
        deposits.undo_transfer(manager, moved, "again")
    # and a new transfer pays them again
    run = transfer(manager)
    assert run.amount == D("132.00")


def test_undo_is_refused_while_an_invoice_covers_a_bill(zhang, cashier, manager, kinds, stocks):
    customer, (aug, sep, octo) = zhang
    deposits.take_deposit(cashier, customer, "200", now=NOW)
    transfer(manager)
    moved = DepositTransfer.objects.get()
    invoice = invoice_services.issue_invoice(cashier, kinds["water"], [aug])
    with pytest.raises(ValidationError) as caught:
        deposits.undo_transfer(manager, moved, "wrong")
    assert invoice.display_number in caught.value.messages[0]
    assert status(aug) == BillStatus.PAID
    invoice_services.void_invoice(cashier, invoice, "transfer to undo")
    deposits.undo_transfer(manager, moved, "wrong")
    assert status(aug) == BillStatus.UNPAID


def test_undo_a_whole_run_keeps_the_invoiced_transfers(
    town, bills, cashier, manager, kinds, stocks
):
    zhang, li = town["customers"][:2]
    deposits.take_deposit(cashier, zhang, "200", now=NOW)
    deposits.take_deposit(cashier, li, "200", now=NOW)
    run = transfer(manager)
    assert run.customers == 2
    invoice_services.issue_invoice(cashier, kinds["water"], [bills[li.pk][0]])
    undone, kept = deposits.undo_run(manager, run, "run on the wrong day")
    assert undone == 1 and [t.customer_id for t, _why in kept] == [li.pk]
    assert account(zhang).deposit == D("200.00")


def test_a_zone_run_needs_scope_and_one_at_a_time(town, bills, clerk_a, cashier):
    clerk = clerk_a
    with pytest.raises(ValidationError):  # a clerk of zone A does not see every zone
        deposits.start_transfer(clerk, None)
    with pytest.raises(PermissionDenied):
        deposits.start_transfer(clerk, town["book_b"].area.zone)
    deposits.start_transfer(clerk, town["book"].area.zone)
    with pytest.raises(ValidationError) as caught:
        deposits.start_transfer(clerk, town["book"].area.zone)
    assert "running" in caught.value.messages[0]
    with pytest.raises(PermissionDenied):
        deposits.start_transfer(cashier, town["book"].area.zone)


def test_the_company_total_and_the_ledger_pots(town, bills, cashier):
    zhang, li = town["customers"][:2]
    deposits.take_deposit(cashier, zhang, "100", now=NOW)
    deposits.take_deposit(cashier, li, "23.45", now=NOW)
    assert Account.objects.aggregate(t=Sum("deposit"))["t"] == D("123.45")
    assert ledger.deposit_of(zhang.pk) == D("100.00")
    assert ledger.prepaid_of(zhang.pk) == D("100.00")  # its bill account is in arrears
    # deposit money is never open credit of the bill account
    assert ledger.open_entries(zhang.pk, "credit") == []


def test_verify_catches_a_wrong_cached_deposit(zhang, cashier):
    from watermis.billing.verify import verify_books

    customer, _bills = zhang
    deposits.take_deposit(cashier, customer, "100", now=NOW)
    Account.objects.filter(pk=customer.pk).update(deposit=D("90"))
    problems = verify_books()
    assert any("cached deposit 90.00 != entries total 100.00" in p for p in problems)
    Account.objects.filter(pk=customer.pk).update(deposit=D("100"))


def test_runs_are_listed_with_who_started_them(town, bills, cashier, manager):
    deposits.take_deposit(cashier, town["customers"][0], "200", now=NOW)
    run = transfer(manager)
    assert TransferRun.objects.get().started_by == manager
    assert AuditEntry.objects.filter(verb="start_deposit_transfer").count() == 1
    assert run.trigger == TransferTrigger.MANUAL


def test_the_account_page_shows_the_deposit_and_each_pots_running_balance(
    zhang, cashier, manager, client
):
    from django.urls import reverse

    customer, _bills = zhang
    deposits.take_deposit(cashier, customer, "100", now=NOW)
    transfer(manager)  # 132.00 owed: 40 + 44 paid from the deposit
    client.force_login(manager)
    page = client.get(reverse("billing:account_detail", args=[customer.pk])).content.decode()
    assert 'data-deposit="16.00"' in page
    assert 'data-balance="-48.00"' in page
    entries = dict(deposits_running(customer))
    assert entries["deposit"] == D("100.00") and entries["transfer_out"] == D("16.00")
    assert entries["transfer_in"] == D("-48.00")


def deposits_running(customer):
    from watermis.billing.bill_views import running_balance

    rows = running_balance(LedgerEntry.objects.filter(customer=customer)).order_by(
        "posted_at", "id"
    )
    return [(row.kind, row.running_balance) for row in rows]
