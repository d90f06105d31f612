"""What an invoice holds: each bill's parts, and the tax lines (DOMAIN.md section 5).

A bill's lines split by their price item's revenue kind: the company's own items
(water, over-quota surcharges, meter fees) and the items collected for other
bodies (sewage fee, water-resource tax, garbage fee). A water invoice takes the
own part, an agency-fee invoice the agency part, a kind covering all items both,
a receipt the whole bill.

Tax lines group the bill lines of one invoice by price item, line kind, tier
and unit price. Water prices include tax, so each tax line's amount is split
into net and tax once, on the line's total: net = amount ÷ (1 + rate), rounded
half up to the fen, tax = amount − net. Exempt and non-taxable items (fees
collected for government) carry no tax. Red bills' lines are negative, so a
red bill on the same invoice as the bill it corrects nets its lines out.
"""

from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from watermis.billing.models import BillLine
from watermis.core.money import round_fen
from watermis.tariffs.models import PriceItem, RevenueKind, TaxTreatment

from .models import ItemTaxCode, Part

ZERO = Decimal("0.00")
TAXED = (TaxTreatment.VAT, TaxTreatment.VAT_SIMPLE)


def part_of(item):
    """The bill part a price item's lines belong to."""
    return Part.AGENCY if item.revenue_kind == RevenueKind.AGENCY else Part.OWN


def split_tax(amount, treatment, rate):
    """(net, tax) of a tax-inclusive ``amount``: tax only for VAT items, half up to the fen."""
    if treatment not in TAXED or not rate:
        return amount, ZERO
    net = round_fen(amount / (1 + rate))
    return net, amount - net


def rate_label(treatment, rate):
    """The tax rate as an invoice prints it: 9%, 3%, 免税 (exempt), 不征税 (not taxable)."""
    if treatment == TaxTreatment.EXEMPT:
        return "免税"
    if treatment == TaxTreatment.NON_TAXABLE:
        return "不征税"
    percent = (rate * 100).normalize()
    return f"{percent:f}%"


@dataclass
class BillParts:
    """One bill's amounts and lines by part (receipt: the whole bill)."""

    bill: object
    amounts: dict = field(default_factory=dict)
    lines: dict = field(default_factory=lambda: defaultdict(list))

    def amount(self, part):
        return self.amounts.get(part, ZERO)


def bill_parts(bills, tax_codes=False):
    """{bill id: :class:`BillParts`} of ``bills``, from their lines (one query); with
    ``tax_codes``, each line's item comes with its tax code (:func:`item_tax_codes`)."""
    result = {bill.pk: BillParts(bill) for bill in bills}
    lines = (
        BillLine.objects.filter(bill_id__in=list(result))
        .select_related("item__tax_code" if tax_codes else "item")
        .order_by("bill_id", "item__sort_order", "item__code", "kind", "tier", "id")
    )
    for line in lines:
        parts = result[line.bill_id]
        part = part_of(line.item)
        parts.lines[part].append(line)
        parts.lines[Part.RECEIPT].append(line)
        parts.amounts[part] = parts.amounts.get(part, ZERO) + line.amount
        parts.amounts[Part.RECEIPT] = parts.amounts.get(Part.RECEIPT, ZERO) + line.amount
    return result


@dataclass
class TaxLine:
    item: object
    kind: str
    tier: int | None
    unit_price: Decimal
    quantity: Decimal = ZERO
    amount: Decimal = ZERO
    name: str = ""
    tax_code: str = ""
    unit: str = ""
    treatment: str = ""
    rate: Decimal = ZERO
    net: Decimal = ZERO
    tax: Decimal = ZERO


def item_tax_codes(bill_lines):
    """{item id: ItemTaxCode} of these lines' items: read with them (``bill_parts(...,
    tax_codes=True)``), or in one query."""
    items = {line.item_id: line.item for line in bill_lines}
    if all(PriceItem.tax_code.is_cached(item) for item in items.values()):
        codes = (getattr(item, "tax_code", None) for item in items.values())
        return {code.item_id: code for code in codes if code is not None}
    return ItemTaxCode.objects.in_bulk(list(items), field_name="item_id")


def tax_lines(bill_lines, tax_codes):
    """The tax lines of an invoice from its bill lines; ``tax_codes``: item id → ItemTaxCode.

    Lines that net to zero (a bill and its full red bill) are left out.
    """
    groups = {}
    for line in bill_lines:
        key = (line.item_id, line.kind, line.tier, line.unit_price)
        group = groups.get(key)
        if group is None:
            group = groups[key] = TaxLine(line.item, line.kind, line.tier, line.unit_price)
        group.quantity += line.volume
        group.amount += line.amount
    result = []
    for group in groups.values():
        if not group.amount:
            continue
        item = group.item
        code = tax_codes.get(item.pk)
        group.name = code.goods_name if code else item.name
        group.tax_code = code.tax_code if code else ""
        group.unit = code.unit if code else ""
        group.treatment = item.tax_treatment
        group.rate = item.tax_rate if item.tax_treatment in TAXED else ZERO
        group.net, group.tax = split_tax(group.amount, group.treatment, group.rate)
        if not group.quantity:  # a fixed fee: no quantity or unit price on the invoice
            group.unit_price = None
            group.quantity = None
        result.append(group)
    result.sort(
        key=lambda g: (g.item.sort_order, g.item.code, g.kind, g.tier or 0, g.unit_price or 0)
    )
    return result
