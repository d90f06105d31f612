"""Counter payments through the service: full, partial (both allocation orders), small change
kept, waivers within and above the limit, invoices from the cashier's stock, stale screens,
cross-zone payments, scope, reversals (same day, next day, other cashier)."""

import datetime

import pytest
from django.contrib.auth.models import Permission
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Sum

from watermis.billing import ledger
from watermis.billing.bills import with_status
from watermis.billing.models import (
    Allocation,
    Bill,
    BillStatus,
    EntryKind,
    LateFeeCharge,
    LedgerEntry,
)
from watermis.core.models import AuditEntry
from watermis.invoices import services as invoice_services
from watermis.invoices.models import Invoice, InvoiceState
from watermis.payments import counter
from watermis.payments.models import (
    CounterMethod,
    CounterPayment,
    LateFeeWaiver,
    WaiverLimit,
)
from watermis.system.models import Parameter

from .conftest import NOW, D, due_of, put_at_bank, screen

AUG_FEE = D("5.16")  # 40.00 × 0.003 × 43 days (2026-10-13 to 11-24), truncated
SEP_FEE = D("1.58")  # 44.00 × 0.003 × 12 days (2026-11-13 to 11-24): 1.584 truncated
NEXT_DAY = NOW + datetime.timedelta(days=1)


def status(bill):
    return with_status(Bill.objects.filter(pk=bill.pk)).get().status


def settled(entry_id):
    return Allocation.objects.filter(debit_id=entry_id).aggregate(s=Sum("amount"))["s"] or D(0)


def grant(operator, codename):
    operator.user_permissions.add(Permission.objects.get(codename=codename))
    return type(operator).objects.get(pk=operator.pk)  # a fresh permission cache


@pytest.fixture
def zhang(town, bills):
    customer = town["customers"][0]
    return customer, bills[customer.pk]


def test_screen_shows_principal_and_late_fees_as_of_today(zhang):
    customer, (aug, sep, oct_) = zhang
    assert due_of(customer, aug).total == D("40.00") + AUG_FEE
    assert due_of(customer, sep).total == D("44.00") + SEP_FEE
    assert due_of(customer, oct_).total == D("48.00")


def test_full_payment_charges_late_fees_pays_bills_and_prints_the_invoice(
    zhang, cashier, stocks, kinds
):
    customer, (aug, sep, oct_) = zhang
    due = D("132.00") + AUG_FEE + SEP_FEE
    tender = screen(customer, [aug, sep, oct_], tendered=D("200.00"), invoice_kind=kinds["water"])
    payment = counter.take_payment(cashier, tender, now=NOW)
    assert payment.due == due and payment.late_fee == AUG_FEE + SEP_FEE
    assert payment.amount == due and payment.change == D("200.00") - due
    assert payment.change_kept == 0 and payment.tendered == D("200.00")
    assert payment.entry.kind == EntryKind.PAYMENT and payment.entry.amount == due
    assert payment.entry.unit_id == cashier.unit_id and payment.entry.posted_by == cashier
    assert not payment.cross_zone and payment.cashier_zone_id == customer.zone_id
    assert [status(b) for b in (aug, sep, oct_)] == [BillStatus.PAID] * 3
    charges = LateFeeCharge.objects.filter(bill__in=[aug, sep]).order_by("bill_id")
    assert [c.amount for c in charges] == [AUG_FEE, SEP_FEE]
    assert all(settled(c.entry_id) == c.amount for c in charges)
    assert ledger.balance_of(customer.pk) == 0
    lines = list(payment.lines.order_by("bill_id"))
    assert [(li.paid_fee, li.paid_principal, li.left) for li in lines] == [
        (AUG_FEE, D("40.00"), 0),
        (SEP_FEE, D("44.00"), 0),
        (0, D("48.00"), 0),
    ]
    invoice = payment.invoice
    assert invoice.payment_id == payment.entry_id and invoice.operator == cashier
    assert invoice.received == D("200.00") and invoice.change == payment.change
    assert set(invoice.bill_rows.values_list("bill_id", flat=True)) == {aug.pk, sep.pk, oct_.pk}
    assert invoice.number == "00001001"  # the cashier's own stock, in order
    assert payment.invoice_note == ""
    verbs = set(AuditEntry.objects.values_list("verb", flat=True))
    assert {"take_payment", "late_fee"} <= verbs
    # nothing is due any more: a second payment of the same bills is refused
    with pytest.raises(ValidationError, match="nothing is due on it now"):
        counter.take_payment(cashier, tender, now=NOW)


def test_the_screen_total_is_checked_again_under_the_lock(zhang, cashier, cashier2, stocks):
    customer, (aug, sep, _oct) = zhang
    first = screen(customer, [aug], tendered=D("100"))
    seen_by_second = screen(customer, [aug, sep], tendered=D("200"))
    counter.take_payment(cashier2, first, now=NOW)
    with pytest.raises(ValidationError) as caught:
        counter.take_payment(cashier, seen_by_second, now=NOW)
    message = " ".join(caught.value.messages)
    assert f"Bill #{aug.pk} was paid or changed by Cashier_Y at 10:00" in message
    assert "Reload the customer" in message
    assert CounterPayment.objects.count() == 1
    # the next day the late fee grew: the screen of yesterday is refused
    stale = screen(customer, [sep], tendered=D("100"))
    with pytest.raises(
        ValidationError, match="now comes to 45.71, not the 45.58 your screen showed"
    ):
        counter.take_payment(cashier, stale, now=NEXT_DAY)


def test_a_bill_of_another_account_is_refused(zhang, town, bills, cashier):
    customer, (aug, *_rest) = zhang
    other = bills[town["customers"][1].pk][0]
    tender = counter.Tender(
        customer_id=customer.pk, bills=(aug.pk, other.pk), seen={aug.pk: D("1"), other.pk: D("1")}
    )
    with pytest.raises(ValidationError, match="is not a bill of account"):
        counter.take_payment(cashier, tender, now=NOW)


def test_partial_payment_pays_late_fee_then_principal_oldest_first(zhang, cashier, stocks, kinds):
    customer, (aug, sep, oct_) = zhang
    tender = screen(
        customer,
        [aug, sep],
        amount=D("50.00"),
        tendered=D("50.00"),
        invoice_kind=kinds["water"],
    )
    payment = counter.take_payment(cashier, tender, now=NOW)
    lines = {li.bill_id: li for li in payment.lines.all()}
    assert (lines[aug.pk].paid_fee, lines[aug.pk].paid_principal) == (AUG_FEE, D("40.00"))
    assert (lines[sep.pk].paid_fee, lines[sep.pk].paid_principal) == (
        SEP_FEE,
        D("50.00") - AUG_FEE - D("40.00") - SEP_FEE,
    )
    assert status(aug) == BillStatus.PAID and status(sep) == BillStatus.PARTLY_PAID
    # only the bill paid in full is invoiced; the rest stays in arrears and is paid later
    assert list(payment.invoice.bill_rows.values_list("bill_id", flat=True)) == [aug.pk]
    assert "invoiced when the rest is paid" in payment.invoice_note
    left = due_of(customer, sep)
    assert left.principal == D("44.00") - (D("50.00") - AUG_FEE - D("40.00") - SEP_FEE)
    assert left.fee_open == 0 and left.fee.amount == 0  # charged through today
    later = counter.take_payment(
        cashier, screen(customer, [sep, oct_], invoice_kind=kinds["water"]), now=NOW
    )
    assert later.amount == left.total + D("48.00") and later.change == 0
    assert status(sep) == BillStatus.PAID
    assert set(later.invoice.bill_rows.values_list("bill_id", flat=True)) == {sep.pk, oct_.pk}


def test_partial_payment_principal_first_when_the_parameter_says_so(zhang, cashier):
    Parameter.objects.create(key="counter.late_fee_first", value="0")
    customer, (aug, sep, _oct) = zhang
    payment = counter.take_payment(
        cashier, screen(customer, [aug, sep], amount=D("85.00")), now=NOW
    )
    lines = {li.bill_id: li for li in payment.lines.all()}
    assert lines[aug.pk].paid_principal == D("40.00") and lines[sep.pk].paid_principal == D("44.00")
    assert lines[aug.pk].paid_fee == D("1.00") and lines[sep.pk].paid_fee == 0
    assert payment.invoice is None and "No invoice was asked for" in payment.invoice_note
    assert status(aug) == BillStatus.PAID and status(sep) == BillStatus.PAID
    assert due_of(customer, aug).fee_open == AUG_FEE - D("1.00")  # the fee stays in arrears


def test_small_change_is_kept_as_credit_for_the_next_bill(zhang, cashier):
    customer, (aug, sep, oct_) = zhang
    due = D("40.00") + AUG_FEE
    payment = counter.take_payment(
        cashier,
        screen(customer, [aug], tendered=D("45.50"), keep_change=True),
        now=NOW,
    )
    kept = D("45.50") - due
    assert payment.change_kept == kept and payment.change == 0
    assert payment.entry.amount == due + kept
    # the change went to the next open bill, the oldest not chosen
    assert settled(sep.entry_id) == kept and status(sep) == BillStatus.PARTLY_PAID
    with pytest.raises(ValidationError, match="Only change below 1.00"):
        counter.take_payment(
            cashier, screen(customer, [oct_], tendered=D("50.00"), keep_change=True), now=NOW
        )
    with pytest.raises(ValidationError, match="only when the chosen bills are paid in full"):
        counter.take_payment(
            cashier,
            screen(customer, [oct_], amount=D("40"), tendered=D("40.50"), keep_change=True),
            now=NOW,
        )


def test_kept_change_without_other_bills_becomes_prepaid_credit(town, bills, cashier):
    customer = town["customers"][1]
    *_older, oct_ = bills[customer.pk]
    for bill in _older:
        counter.take_payment(cashier, screen(customer, [bill]), now=NOW)
    payment = counter.take_payment(
        cashier, screen(customer, [oct_], tendered=D("52.30"), keep_change=True), now=NOW
    )
    assert payment.change_kept == D("0.30")
    assert ledger.balance_of(customer.pk) == D("0.30")


def test_card_and_scan_payments_take_exactly_the_amount(zhang, cashier):
    customer, (aug, *_rest) = zhang
    with pytest.raises(ValidationError, match="takes exactly the amount"):
        counter.take_payment(
            cashier,
            screen(customer, [aug], method=CounterMethod.WECHAT, tendered=D("100")),
            now=NOW,
        )
    payment = counter.take_payment(
        cashier, screen(customer, [aug], method=CounterMethod.CARD), now=NOW
    )
    assert payment.tendered == payment.amount and payment.change == 0


def test_bad_amounts_are_refused_by_field(zhang, cashier):
    customer, (aug, *_rest) = zhang
    cases = [
        ({"amount": D("0")}, "amount"),
        ({"amount": D("1000")}, "amount"),
        ({"amount": D("10.005")}, "amount"),
        ({"tendered": "abc"}, "tendered"),
        ({"tendered": D("10")}, "tendered"),
        ({"waiver": D("6")}, "waiver"),
        ({"waiver": D("1")}, "waiver_reason"),
    ]
    for options, field in cases:
        with pytest.raises(ValidationError) as caught:
            counter.take_payment(cashier, screen(customer, [aug], **options), now=NOW)
        assert field in caught.value.error_dict, (options, caught.value)
    with pytest.raises(ValidationError) as caught:
        counter.take_payment(cashier, counter.Tender(customer_id=customer.pk, bills=()), now=NOW)
    assert "bills" in caught.value.error_dict
    assert not CounterPayment.objects.exists() and not LateFeeCharge.objects.exists()


def test_waiver_within_the_limit(zhang, cashier):
    customer, (aug, sep, _oct) = zhang
    payment = counter.take_payment(
        cashier,
        screen(customer, [aug, sep], waiver=D("6.00"), waiver_reason="老人困难户"),
        now=NOW,
    )
    assert payment.waived == D("6.00") and payment.amount == D("84.00") + AUG_FEE + SEP_FEE - 6
    waivers = list(LateFeeWaiver.objects.order_by("bill_id"))
    assert [(w.bill_id, w.amount) for w in waivers] == [
        (aug.pk, AUG_FEE),
        (sep.pk, D("6.00") - AUG_FEE),
    ]
    assert waivers[0].entry.kind == EntryKind.WAIVER and waivers[0].authoriser is None
    assert waivers[0].limit == D("50.00") and waivers[0].payment == payment
    assert AuditEntry.objects.filter(verb="waive_late_fee").count() == 2
    assert [status(b) for b in (aug, sep)] == [BillStatus.PAID, BillStatus.PAID]


def test_waiver_above_the_limit_needs_a_supervisor(zhang, cashier, cashier2, manager):
    Parameter.objects.create(key="counter.waiver_limit", value="5.00")
    customer, (aug, sep, _oct) = zhang
    options = {"waiver": D("6.00"), "waiver_reason": "停水补偿"}
    with pytest.raises(ValidationError, match="above your waiver limit of 5.00") as caught:
        counter.take_payment(cashier, screen(customer, [aug, sep], **options), now=NOW)
    assert "authoriser" in caught.value.error_dict
    with pytest.raises(ValidationError, match="may not authorise waivers"):
        counter.take_payment(
            cashier, screen(customer, [aug, sep], authoriser=cashier2, **options), now=NOW
        )
    payment = counter.take_payment(
        cashier, screen(customer, [aug, sep], authoriser=manager, **options), now=NOW
    )
    assert set(payment.waivers.values_list("authoriser", flat=True)) == {manager.pk}
    assert payment.waivers.first().above_limit


def test_a_role_limit_raises_the_parameter(zhang, cashier, org):
    from watermis.org.roles import CASHIER

    Parameter.objects.create(key="counter.waiver_limit", value="1.00")
    WaiverLimit.objects.create(role=org["roles"][CASHIER], limit=D("10.00"))
    customer, (aug, sep, _oct) = zhang
    assert counter.waiver_limit_of(cashier, D("1.00")) == D("10.00")
    payment = counter.take_payment(
        cashier,
        screen(customer, [aug, sep], waiver=AUG_FEE + SEP_FEE, waiver_reason="政策减免"),
        now=NOW,
    )
    assert payment.waived == AUG_FEE + SEP_FEE
    assert {w.limit for w in payment.waivers.all()} == {D("10.00")}


def test_no_stock_no_payment(zhang, cashier, kinds):
    customer, (aug, *_rest) = zhang
    with pytest.raises(ValidationError) as caught:
        counter.take_payment(cashier, screen(customer, [aug], invoice_kind=kinds["water"]), now=NOW)
    assert "invoice_kind" in caught.value.error_dict
    assert "the payment was not taken" in " ".join(caught.value.messages)
    assert not CounterPayment.objects.exists()
    assert not LedgerEntry.objects.filter(kind=EntryKind.PAYMENT).exists()
    assert ledger.balance_of(customer.pk) == -D("132.00")


def test_cross_zone_needs_the_permission_and_is_seen_in_both_zones(
    town, bills, cashier, cashier_b, org, stocks, kinds
):
    west = town["customers"][3]  # 西城区
    bill = bills[west.pk][0]
    assert not counter.counter_customers(cashier).filter(pk=west.pk).exists()
    with pytest.raises(PermissionDenied, match="belongs to another zone"):
        counter.take_payment(cashier, screen(west, [bill]), now=NOW)
    cashier = grant(cashier, "pay_other_zone")
    assert counter.counter_customers(cashier).filter(pk=west.pk).exists()
    payment = counter.take_payment(cashier, screen(west, [bill]), now=NOW)
    assert payment.cross_zone
    assert (payment.zone, payment.cashier_zone) == (org["zone_b"], org["zone_a"])
    assert payment.entry.zone_id == org["zone_b"].pk  # the money is the customer's zone's
    assert payment.entry.unit_id == org["unit_a"].pk  # collected by the cashier's unit
    for who in (cashier, cashier_b):
        assert CounterPayment.objects.restrict(who).filter(pk=payment.pk).exists()
    # the invoice of a cross-zone payment is the customer's zone's to issue
    second = bills[west.pk][1]
    with pytest.raises(ValidationError, match="issues the invoice of a cross-zone payment"):
        counter.take_payment(cashier, screen(west, [second], invoice_kind=kinds["water"]), now=NOW)


def test_scope_a_cashier_of_zone_b_sees_no_payment_of_zone_a(zhang, cashier, cashier_b):
    customer, (aug, *_rest) = zhang
    payment = counter.take_payment(cashier, screen(customer, [aug]), now=NOW)
    assert not CounterPayment.objects.restrict(cashier_b).filter(pk=payment.pk).exists()
    with pytest.raises(PermissionDenied):
        counter.reverse_payment(cashier_b, payment, "错收", now=NOW)
    with pytest.raises(PermissionDenied):
        counter.take_payment(cashier_b, screen(customer, [aug]), now=NOW)


def test_reversal_same_day_by_the_cashier_restores_the_account(
    zhang, cashier, stocks, kinds, manager
):
    Parameter.objects.create(key="counter.waiver_limit", value="1.00")
    customer, (aug, sep, _oct) = zhang
    before = ledger.balance_of(customer.pk)
    payment = counter.take_payment(
        cashier,
        screen(
            customer,
            [aug, sep],
            tendered=D("100"),
            waiver=D("2.00"),
            waiver_reason="减免",
            authoriser=manager,
            invoice_kind=kinds["water"],
        ),
        now=NOW,
    )
    invoice = payment.invoice
    with pytest.raises(ValidationError, match="Say why"):
        counter.reverse_payment(cashier, payment, " ", now=NOW)
    reversed_ = counter.reverse_payment(cashier, payment, "收错户了", now=NOW)
    assert reversed_.is_reversed and reversed_.reversed_by == cashier
    assert reversed_.reversal_entry.reverses_id == payment.entry_id
    assert reversed_.reverse_reason == "收错户了" and reversed_.reversed_on == NOW.date()
    invoice.refresh_from_db()
    assert invoice.state == InvoiceState.VOID
    assert ledger.balance_of(customer.pk) == before
    assert [status(b) for b in (aug, sep)] == [BillStatus.UNPAID, BillStatus.UNPAID]
    # the late fees charged with it are reversed: the screen shows what it showed before
    assert due_of(customer, aug).total == D("40.00") + AUG_FEE
    assert LedgerEntry.objects.filter(kind=EntryKind.REVERSAL).count() == 4  # pay, waiver, 2 fees
    assert CounterPayment.objects.filter(pk=payment.pk).exists()  # never deleted
    assert AuditEntry.objects.filter(verb="reverse_payment").exists()
    with pytest.raises(ValidationError, match="reversed already"):
        counter.reverse_payment(cashier, reversed_, "again", now=NOW)
    # the bills can be paid again, and invoiced again
    again = counter.take_payment(
        cashier, screen(customer, [aug], invoice_kind=kinds["water"]), now=NOW
    )
    assert again.invoice.state == InvoiceState.ISSUED


def test_reversal_next_day_or_by_another_cashier_needs_a_supervisor(
    zhang, cashier, cashier2, manager, stocks, kinds
):
    customer, (aug, *_rest) = zhang
    payment = counter.take_payment(
        cashier, screen(customer, [aug], invoice_kind=kinds["water"]), now=NOW
    )
    with pytest.raises(PermissionDenied, match="Only the cashier who took a payment"):
        counter.reverse_payment(cashier2, payment, "错收", now=NOW)
    with pytest.raises(PermissionDenied, match="on the day it was taken"):
        counter.reverse_payment(cashier, payment, "错收", now=NEXT_DAY)
    # the supervisor may, once the cashier has voided the invoice they printed
    with pytest.raises(ValidationError, match="they void it first"):
        counter.reverse_payment(manager, payment, "错收", now=NEXT_DAY)
    invoice_services.void_invoice(cashier, payment.invoice, "错收", now=NEXT_DAY)
    done = counter.reverse_payment(manager, payment, "错收", now=NEXT_DAY)
    assert done.reversed_by == manager and done.reversal_entry.business_date == NEXT_DAY.date()
    assert status(aug) == BillStatus.UNPAID
    assert Invoice.objects.get(pk=payment.invoice.pk).state == InvoiceState.VOID


def test_query_budget_of_a_payment(zhang, cashier, stocks, kinds, django_assert_max_num_queries):
    customer, (aug, sep, oct_) = zhang
    rules = counter.CounterRules.from_params()
    tender = screen(customer, [aug, sep], tendered=D("100"))
    cashier.has_perm("payments.take_payment")  # the request has its permissions cached
    with django_assert_max_num_queries(15):  # 14 + the bank-batch check
        counter.take_payment(cashier, tender, now=NOW, rules=rules)
    tender = screen(customer, [oct_], tendered=D("100"), invoice_kind=kinds["water"])
    # the invoice (issue_invoice: checks, number, lines, journal) is most of it
    with django_assert_max_num_queries(36):
        counter.take_payment(cashier, tender, now=NOW, rules=rules)


def test_a_bill_at_the_bank_is_refused(zhang, cashier, stocks, admin):
    """A bill in a bank deduction batch waiting for the bank's answer cannot also be paid at
    the counter (bank_queries.bills_at_bank, checked under the account lock)."""
    customer, (aug, sep, _oct) = zhang
    put_at_bank(admin, customer, aug)
    with pytest.raises(
        ValidationError, match=f"Bill #{aug.pk} is at the bank in deduction batch ICBC20261124001"
    ):
        counter.take_payment(cashier, screen(customer, [aug, sep], tendered=D("500")), now=NOW)
    assert CounterPayment.objects.count() == 0
    counter.take_payment(cashier, screen(customer, [sep], tendered=D("500")), now=NOW)
