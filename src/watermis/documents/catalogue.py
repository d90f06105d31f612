"""The fields a layout of each document kind may print (F11.8): the field catalogue.

Each kind's data is a tree of plain values: groups (``customer``), fields
(``customer.name``) and lists of rows (``bills``, each row with its own
fields). The source function of a kind (:mod:`watermis.documents.sources`, or
the invoice module for invoices) builds exactly this shape; the sample data
(:mod:`watermis.documents.samples`) fills every field for the preview; tests
hold the three together, and docs/documents.md lists the same fields for the
administrator.

Field types say how a value is best printed: ``text`` (str), ``money``
(Decimal yuan: ``|money``, ``|cny_upper``), ``number`` (Decimal: ``|number(0)``),
``date`` (``|date("cn")``) and ``month`` (a date on the 1st: ``|month("cn")``).
"""

from dataclasses import dataclass, field

from django.utils.translation import gettext_lazy as _

from .models import DocumentKind

TEXT, MONEY, NUMBER, DATE, MONTH = "text", "money", "number", "date", "month"
FIELD_TYPES = (TEXT, MONEY, NUMBER, DATE, MONTH)


@dataclass(frozen=True)
class Field:
    label: str
    type: str = TEXT


@dataclass(frozen=True)
class Group:
    label: str
    fields: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Rows:
    """A list of rows (a table's rows: ``bills``); each row has ``fields``."""

    label: str
    fields: dict = field(default_factory=dict)


COMPANY = Group(
    _("The water company"),
    {
        "name": Field(_("Company name")),
        "short_name": Field(_("Short name")),
        "address": Field(_("Address")),
        "postal_code": Field(_("Postal code")),
        "phone": Field(_("Telephone")),
        "service_hotline": Field(_("Service hotline")),
        "credit_code": Field(_("Unified social credit code")),
        "bank_name": Field(_("Bank")),
        "bank_account": Field(_("Bank account")),
        "website": Field(_("Website")),
    },
)

CUSTOMER_FIELDS = {
    "account_no": Field(_("Account number")),
    "name": Field(_("Account name")),
    "address": Field(_("Service address")),
    "phone": Field(_("Telephone")),
    "category": Field(_("Water-use category")),
    "household_size": Field(_("Household size"), NUMBER),
    "payment_method": Field(_("Payment method")),
    "bank_name": Field(_("Bank")),
    "bank_account": Field(_("Bank account")),
    "mandate_no": Field(_("Deduction mandate number")),
    "zone": Field(_("Zone")),
    "book_code": Field(_("Reading book")),
    "route_order": Field(_("Route order"), NUMBER),
    "opened_on": Field(_("Opened on"), DATE),
}
CUSTOMER = Group(_("The customer"), CUSTOMER_FIELDS)

COMMON = {
    "company": COMPANY,
    "printed_on": Field(_("Printing date"), DATE),
    "printed_by": Field(_("Printed by (operator)")),
}

BOOK = Group(
    _("The reading book"),
    {
        "code": Field(_("Book code")),
        "name": Field(_("Book name")),
        "area": Field(_("Reading area")),
        "zone": Field(_("Zone")),
        "reader": Field(_("Meter reader")),
        "reader_phone": Field(_("Meter reader's telephone")),
        "collector": Field(_("Collector")),
        "cycle": Field(_("Reading cycle")),
        "reading_day": Field(_("Reading day"), NUMBER),
    },
)

METER = Group(
    _("The meter"),
    {
        "number": Field(_("Meter number")),
        "caliber": Field(_("Caliber")),
        "brand": Field(_("Brand")),
        "model": Field(_("Model")),
        "digits": Field(_("Dial digits"), NUMBER),
        "installed_on": Field(_("Installed on"), DATE),
        "location": Field(_("Location")),
        "initial_reading": Field(_("Initial reading"), NUMBER),
        "tariff": Field(_("Tariff")),
    },
)

READING_ROWS = Rows(
    _("The last readings (oldest first)"),
    {
        "month": Field(_("Billing month"), MONTH),
        "read_on": Field(_("Read on"), DATE),
        "previous": Field(_("Previous reading"), NUMBER),
        "current": Field(_("Current reading"), NUMBER),
        "volume": Field(_("Consumption (m³)"), NUMBER),
        "status": Field(_("Meter status")),
    },
)

LAST_READING = Group(
    _("The last reading (empty when none)"),
    {
        "month": Field(_("Billing month"), MONTH),
        "read_on": Field(_("Read on"), DATE),
        "current": Field(_("Reading"), NUMBER),
        "volume": Field(_("Consumption (m³)"), NUMBER),
    },
)

BILL_ROWS = Rows(
    _("Bills"),
    {
        "month": Field(_("Billing month"), MONTH),
        "meter_number": Field(_("Meter number")),
        "period_start": Field(_("From (previous reading)"), DATE),
        "period_end": Field(_("To (this reading)"), DATE),
        "previous": Field(_("Previous reading"), NUMBER),
        "current": Field(_("Current reading"), NUMBER),
        "volume": Field(_("Billed volume (m³)"), NUMBER),
        "amount": Field(_("Amount"), MONEY),
    },
)

LINE_FIELDS = {
    "item": Field(_("Price item")),
    "tier": Field(_("Tier (empty when none)")),
    "volume": Field(_("Volume (m³)"), NUMBER),
    "unit_price": Field(_("Unit price"), NUMBER),
    "amount": Field(_("Amount"), MONEY),
}

INVOICE = Group(
    _("The invoice"),
    {
        "number": Field(_("Invoice number")),
        "issued_on": Field(_("Issued on"), DATE),
        "operator": Field(_("Issued by (operator)")),
        "remark": Field(_("Remark")),
        "original_number": Field(_("Number of the invoice a red invoice corrects")),
    },
)

READING = Group(
    _("The reading of the current bill (the first meter)"),
    {
        "meter_number": Field(_("Meter number")),
        "period_start": Field(_("From (previous reading)"), DATE),
        "period_end": Field(_("To (this reading)"), DATE),
        "previous": Field(_("Previous reading"), NUMBER),
        "current": Field(_("Current reading"), NUMBER),
        "volume": Field(_("Billed volume (m³)"), NUMBER),
    },
)


def _with(*groups):
    fields = {}
    for group in groups:
        fields.update(group)
    return fields


CATALOGUE = {
    DocumentKind.WATER_INVOICE: Group(
        DocumentKind.WATER_INVOICE.label,
        _with(
            COMMON,
            {
                "invoice": INVOICE,
                "customer": CUSTOMER,
                "bills": BILL_ROWS,
                "lines": Rows(_("Priced lines of the bills"), LINE_FIELDS),
                "totals": Group(
                    _("Totals"),
                    {
                        "water": Field(_("Bills"), MONEY),
                        "late_fee": Field(_("Late fees"), MONEY),
                        "total": Field(_("Total"), MONEY),
                    },
                ),
                "payment": Group(
                    _("The payment"),
                    {
                        "method": Field(_("Paid by")),
                        "received": Field(_("Received"), MONEY),
                        "change": Field(_("Change given"), MONEY),
                        "balance": Field(_("Prepaid balance after"), MONEY),
                    },
                ),
            },
        ),
    ),
    DocumentKind.AGENCY_INVOICE: Group(
        DocumentKind.AGENCY_INVOICE.label,
        _with(
            COMMON,
            {
                "invoice": INVOICE,
                "customer": CUSTOMER,
                "lines": Rows(
                    _("Fees collected for other bodies"),
                    {
                        "month": Field(_("Billing month"), MONTH),
                        **LINE_FIELDS,
                        "collected_for": Field(_("Collected for")),
                    },
                ),
                "totals": Group(_("Totals"), {"total": Field(_("Total"), MONEY)}),
            },
        ),
    ),
    DocumentKind.RECEIPT: Group(
        DocumentKind.RECEIPT.label,
        _with(
            COMMON,
            {
                "receipt": Group(
                    _("The receipt"),
                    {
                        "number": Field(_("Receipt number")),
                        "issued_on": Field(_("Issued on"), DATE),
                        "operator": Field(_("Issued by (operator)")),
                        "remark": Field(_("Remark")),
                    },
                ),
                "customer": CUSTOMER,
                "payment": Group(
                    _("The payment"),
                    {
                        "method": Field(_("Paid by")),
                        "amount": Field(_("Amount paid"), MONEY),
                        "received": Field(_("Received"), MONEY),
                        "change": Field(_("Change given"), MONEY),
                        "balance_before": Field(_("Prepaid balance before"), MONEY),
                        "balance_after": Field(_("Prepaid balance after"), MONEY),
                    },
                ),
                "bills": BILL_ROWS,
            },
        ),
    ),
    DocumentKind.PAYMENT_NOTICE: Group(
        DocumentKind.PAYMENT_NOTICE.label,
        _with(
            COMMON,
            {
                "as_of": Field(_("As of"), DATE),
                "pay_by": Field(_("Pay by"), DATE),
                "month": Field(_("Billing month of the current bills"), MONTH),
                "customer": CUSTOMER,
                "reading": READING,
                "bills": Rows(
                    _("Current bills (one per meter)"),
                    {
                        **BILL_ROWS.fields,
                        "open": Field(_("Still to pay"), MONEY),
                        "due_on": Field(_("Due on"), DATE),
                    },
                ),
                "lines": Rows(
                    _("Priced lines of the current bills"),
                    {"meter_number": Field(_("Meter number")), **LINE_FIELDS},
                ),
                "arrears": Rows(
                    _("Earlier unpaid bills"),
                    {
                        "month": Field(_("Billing month"), MONTH),
                        "meter_number": Field(_("Meter number")),
                        "amount": Field(_("Amount"), MONEY),
                        "open": Field(_("Still to pay"), MONEY),
                        "late_fee": Field(_("Late fee"), MONEY),
                        "due_on": Field(_("Due on"), DATE),
                    },
                ),
                "totals": Group(
                    _("Totals"),
                    {
                        "current": Field(_("Current bills"), MONEY),
                        "arrears": Field(_("Earlier unpaid bills"), MONEY),
                        "late_fee": Field(_("Late fees"), MONEY),
                        "total": Field(_("Total to pay"), MONEY),
                    },
                ),
            },
        ),
    ),
    DocumentKind.ARREARS_NOTICE: Group(
        DocumentKind.ARREARS_NOTICE.label,
        _with(
            COMMON,
            {
                "as_of": Field(_("As of"), DATE),
                "pay_by": Field(_("Pay by"), DATE),
                "customer": CUSTOMER,
                "bills": Rows(
                    _("Overdue bills (oldest first)"),
                    {
                        "month": Field(_("Billing month"), MONTH),
                        "meter_number": Field(_("Meter number")),
                        "volume": Field(_("Billed volume (m³)"), NUMBER),
                        "amount": Field(_("Amount"), MONEY),
                        "open": Field(_("Still to pay"), MONEY),
                        "late_fee": Field(_("Late fee"), MONEY),
                        "total": Field(_("Total"), MONEY),
                        "due_on": Field(_("Due on"), DATE),
                        "days_overdue": Field(_("Days overdue"), NUMBER),
                    },
                ),
                "totals": Group(
                    _("Totals"),
                    {
                        "principal": Field(_("Unpaid bills"), MONEY),
                        "late_fee": Field(_("Late fees"), MONEY),
                        "total": Field(_("Total to pay"), MONEY),
                        "months": Field(_("Months overdue"), NUMBER),
                        "oldest_month": Field(_("Oldest month"), MONTH),
                    },
                ),
            },
        ),
    ),
    DocumentKind.BANK_SLIP: Group(
        DocumentKind.BANK_SLIP.label,
        _with(
            COMMON,
            {
                "slip": Group(
                    _("The collection slip"),
                    {
                        "number": Field(_("Slip number")),
                        "batch": Field(_("Batch")),
                        "issued_on": Field(_("Issued on"), DATE),
                    },
                ),
                "customer": CUSTOMER,
                "bills": BILL_ROWS,
                "totals": Group(_("Totals"), {"amount": Field(_("Amount to collect"), MONEY)}),
            },
        ),
    ),
    DocumentKind.DEPOSIT_VOUCHER: Group(
        DocumentKind.DEPOSIT_VOUCHER.label,
        _with(
            COMMON,
            {
                "voucher": Group(
                    _("The voucher"),
                    {
                        "number": Field(_("Voucher number")),
                        "issued_on": Field(_("Issued on"), DATE),
                        "operator": Field(_("Issued by (operator)")),
                        "remark": Field(_("Remark")),
                    },
                ),
                "customer": CUSTOMER,
                "deposit": Group(
                    _("The deposit"),
                    {
                        "amount": Field(_("Amount deposited"), MONEY),
                        "method": Field(_("Paid by")),
                        "balance_before": Field(_("Prepaid balance before"), MONEY),
                        "balance_after": Field(_("Prepaid balance after"), MONEY),
                    },
                ),
            },
        ),
    ),
    DocumentKind.METER_CARD: Group(
        DocumentKind.METER_CARD.label,
        _with(
            COMMON,
            {
                "book": BOOK,
                "customer": CUSTOMER,
                "meter": METER,
                "readings": READING_ROWS,
                "last": LAST_READING,
                "average_volume": Field(_("Average monthly consumption (m³)"), NUMBER),
            },
        ),
    ),
}

TABLE_NAMES = {"row": Field(_("The row (a table column's template)")), "index": Field("#")}


def catalogue(kind):
    return CATALOGUE[DocumentKind(kind)]


def walk(node, prefix=()):
    """Every (path, node) below ``node``, depth first (for the docs and the edit page)."""
    for name, child in node.fields.items():
        path = (*prefix, name)
        yield path, child
        if isinstance(child, Group | Rows):
            yield from walk(child, path)


def list_paths_of(root):
    """The dotted paths of the lists of rows below ``root`` (what a table may print)."""
    return [".".join(path) for path, node in walk(root) if isinstance(node, Rows)]


def list_paths(kind):
    return list_paths_of(catalogue(kind))


def resolve(root, path):
    """The catalogue node at ``path`` (names and list indexes), or raise ``KeyError`` with a
    message naming the first unknown part. Past a plain field anything goes (methods of
    a text, for instance); the sample rendering checks those."""
    node = root
    done = []
    for part in path:
        if isinstance(node, Field):
            return node
        if isinstance(node, Rows):
            if isinstance(part, int) or (isinstance(part, str) and part.isdigit()):
                node = Group(node.label, node.fields)
                done.append(str(part))
                continue
            raise KeyError(
                _(
                    '"%(path)s" is a list: print it with a table, a loop or an index like %(path)s[0]'
                )
                % {"path": ".".join(done)}
            )
        if not isinstance(part, str) or part not in node.fields:
            wanted = ".".join([*done, str(part)])
            from .templating import suggest

            close = suggest(part, node.fields)
            if close:
                raise KeyError(
                    _('unknown field "%(path)s"; did you mean "%(close)s"?')
                    % {"path": wanted, "close": ".".join([*done, close])}
                )
            raise KeyError(_('unknown field "%(path)s"') % {"path": wanted})
        node = node.fields[part]
        done.append(part)
    return node
