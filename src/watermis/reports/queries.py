"""The statistical reports (M8), computed from the facts (:mod:`watermis.reports.models`).

Every report is a :class:`Table`: columns, one row per group (zone, area, book,
reader, collector, water-use category, tariff or month) and a total row. The
figures are sums of facts, so a report over a year of a million accounts reads
a few thousand rows.

Words used by the reports (docs/reports.md says the same for the staff):

- *billed*: the bills of the billing months chosen, less cancelled bills; red
  (negative) bills are shown on their own, in the billing month they were issued;
- *late fees*: the late fees charged on bills of those months, less reversals;
- *paid*, *waived*, *written off*, *red-credited*: how much of those bills' and late
  fees' debits payments (or deposit transfers), waivers, write-offs and red bills
  settled, until today; *outstanding* is what is still open. So on every row
  billed + late fees = paid + waived + written off + red-credited + outstanding;
- *received*: the payments taken in the business months chosen (whatever they paid),
  less reversed payments;
- *collection rate*: paid ÷ (billed + late fees − waived − red-credited).
"""

from collections import defaultdict
from dataclasses import dataclass, field
from dataclasses import replace as dataclass_replace
from decimal import Decimal

from django.db.models import Case, F, IntegerField, Sum, When
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from watermis.billing.models import BillLine, EntryKind
from watermis.core.money import round_fen
from watermis.customers.models import Area, Book
from watermis.org.models import Employee, Zone
from watermis.tariffs.models import PriceItem, Tariff, WaterCategory

from .models import Dimensions, EntryFact, LineFact, SettlementFact

ZERO = Decimal("0.00")
MONEY, VOLUME, COUNT, RATE, TEXT = "money", "volume", "count", "rate", "text"

GROUPS = {
    "zone": (_("Zone"), "zone_id", Zone),
    "area": (_("Reading area"), "area_id", Area),
    "book": (_("Reading book"), "book_id", Book),
    "reader": (_("Meter reader"), "reader_id", Employee),
    "collector": (_("Collector"), "collector_id", Employee),
    "category": (_("Water-use category"), "category_id", WaterCategory),
    "tariff": (_("Tariff"), "tariff_id", Tariff),
    "month": (_("Month"), None, None),
}
FILTERS = ("zone", "area", "book", "reader", "collector", "category", "tariff")
PAID_KINDS = (EntryKind.PAYMENT, EntryKind.TRANSFER_IN)
DEBIT_KINDS = (EntryKind.BILL, EntryKind.LATE_FEE)


@dataclass
class Selection:
    """What a report covers: billing/business months ``month_from``–``month_to``, the
    zones the operator may see (None: all), chosen dimensions, and the grouping."""

    month_from: object
    month_to: object
    zones: object = None
    group_by: str = "zone"
    filters: dict = field(default_factory=dict)  # dimension name → id

    def narrow(self, queryset):
        if self.zones is not None:
            queryset = queryset.filter(zone_id__in=self.zones)
        for name, value in self.filters.items():
            if value:
                queryset = queryset.filter(**{GROUPS[name][1]: value})
        return queryset

    def by_period(self, queryset):
        return self.narrow(queryset).filter(period__range=(self.month_from, self.month_to))

    def by_month(self, queryset):
        return self.narrow(queryset).filter(month__range=(self.month_from, self.month_to))

    def group_column(self, monthly):
        """The fact column rows are grouped on (months: billing or business month)."""
        if self.group_by == "month":
            return "period" if monthly == "period" else "month"
        return GROUPS[self.group_by][1]


@dataclass
class Column:
    key: str
    label: str
    type: str = MONEY


@dataclass
class Table:
    title: str
    columns: list
    rows: list  # dicts: "group" (label) and each column's key
    total: dict

    def header(self):
        return [c.label for c in self.columns]

    def cells(self, row):
        return [row.get(c.key) for c in self.columns]


def _sign(field_name="amount"):
    """An entry fact's amount with the sign of what it does to its kind (reversals −)."""
    return Case(
        When(reversal=True, then=-F(field_name)),
        default=F(field_name),
    )


def group_labels(group_by, keys):
    """Names of the group ``keys`` (ids, or months) in the operator's language, in order."""
    if group_by == "month":
        return {key: key.strftime("%Y-%m") for key in keys}
    _label, _column, model = GROUPS[group_by]
    names = {0: str(_("(none)"))}
    for obj in model.objects.filter(pk__in=[k for k in keys if k]):
        code = getattr(obj, "code", "") or getattr(obj, "number", "")
        names[obj.pk] = f"{code} {obj.name}".strip() if code else str(obj.name)
    return names


def _sorted_rows(group_by, values):
    """[(key, label, figures)] in the group's natural order (months, codes)."""
    labels = group_labels(group_by, list(values))
    keys = sorted(values, key=lambda k: (k == 0, labels.get(k, str(k))))
    return [(key, labels.get(key, str(key)), values[key]) for key in keys]


def _add(target, source):
    for name, value in source.items():
        target[name] = target.get(name, 0) + (value or 0)


def _finish(title, columns, per_group, group_by, derive):
    rows = []
    total = {}
    for _key, label, figures in _sorted_rows(group_by, per_group):
        _add(total, figures)
        rows.append({"group": label, **derive(dict(figures))})
    total = {"group": str(_("Total")), **derive(total)}
    group_label = GROUPS[group_by][0]
    return Table(title, [Column("group", group_label, TEXT), *columns], rows, total)


def fen(value):
    """A sum read from the database as yuan to the fen (SQLite sums decimals as floats)."""
    return round_fen(Decimal(str(value or 0)))


def _rate(paid, due):
    if not due:
        return None
    return (Decimal(paid) / Decimal(due) * 100).quantize(Decimal("0.1"))


# --- F8.3 / F8.9 billing and collection statistics -------------------------------------------


def statistics(selection):
    """Bills, volume, billed, late fees, what settled them, outstanding, the collection
    rate, and the payments received, per group (F8.3; past months F8.9)."""
    per_group = defaultdict(dict)
    by_period = selection.group_column("period")
    billed = (
        selection.by_period(EntryFact.objects)
        .filter(kind__in=(EntryKind.BILL, EntryKind.RED_BILL, EntryKind.LATE_FEE))
        .values(by_period, "kind")
        .annotate(
            amount=Sum(_sign()),
            bills=Sum(_sign("bills"), output_field=IntegerField()),
            volume=Sum(_sign("volume")),
        )
    )
    for row in billed:
        figures = per_group[row[by_period]]
        if row["kind"] == EntryKind.BILL:
            _add(figures, {"bills": row["bills"], "volume": row["volume"]})
            _add(figures, {"billed": row["amount"]})
        elif row["kind"] == EntryKind.RED_BILL:
            _add(figures, {"volume": row["volume"], "red": -row["amount"]})
        else:
            _add(figures, {"late_fees": row["amount"]})
    settled = (
        selection.by_period(SettlementFact.objects)
        .filter(debit_kind__in=DEBIT_KINDS)
        .values(by_period, "credit_kind")
        .annotate(amount=Sum("amount"))
    )
    names = {
        EntryKind.PAYMENT: "paid",
        EntryKind.TRANSFER_IN: "paid",
        EntryKind.WAIVER: "waived",
        EntryKind.WRITE_OFF: "written_off",
        EntryKind.RED_BILL: "red_credited",
    }
    for row in settled:
        _add(per_group[row[by_period]], {names[row["credit_kind"]]: row["amount"]})
    by_month = selection.group_column("month")
    received = (
        selection.by_month(EntryFact.objects)
        .filter(kind=EntryKind.PAYMENT)
        .values(by_month)
        .annotate(amount=Sum(_sign()))
    )
    for row in received:
        _add(per_group[row[by_month]], {"received": row["amount"]})

    def derive(f):
        money = {
            k: fen(f.get(k))
            for k in (
                "billed",
                "red",
                "late_fees",
                "paid",
                "waived",
                "written_off",
                "red_credited",
                "received",
            )
        }
        outstanding = (
            money["billed"]
            + money["late_fees"]
            - money["paid"]
            - money["waived"]
            - money["written_off"]
            - money["red_credited"]
        )
        due = money["billed"] + money["late_fees"] - money["waived"] - money["red_credited"]
        return {
            "bills": int(f.get("bills") or 0),
            "volume": fen(f.get("volume")),
            **money,
            "outstanding": outstanding,
            "rate": _rate(money["paid"], due),
        }

    columns = [
        Column("bills", pgettext_lazy("report", "Bills"), COUNT),
        Column("volume", _("Volume (m³)"), VOLUME),
        Column("billed", pgettext_lazy("report", "Billed")),
        Column("red", pgettext_lazy("report", "Red bills")),
        Column("late_fees", pgettext_lazy("report", "Late fees")),
        Column("paid", pgettext_lazy("report", "Paid")),
        Column("waived", pgettext_lazy("report", "Waived")),
        Column("written_off", pgettext_lazy("report", "Written off")),
        Column("red_credited", _("Red-credited")),
        Column("outstanding", pgettext_lazy("report", "Outstanding")),
        Column("rate", _("Collection rate %"), RATE),
        Column("received", _("Payments received")),
    ]
    return _finish(
        _("Billing and collection statistics"), columns, per_group, selection.group_by, derive
    )


# --- F8.2 / F8.8 revenue by price item, F8.4 surcharges ------------------------------------


def _item_names(item_ids):
    return {
        item.pk: item.name
        for item in PriceItem.objects.filter(pk__in=item_ids).order_by("sort_order", "code")
    }


def _split(amount, weights):
    """``amount`` split over ``weights`` {key: weight} in proportion, to the fen, the fens
    left by rounding going to the largest remainders: the parts add up to ``amount``."""
    total = sum(weights.values())
    if not total or not amount:
        return dict.fromkeys(weights, ZERO)
    cents = int(fen(amount) * 100)
    exact = {k: Decimal(cents) * w / total for k, w in weights.items()}
    parts = {k: int(v.to_integral_value(rounding="ROUND_FLOOR")) for k, v in exact.items()}
    left = cents - sum(parts.values())
    for k in sorted(exact, key=lambda k: (parts[k] - exact[k], str(k)))[: abs(left)]:
        parts[k] += 1 if left > 0 else -1
    return {k: Decimal(v) / 100 for k, v in parts.items()}


# the dimensions of one billing month's bills (all but the business month)
FACT_KEY = tuple(name for name in Dimensions.KEY if name != "month")


def revenue_by_item(selection, kinds=None):
    """Per group and price item: volume and amount billed on the bills of the months
    (less cancelled bills, with red bills), and how much of it has been paid (F8.2, F8.8).

    What a payment paid of each item: its settlement of the bills of one book, tariff,
    category and month is split over their items in proportion to the items' billed
    amounts (to the fen, largest remainder), so the items add up to what was paid.
    ``kinds``: only lines of these kinds (F8.4 surcharges: over-quota and extra fees).
    """
    by_period = selection.group_column("period")
    lines = selection.by_period(LineFact.objects)
    if kinds:
        lines = lines.filter(line_kind__in=kinds)
    item_rows = lines.values(*FACT_KEY, "item_id").annotate(
        volume=Sum(_sign("volume")), amount=Sum(_sign())
    )
    weights = defaultdict(dict)  # fact key → {item: billed amount}
    billed = defaultdict(lambda: defaultdict(lambda: [ZERO, ZERO, ZERO]))
    for row in item_rows:
        key = tuple(row[k] for k in FACT_KEY)
        weights[key][row["item_id"]] = row["amount"]
        figures = billed[row[by_period]][row["item_id"]]
        figures[0] += row["volume"]
        figures[1] += row["amount"]
    all_lines = (
        selection.by_period(LineFact.objects).values(*FACT_KEY).annotate(amount=Sum(_sign()))
    )
    bill_totals = {tuple(r[k] for k in FACT_KEY): r["amount"] for r in all_lines}
    paid = (
        selection.by_period(SettlementFact.objects)
        .filter(debit_kind=EntryKind.BILL, credit_kind__in=PAID_KINDS)
        .values(*FACT_KEY)
        .annotate(amount=Sum("amount"))
    )
    for row in paid:
        key = tuple(row[k] for k in FACT_KEY)
        if key not in weights:
            continue
        total = bill_totals.get(key) or ZERO
        # the share of the payment that went to the chosen kinds of lines
        share = sum(weights[key].values())
        amount = row["amount"] if not total else row["amount"] * share / total
        group = row[by_period]
        for item, part in _split(amount, weights[key]).items():
            billed[group][item][2] += part
    items = _item_names({item for groups in billed.values() for item in groups})
    order = list(items)
    table_rows, total = [], defaultdict(lambda: [ZERO, ZERO, ZERO])
    for _key, label, per_item in _sorted_rows(selection.group_by, billed):
        for item in sorted(per_item, key=lambda i: order.index(i) if i in order else 0):
            volume, amount, collected = per_item[item]
            for i, v in enumerate((volume, amount, collected)):
                total[item][i] += v
            table_rows.append(
                _item_row(label, items.get(item, str(item)), volume, amount, collected)
            )
    group_label = GROUPS[selection.group_by][0]
    title = _("Surcharges") if kinds else _("Revenue by price item")
    totals = [
        _item_row(str(_("Total")), items.get(item, str(item)), *total[item])
        for item in sorted(total, key=lambda i: order.index(i) if i in order else 0)
    ]
    grand = _item_row(
        str(_("Total")),
        str(_("All items")),
        sum((t[0] for t in total.values()), ZERO),
        sum((t[1] for t in total.values()), ZERO),
        sum((t[2] for t in total.values()), ZERO),
    )
    columns = [
        Column("group", group_label, TEXT),
        Column("item", _("Price item"), TEXT),
        Column("volume", _("Volume (m³)"), VOLUME),
        Column("billed", pgettext_lazy("report", "Billed")),
        Column("paid", pgettext_lazy("report", "Paid")),
        Column("outstanding", _("Not paid")),
        Column("rate", _("Collection rate %"), RATE),
    ]
    table = Table(title, columns, table_rows + totals, grand)
    return table


def _item_row(group, item, volume, billed, paid):
    billed, paid = fen(billed), fen(paid)
    return {
        "group": group,
        "item": item,
        "volume": fen(volume),
        "billed": billed,
        "paid": paid,
        "outstanding": billed - paid,
        "rate": _rate(paid, billed),
    }


SURCHARGE_KINDS = (BillLine.Kind.QUOTA, BillLine.Kind.FEE)


def surcharges(selection):
    """Over-quota surcharges and extra fees billed and paid, per group and item (F8.4)."""
    return revenue_by_item(selection, kinds=SURCHARGE_KINDS)


# --- F8.5 waivers, F8.6 bad debts, and the like -------------------------------------------


def entry_kind_report(selection, kind, title):
    """The entries of ``kind`` posted in the business months: how many, how much, how many
    reversed, and the net (F8.5 waivers, F8.6 write-offs of bad debts)."""
    by_month = selection.group_column("month")
    rows = (
        selection.by_month(EntryFact.objects)
        .filter(kind=kind)
        .values(by_month, "reversal")
        .annotate(entries=Sum("entries"), amount=Sum("amount"))
    )
    per_group = defaultdict(dict)
    for row in rows:
        if row["reversal"]:
            _add(
                per_group[row[by_month]], {"undone": row["entries"], "undone_amount": row["amount"]}
            )
        else:
            _add(per_group[row[by_month]], {"count": row["entries"], "amount": row["amount"]})

    def derive(f):
        amount = fen(f.get("amount"))
        undone = fen(f.get("undone_amount"))
        return {
            "count": int(f.get("count") or 0),
            "amount": amount,
            "undone": int(f.get("undone") or 0),
            "undone_amount": undone,
            "net": amount - undone,
        }

    columns = [
        Column("count", pgettext_lazy("report", "Number"), COUNT),
        Column("amount", pgettext_lazy("report", "Amount")),
        Column("undone", pgettext_lazy("report", "Reversed"), COUNT),
        Column("undone_amount", _("Amount reversed")),
        Column("net", pgettext_lazy("report", "Net")),
    ]
    return _finish(title, columns, per_group, selection.group_by, derive)


def waivers(selection):
    return entry_kind_report(selection, EntryKind.WAIVER, _("Late-fee waivers"))


def bad_debts(selection):
    return entry_kind_report(selection, EntryKind.WRITE_OFF, _("Bad debts written off"))


def late_fees_charged(selection):
    return entry_kind_report(selection, EntryKind.LATE_FEE, _("Late fees charged"))


# --- M9 analysis: trends, year over year, arrears ageing ------------------------------------


def shift_months(month, months):
    """The first of the month ``months`` months after ``month`` (negative: before)."""
    index = month.year * 12 + month.month - 1 + months
    return month.replace(year=index // 12, month=index % 12 + 1, day=1)


def months_between(first, last):
    months, month = [], first
    while month <= last:
        months.append(month)
        month = shift_months(month, 1)
    return months


def trend(selection):
    """Per month of the selection: volume, billed, paid, outstanding, collection rate, and the
    same month a year before with the change in per cent (F9.2)."""
    by_month = dataclass_replace(selection, group_by="month")
    now = {r["group"]: r for r in statistics(by_month).rows}
    year_ago = dataclass_replace(
        selection,
        group_by="month",
        month_from=shift_months(selection.month_from, -12),
        month_to=shift_months(selection.month_to, -12),
    )
    before = {r["group"]: r for r in statistics(year_ago).rows}
    rows = []
    for month in months_between(selection.month_from, selection.month_to):
        label = month.strftime("%Y-%m")
        row = now.get(label, {})
        old = before.get(shift_months(month, -12).strftime("%Y-%m"), {})
        volume, billed = row.get("volume", ZERO), row.get("billed", ZERO)
        old_volume, old_billed = old.get("volume"), old.get("billed")  # None: nothing billed
        rows.append(
            {
                "month": label,
                "volume": volume,
                "billed": billed,
                "paid": row.get("paid", ZERO),
                "outstanding": row.get("outstanding", ZERO),
                "rate": row.get("rate"),
                "volume_last_year": old_volume,
                "billed_last_year": old_billed,
                "volume_change": _change(volume, old_volume),
                "billed_change": _change(billed, old_billed),
            }
        )
    return rows


def _change(now, before):
    if not before:
        return None
    return ((Decimal(now) - Decimal(before)) / Decimal(before) * 100).quantize(Decimal("0.1"))


AGE_BUCKETS = (
    (0, 0, _("This month")),
    (1, 2, _("1–2 months")),
    (3, 5, _("3–5 months")),
    (6, 11, _("6–11 months")),
    (12, None, _("A year or more")),
)


def ageing(selection, today_month):
    """What is still owed on bills and late fees, by the age of their billing month on
    ``today_month`` (arrears ageing): [(bucket label, amount, share %)]. The selection's
    months are ignored: every month still owed counts."""
    debits = (
        selection.narrow(EntryFact.objects)
        .filter(kind__in=DEBIT_KINDS)
        .values("period")
        .annotate(amount=Sum(_sign()))
    )
    owed = defaultdict(lambda: ZERO)
    for row in debits:
        owed[row["period"]] += fen(row["amount"])
    settled = (
        selection.narrow(SettlementFact.objects)
        .filter(debit_kind__in=DEBIT_KINDS)
        .values("period")
        .annotate(amount=Sum("amount"))
    )
    for row in settled:
        owed[row["period"]] -= fen(row["amount"])
    buckets = [ZERO] * len(AGE_BUCKETS)
    for period, amount in owed.items():
        age = (today_month.year - period.year) * 12 + today_month.month - period.month
        for index, (low, high, _label) in enumerate(AGE_BUCKETS):
            if age >= low and (high is None or age <= high):
                buckets[index] += amount
                break
        else:  # billed for a month still to come
            buckets[0] += amount
    total = sum(buckets, ZERO)
    return [
        (label, amount, _rate(amount, total))
        for (_low, _high, label), amount in zip(AGE_BUCKETS, buckets, strict=True)
    ]
