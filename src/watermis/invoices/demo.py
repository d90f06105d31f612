"""The demo company's invoices: kinds, tax codes, stock for the cashiers and the collector, and
invoices for paid demo bills, issued through the services (numbered, journaled).

- kinds: paper water and agency-fee invoices, a receipt, and two electronic kinds (the
  local e-invoice provider numbers them);
- stock: the manager issues number ranges to ``cashier`` (东城区), ``cashier2`` (西城区)
  and ``collector`` (河口镇);
- invoices: the cashiers' invoices for bills paid in the last paid month (water, agency
  fees, receipts, a few e-invoices), a spoiled form, a voided and reissued invoice; the
  collector's walking-collection invoices for unpaid bills of one book.

The tax classification codes are the demo's: an installation enters the ones its tax
adviser confirms (DOMAIN.md section 5).
"""

import datetime
from collections import defaultdict

from django.db.models import Max
from django.utils import timezone

from watermis.billing.bills import filter_bill_status, open_bills
from watermis.billing.models import Bill, BillKind, BillState, BillStatus
from watermis.core import journal
from watermis.customers.models import Book, Customer
from watermis.org.models import Operator
from watermis.tariffs.models import PriceItem

from . import numbering, services
from .models import Coverage, InvoiceKind, ItemTaxCode, Medium
from .queries import with_payment, without_live_invoice

KINDS = [
    ("WATER", "水费发票", "water_invoice", Medium.PAPER, Coverage.OWN),
    ("AGENCY", "代收费发票", "agency_invoice", Medium.PAPER, Coverage.AGENCY),
    ("RECEIPT", "水费收据（缴费本）", "receipt", Medium.PAPER, Coverage.ALL),
    ("EWATER", "数电发票（水费）", "water_invoice", Medium.ELECTRONIC, Coverage.OWN),
    ("EAGENCY", "数电发票（代收费）", "agency_invoice", Medium.ELECTRONIC, Coverage.AGENCY),
]

TAX_CODES = {
    "WATER": ("*水冰雪*自来水", "1100301010000000000", "吨"),
    "QUOTA": ("*水冰雪*自来水（超计划加价）", "1100301010000000000", "吨"),
    "METER": ("*修理修配劳务*水表维护", "2010300000000000000", "月"),
    "SEWAGE": ("*政府性基金*污水处理费", "6130000000000000000", "吨"),
    "RESOURCE": ("*税费*水资源税（代收）", "6130000000000000000", "吨"),
    "GARBAGE": ("*行政事业性收费*垃圾处理费", "6130000000000000000", "月"),
}

# operator, kind, invoice code, first, last
STOCK = [
    ("cashier", "WATER", "142012600101", 10001, 10500),
    ("cashier", "AGENCY", "142012600201", 30001, 30300),
    ("cashier", "RECEIPT", "SJ2026", 1, 1000),
    ("cashier2", "WATER", "142012600101", 20001, 20500),
    ("cashier2", "AGENCY", "142012600201", 40001, 40300),
    ("collector", "WATER", "142012600101", 50001, 50300),
]


def _create(obj):
    return journal.create_object(obj)


def _kinds():
    return {
        code: _create(
            InvoiceKind(
                code=code,
                name=name,
                document=document,
                medium=medium,
                coverage=coverage,
                sort_order=n * 10,
            )
        )
        for n, (code, name, document, medium, coverage) in enumerate(KINDS)
    }


def _tax_codes():
    for item in PriceItem.objects.filter(code__in=TAX_CODES):
        name, code, unit = TAX_CODES[item.code]
        _create(ItemTaxCode(item=item, goods_name=name, tax_code=code, unit=unit))


def _at(day, hour=10):
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour)))


def _paid_groups(operator, kind, month, limit):
    """Customers of the operator's zone with bills of ``month`` paid and not invoiced:
    [(customer id, [bills], paid on)], in account order."""
    bills = with_payment(
        filter_bill_status(
            Bill.objects.filter(
                zone_id=operator.unit.zone_id,
                month=month,
                kind=BillKind.REGULAR,
                state=BillState.ISSUED,
            ),
            BillStatus.PAID,
        )
    )
    bills = without_live_invoice(bills, kind.parts).order_by("customer__account_no", "id")
    groups = defaultdict(list)
    for bill in bills[: limit * 3]:
        groups[bill.customer_id].append(bill)
    return [(c, group, group[-1].paid_on) for c, group in list(groups.items())[:limit]]


def build(rng, today=None):
    """Kinds, tax codes, stock and demo invoices; returns counts."""
    today = today or timezone.localdate()
    kinds = _kinds()
    _tax_codes()
    manager = Operator.objects.get(username="manager")
    operators = {
        o.username: o
        for o in Operator.objects.filter(username__in=("cashier", "cashier2", "collector"))
    }
    last_paid = Bill.objects.filter(entry__allocations_in__isnull=False).aggregate(m=Max("month"))[
        "m"
    ]
    stock_day = _at(last_paid or today.replace(day=1), 8)
    stocks = {}
    for username, kind, code, first, last in STOCK:
        stocks[(username, kind)] = numbering.issue_stock(
            manager,
            {
                "kind": kinds[kind],
                "operator": operators[username],
                "code": code,
                "first": first,
                "last": last,
                "note": "年初领用",
            },
            now=stock_day,
        )
    counts = defaultdict(int)
    if last_paid is None:
        return {"kinds": len(kinds), "stocks": len(stocks), "invoices": 0}
    plan = [
        ("cashier", "WATER", 12),
        ("cashier", "AGENCY", 6),
        ("cashier", "RECEIPT", 3),
        ("cashier", "EWATER", 3),
        ("cashier", "EAGENCY", 2),
        ("cashier2", "WATER", 8),
        ("cashier2", "EWATER", 2),
    ]
    planned, taken = [], set()
    for username, kind_code, how_many in plan:
        operator, kind = operators[username], kinds[kind_code]
        chosen = 0
        for _customer, bills, paid_on in _paid_groups(operator, kind, last_paid, how_many * 10):
            keys = {(bill.pk, part) for bill in bills for part in kind.parts}
            if keys & taken or chosen == how_many:
                continue
            taken |= keys
            chosen += 1
            when = _at(min(paid_on or today, today), 9 + rng.randint(0, 7))
            planned.append((when, username, kind_code, bills))
    planned.sort(key=lambda plan: (plan[0], plan[1], plan[2], plan[3][0].pk))
    for when, username, kind_code, bills in planned:  # numbers follow the days
        operator = operators[username]
        invoice = services.issue_invoice(operator, kinds[kind_code], bills, now=when)
        counts[kind_code] += 1
        if (username, kind_code) != ("cashier", "WATER"):
            continue
        if counts[kind_code] == 1:  # a wrong buyer name: voided, then issued again
            later = when + datetime.timedelta(minutes=5)
            services.void_invoice(operator, invoice, "户名打印错误，作废重开", now=later)
            services.issue_invoice(
                operator,
                kinds[kind_code],
                bills,
                buyer=services.Buyer(name=f"{invoice.buyer_name}（户主）"),
                now=later,
            )
            counts["void"] += 1
        elif counts[kind_code] == 4:  # a jammed printer takes the next form
            numbering.spoil_number(operator, stocks[(username, kind_code)], "打印机卡纸", now=when)
    collector = operators["collector"]
    book = Book.objects.filter(area__zone_id=collector.unit.zone_id).order_by("code").first()
    if book is not None:
        unpaid = without_live_invoice(
            open_bills(queryset=Bill.objects.filter(customer__book=book)), kinds["WATER"].parts
        )
        by_customer = defaultdict(list)
        for bill in unpaid.order_by("month", "id"):
            by_customer[bill.customer_id].append(bill)
        walking = Customer.objects.filter(pk__in=list(by_customer)).order_by(
            "route_order", "account_no"
        )[:10]
        for customer in walking:
            services.issue_invoice(
                collector,
                kinds["WATER"],
                by_customer[customer.pk],
                before_payment=True,
                now=_at(today, 8),
            )
            counts["collection"] += 1
    return {"kinds": len(kinds), "stocks": len(stocks), "invoices": dict(counts)}
