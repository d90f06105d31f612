"""Electronic invoices (数电票, DOMAIN.md section 5): the provider interface and the local provider.

An e-invoice is issued by a provider (the tax bureau's platform, or a vendor
such as Nuonuo), which numbers it (20 digits: year, province, channel,
sequence) and returns its files. WaterMIS talks to the provider through
:class:`Provider`; the setting ``WATERMIS_EINVOICE_PROVIDER`` names the class
(dotted path) and ``WATERMIS_EINVOICE_OPTIONS`` its keyword arguments, so a
second provider is one new class and two settings, with no change to billing
or invoicing code.

The provider is called inside the issuing transaction with a request id that
is unique per invoice (:attr:`EInvoiceRequest.request_id`): a provider that
receives the same id twice returns the first result, and a rolled-back issue
can be found again with :meth:`Provider.query_request`.

:class:`LocalProvider` numbers and draws e-invoices itself (tests, the demo,
training): numbers from a locked counter per prefix, a PDF laid out like the
national e-invoice, and an XML file with every stored field.
"""

import datetime
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .models import EInvoiceSequence, InvoiceType

DEFAULT_PROVIDER = "watermis.invoices.einvoice.LocalProvider"
ZERO = Decimal("0.00")


class EInvoiceError(Exception):
    """The provider refused or failed; the message says why, in words an operator reads."""


class Status:
    """What a provider says of an issued e-invoice."""

    NORMAL = "normal"
    PARTLY_REVERSED = "partly_reversed"
    REVERSED = "reversed"
    UNKNOWN = "unknown"
    LABELS = {
        NORMAL: gettext_lazy("Normal"),
        PARTLY_REVERSED: gettext_lazy("Partly offset by red invoices"),
        REVERSED: gettext_lazy("Offset in full by a red invoice"),
        UNKNOWN: gettext_lazy("Unknown to the provider"),
    }

    @classmethod
    def label(cls, value):
        return cls.LABELS.get(value, value)


@dataclass(frozen=True)
class Party:
    name: str
    tax_id: str = ""
    address: str = ""
    kind: str = ""  # buyer: individual or company


@dataclass(frozen=True)
class Line:
    """A line item: goods or service with its tax classification code, and the tax."""

    name: str
    tax_code: str
    unit: str
    quantity: Decimal | None
    unit_price: Decimal | None
    amount: Decimal  # including tax
    net: Decimal
    tax: Decimal
    rate: Decimal
    rate_label: str
    treatment: str


@dataclass(frozen=True)
class EInvoiceRequest:
    request_id: str
    invoice_type: str
    issued_at: datetime.datetime
    seller: Party
    buyer: Party
    lines: tuple
    net: Decimal
    tax: Decimal
    total: Decimal
    remark: str = ""
    issuer: str = ""
    tax_inclusive: bool = True
    original_number: str = ""  # red invoices: the blue invoice they offset
    red_reason: str = ""


@dataclass(frozen=True)
class EInvoiceResult:
    number: str
    issued_at: datetime.datetime
    status: str = Status.NORMAL
    pdf: bytes | None = None
    xml: bytes | None = None
    ofd: bytes | None = None
    confirmation_no: str = ""  # red invoices: the red-letter confirmation (红字确认单)
    extra: dict = field(default_factory=dict)


class Provider:
    """What every e-invoice provider offers. Subclasses implement the four methods."""

    name = ""

    def issue(self, request: EInvoiceRequest) -> EInvoiceResult:
        """Issue a blue (ordinary or special) e-invoice."""
        raise NotImplementedError

    def red_issue(self, request: EInvoiceRequest) -> EInvoiceResult:
        """Issue a red e-invoice offsetting ``request.original_number`` (in full or in part):
        raise the red-letter confirmation, then the red invoice."""
        raise NotImplementedError

    def query(self, number: str) -> str:
        """The :class:`Status` of an issued e-invoice."""
        raise NotImplementedError

    def query_request(self, request_id: str) -> str | None:
        """The number issued for ``request_id``, or None when the provider has none."""
        raise NotImplementedError


def get_provider():
    """The configured provider (``WATERMIS_EINVOICE_PROVIDER``, ``WATERMIS_EINVOICE_OPTIONS``)."""
    path = getattr(settings, "WATERMIS_EINVOICE_PROVIDER", "") or DEFAULT_PROVIDER
    options = getattr(settings, "WATERMIS_EINVOICE_OPTIONS", None) or {}
    return import_string(path)(**options)


# ------------------------------------------------------------------------- the local provider


class LocalProvider(Provider):
    """Numbers and draws e-invoices locally (tests, demo, training): nothing leaves the server.

    Numbers: two digits of the year, the two-digit ``province`` code, the one-digit
    ``channel`` and a 15-digit sequence per prefix, taken under the counter's row lock.
    """

    name = "local"

    def __init__(self, province="42", channel="9"):
        province, channel = str(province), str(channel)
        if len(province) != 2 or not province.isdigit():
            raise EInvoiceError(_("The province code of e-invoice numbers has two digits."))
        if len(channel) != 1 or not channel.isdigit():
            raise EInvoiceError(_("The channel of e-invoice numbers is one digit."))
        self.province, self.channel = province, channel

    def _next_number(self, issued_at):
        prefix = f"{timezone.localtime(issued_at):%y}{self.province}{self.channel}"
        with transaction.atomic():
            EInvoiceSequence.objects.get_or_create(prefix=prefix)
            counter = EInvoiceSequence.objects.select_for_update().get(prefix=prefix)
            value = counter.next_value
            counter.next_value = value + 1
            counter.save(update_fields=["next_value"])
        return f"{prefix}{value:015d}"

    def _result(self, request, red=False):
        number = self._next_number(request.issued_at)
        confirmation = f"{number[:5]}HZ{number[5:]}" if red else ""
        return EInvoiceResult(
            number=number,
            issued_at=request.issued_at,
            pdf=einvoice_pdf(request, number, red, confirmation),
            xml=einvoice_xml(request, number, red, confirmation),
            confirmation_no=confirmation,
        )

    def issue(self, request):
        if request.total <= 0:
            raise EInvoiceError(_("A blue e-invoice is for an amount above zero."))
        return self._result(request)

    def red_issue(self, request):
        if not request.original_number:
            raise EInvoiceError(_("A red e-invoice names the blue invoice it offsets."))
        if request.total >= 0:
            raise EInvoiceError(_("A red e-invoice is for a negative amount."))
        return self._result(request, red=True)

    def query(self, number):
        from django.db.models import Sum

        from .models import Invoice, InvoiceState

        invoice = Invoice.objects.filter(provider=self.name, number=number).first()
        if invoice is None:
            return Status.UNKNOWN
        if invoice.state == InvoiceState.REVERSED:
            return Status.REVERSED
        reds = invoice.red_invoices.exclude(state=InvoiceState.VOID).aggregate(s=Sum("amount"))
        offset = -(reds["s"] or ZERO)
        if offset >= invoice.amount:
            return Status.REVERSED
        return Status.PARTLY_REVERSED if offset > 0 else Status.NORMAL

    def query_request(self, request_id):
        from .models import Invoice

        invoice = Invoice.objects.filter(provider=self.name, request_id=request_id).first()
        return invoice.number if invoice else None


def _title(request, red):
    kind = "增值税专用发票" if request.invoice_type == InvoiceType.SPECIAL else "普通发票"
    return f"电子发票（{kind}）" + ("（红字）" if red else "")


def _money(value):
    return "" if value is None else f"{value:.2f}"


def einvoice_xml(request, number, red=False, confirmation=""):
    """The e-invoice as XML: every field of DOMAIN.md section 5 (UTF-8 bytes)."""
    root = ET.Element("EInvoice", {"version": "1.0"})

    def add(parent, tag, value):
        ET.SubElement(parent, tag).text = "" if value is None else str(value)

    header = ET.SubElement(root, "Header")
    add(header, "InvoiceNumber", number)
    add(header, "InvoiceType", request.invoice_type)
    add(header, "Red", "true" if red else "false")
    add(header, "IssueTime", timezone.localtime(request.issued_at).isoformat())
    add(header, "TaxInclusive", "true" if request.tax_inclusive else "false")
    add(header, "Issuer", request.issuer)
    add(header, "RequestId", request.request_id)
    if red:
        add(header, "OriginalNumber", request.original_number)
        add(header, "RedConfirmationNumber", confirmation)
        add(header, "RedReason", request.red_reason)
    for tag, party in (("Seller", request.seller), ("Buyer", request.buyer)):
        node = ET.SubElement(root, tag)
        add(node, "Name", party.name)
        add(node, "TaxId", party.tax_id)
        add(node, "AddressPhone", party.address)
        if party.kind:
            add(node, "Type", party.kind)
    items = ET.SubElement(root, "Items")
    for index, line in enumerate(request.lines, start=1):
        node = ET.SubElement(items, "Item", {"no": str(index)})
        add(node, "Name", line.name)
        add(node, "TaxClassificationCode", line.tax_code)
        add(node, "Unit", line.unit)
        add(node, "Quantity", line.quantity)
        add(node, "UnitPrice", line.unit_price)
        add(node, "Amount", _money(line.net))
        add(node, "TaxRate", line.rate)
        add(node, "TaxRateLabel", line.rate_label)
        add(node, "Tax", _money(line.tax))
        add(node, "AmountWithTax", _money(line.amount))
        add(node, "TaxTreatment", line.treatment)
    totals = ET.SubElement(root, "Totals")
    add(totals, "Net", _money(request.net))
    add(totals, "Tax", _money(request.tax))
    add(totals, "Total", _money(request.total))
    add(root, "Remark", request.remark)
    ET.indent(root)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)


def einvoice_context(request, number, red, confirmation):
    lines = [
        {
            "name": line.name,
            "unit": line.unit,
            "quantity": line.quantity,
            "unit_price": line.unit_price,
            "net": line.net,
            "rate": line.rate_label,
            "tax": line.tax,
        }
        for line in request.lines
    ]
    remark = request.remark
    if red:
        remark = (
            f"被红冲蓝字发票号码：{request.original_number} 红字确认单编号：{confirmation} {remark}"
        )
    return {
        "title": _title(request, red),
        "number": number,
        "issued_on": timezone.localtime(request.issued_at).date(),
        "buyer": {"name": request.buyer.name, "tax_id": request.buyer.tax_id},
        "seller": {"name": request.seller.name, "tax_id": request.seller.tax_id},
        "lines": lines,
        "net": request.net,
        "tax": request.tax,
        "total": request.total,
        "remark": remark.strip(),
        "issuer": request.issuer,
    }


def _elements():
    from watermis.documents.defaults import box, caption, column, line, para, table, text

    def pair(x, y, label_w, value_w, h, words, template, size=9, bold=False):
        return [
            text(x, y, label_w, h, words, size=size),
            text(x + label_w, y, value_w, h, template, size=size, bold=bold),
        ]

    return [
        text(40, 6, 130, 9, "{{ einvoice.title }}", size=16, align="C", bold=True),
        line(75, 15.5, 60, 0, stroke=0.4),
        *pair(142, 6, 18, 48, 5, "发票号码：", "{{ einvoice.number }}", bold=True),
        *pair(142, 11, 18, 48, 5, "开票日期：", '{{ einvoice.issued_on|date("cn") }}'),
        box(8, 20, 194, 22),
        line(105, 20, 0, 22),
        caption(10, 21, 40, 5, "购买方信息", size=8, bold=True),
        *pair(10, 27, 14, 80, 5, "名称：", "{{ einvoice.buyer.name }}"),
        *pair(
            10, 33, 52, 42, 5, "统一社会信用代码/纳税人识别号：", "{{ einvoice.buyer.tax_id }}", 8
        ),
        caption(107, 21, 40, 5, "销售方信息", size=8, bold=True),
        *pair(107, 27, 14, 80, 5, "名称：", "{{ einvoice.seller.name }}"),
        *pair(
            107, 33, 52, 42, 5, "统一社会信用代码/纳税人识别号：", "{{ einvoice.seller.tax_id }}", 8
        ),
        table(
            8,
            44,
            48,
            "einvoice.lines",
            [
                column(52, "项目名称", "{{ row.name }}"),
                column(14, "单位", "{{ row.unit }}", "C"),
                column(22, "数量", "{{ row.quantity|number(2) }}", "R"),
                column(24, "单价", "{{ row.unit_price|number(4) }}", "R"),
                column(28, "金额", "{{ row.net|money }}", "R"),
                column(24, "税率/征收率", "{{ row.rate }}", "C"),
                column(30, "税额", "{{ row.tax|money }}", "R"),
            ],
            size=8,
            row_height=5.5,
        ),
        text(10, 93, 20, 5, "合计"),
        text(120, 93, 28, 5, "¥{{ einvoice.net|money }}", align="R"),
        text(172, 93, 30, 5, "¥{{ einvoice.tax|money }}", align="R"),
        box(8, 99, 194, 8),
        *pair(
            10, 100.5, 30, 90, 5, "价税合计（大写）", "{{ einvoice.total|cny_upper }}", bold=True
        ),
        *pair(140, 100.5, 16, 40, 5, "（小写）", "¥{{ einvoice.total|money }}", bold=True),
        box(8, 107, 194, 20),
        caption(10, 108, 12, 5, "备注", size=8, bold=True),
        para(22, 108, 178, 18, "{{ einvoice.remark }}", size=8),
        *pair(10, 130, 16, 50, 5, "开票人：", "{{ einvoice.issuer }}"),
    ]


def einvoice_pdf(request, number, red=False, confirmation=""):
    """The e-invoice drawn as a PDF (the national e-invoice's arrangement, 210 × 140 mm)."""
    from watermis.documents.layout import LayoutSpec
    from watermis.documents.models import DocumentKind
    from watermis.documents.services import render_pdf
    from watermis.documents.sources import common_data

    values = {
        "paper_width": 210,
        "paper_height": 140,
        "print_background": True,
        "name": "e-invoice",
    }
    spec = LayoutSpec.from_values(DocumentKind.WATER_INVOICE, values, _elements())
    context = {
        **common_data(request.issuer, timezone.localtime(request.issued_at).date()),
        "einvoice": einvoice_context(request, number, red, confirmation),
    }
    return render_pdf(DocumentKind.WATER_INVOICE, [context], spec)
