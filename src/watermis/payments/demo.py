"""The demo company's counter: a morning of counter payments by the demo cashiers, taken
through :func:`watermis.payments.counter.take_payment` like any other (locked, checked,
journaled, invoiced from the cashiers' own stock).

- ``cashier`` (东城区) may take payments for other zones (``payments.pay_other_zone``, given
  to the operator, not the role): full payments with water invoices, a partial payment, one
  with the small change kept as credit, a late-fee waiver within the limit, one above it
  signed by ``manager``, a card and a WeChat payment, a cross-zone payment for a customer of
  西城区 (its invoice is issued there);
- ``cashier2`` (西城区): a few payments, one reversed the same morning (wrong account);
- a waiver limit for the cashier role.

Late fees are as of ``today``; enough customers stay unpaid for the cashiers to serve.
"""

import datetime
from decimal import Decimal

from django.contrib.auth.models import Group, Permission
from django.utils import timezone

from watermis.billing.bills import open_bills
from watermis.billing.models import Bill
from watermis.core import journal
from watermis.invoices.models import InvoiceKind
from watermis.org.models import Operator
from watermis.org.roles import CASHIER

from . import counter
from .models import CounterMethod, WaiverLimit

WAIVER_LIMIT = Decimal("5.00")


def _customers_with_open_bills(zone_id, skip, how_many):
    """Customers of ``zone_id`` with open bills, in account order (open bills oldest first)."""
    bills = open_bills(queryset=Bill.objects.filter(zone_id=zone_id)).select_related("customer")
    chosen = {}
    for bill in bills.order_by("customer__account_no", "due_on", "month", "id")[:5000]:
        if bill.customer_id in skip:
            continue
        if bill.customer_id not in chosen and len(chosen) == how_many:
            break
        chosen.setdefault(bill.customer_id, (bill.customer, []))[1].append(bill)
    return list(chosen.values())


def _tender(customer, bills, day, rules, **options):
    """A tender for ``bills`` as the counter screen shows them; with their total and late fee."""
    due = counter.counter_arrears(customer, day, rules)
    ids = {bill.pk for bill in bills}
    lines = [line for line in due.lines if line.bill.pk in ids]
    tender = counter.Tender(
        customer_id=customer.pk,
        bills=tuple(sorted(ids)),
        seen={line.bill.pk: line.total for line in lines},
        **options,
    )
    total = sum((line.total for line in lines), Decimal("0.00"))
    fees = sum((line.fee_open + line.fee.amount for line in lines), Decimal("0.00"))
    return tender, total, fees


def _round_up(amount, step):
    """The banknotes a customer hands over: ``amount`` rounded up to ``step`` yuan."""
    step = Decimal(step)
    return ((amount / step).to_integral_value(rounding="ROUND_CEILING")) * step


def build(rng, today=None):
    """The counter's morning; returns counts."""
    real_now = timezone.now()
    today = today or timezone.localdate(real_now)
    start = timezone.make_aware(datetime.datetime.combine(today, datetime.time(8, 30)))
    if timezone.localdate(real_now) == today:
        start = min(start, real_now - datetime.timedelta(hours=2))
        if timezone.localdate(start) != today:  # just after midnight: yesterday's morning
            today = timezone.localdate(start)
            start = timezone.make_aware(datetime.datetime.combine(today, datetime.time(8, 30)))
    operators = {
        o.username: o
        for o in Operator.objects.filter(username__in=("cashier", "cashier2", "manager"))
    }
    if len(operators) < 3:
        return {"payments": 0}
    cashier, cashier2, manager = operators["cashier"], operators["cashier2"], operators["manager"]
    role = Group.objects.filter(name=CASHIER).first()
    if role is not None:
        journal.create_object(WaiverLimit(role=role, limit=WAIVER_LIMIT))
    journal.update_object(
        cashier,
        {},
        "F1.2 跨区收费",
        m2m={
            "user_permissions": [
                *cashier.user_permissions.values_list("pk", flat=True),
                Permission.objects.get(codename="pay_other_zone").pk,
            ]
        },
    )
    cashier = Operator.objects.get(pk=cashier.pk)  # a fresh permission cache
    water = InvoiceKind.objects.filter(code="WATER").first()
    rules = counter.CounterRules.from_params()
    clock = iter(start + datetime.timedelta(minutes=4 * n + rng.randint(0, 3)) for n in range(200))
    taken, reversed_ = [], 0
    served = set()

    def pay(operator, customer, bills, **options):
        tender, due, _fees = _tender(customer, bills, today, rules, **options)
        if tender.method in counter.CASH_METHODS and tender.tendered is None:
            payable = (tender.amount or due) - tender.waiver
            tender = counter.Tender(**{**tender.__dict__, "tendered": _round_up(payable, 10)})
        served.add(customer.pk)
        payment = counter.take_payment(operator, tender, now=next(clock))
        taken.append(payment)
        return payment

    east = _customers_with_open_bills(cashier.unit.zone_id, served, 12)
    # the largest late fees get the waivers: above the limit (signed), then within it
    by_fee = sorted(east, key=lambda group: -_tender(group[0], group[1], today, rules)[2])
    waived = by_fee[:2]
    east = [*waived, *(group for group in east if group not in waived)]
    plans = [
        {"waiver": "above", "waiver_reason": "停水期间产生的滞纳金", "authoriser": manager},
        {"waiver": "all", "waiver_reason": "孤寡老人，免收滞纳金", "invoice_kind": water},
        {"invoice_kind": water},
        {"invoice_kind": water, "method": CounterMethod.WECHAT},
        {"invoice_kind": water, "method": CounterMethod.CARD},
        {"partial": Decimal("0.5"), "invoice_kind": water},
        {"keep_change": True, "invoice_kind": water},
        {"invoice_kind": water},
        {},
    ]
    for (customer, bills), plan in zip(east, plans, strict=False):
        plan = dict(plan)
        partial = plan.pop("partial", None)
        waiver = plan.pop("waiver", None)
        _tender_, due, fees = _tender(customer, bills, today, rules)
        if partial is not None:
            plan["amount"] = (due * partial).quantize(Decimal("1"))
            if not 0 < plan["amount"] < due:
                continue
        if plan.get("keep_change"):  # 45.16 due, 46 handed over, 0.84 kept
            plan["tendered"] = due.to_integral_value(rounding="ROUND_CEILING")
            if plan["tendered"] == due:
                plan.pop("keep_change")
        if waiver == "all" and fees > 0:
            plan["waiver"] = min(fees, WAIVER_LIMIT)
        elif waiver == "above" and fees > WAIVER_LIMIT:
            plan["waiver"] = min(fees, WAIVER_LIMIT * 10)
        elif waiver is not None:
            plan.pop("waiver_reason", None)
            plan.pop("authoriser", None)
        pay(cashier, customer, bills, **plan)

    west = _customers_with_open_bills(cashier2.unit.zone_id, served, 4)
    if west:  # the east cashier serves a customer of the west zone (F1.2)
        customer, bills = west.pop()
        pay(cashier, customer, bills, note="在东城区营业厅代收")
    for n, (customer, bills) in enumerate(west):
        method = CounterMethod.ALIPAY if n == 1 else CounterMethod.CASH
        payment = pay(cashier2, customer, bills, method=method, invoice_kind=water)
        if n == 0:
            counter.reverse_payment(
                cashier2,
                payment,
                "收错户号，已退款重收",
                now=payment.paid_at + datetime.timedelta(minutes=2),
            )
            reversed_ += 1
    return {"payments": len(taken), "reversed": reversed_}
