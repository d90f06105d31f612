"""Printing invoices: each invoice as the plain data of its document kind (the field
catalogue of ``watermis.documents.catalogue``), printed with ``render_pdf``.

Paper invoices and receipts are drawn from their stored rows every time they
print, so a reprint is the same document, marked as a copy in the remark.
Electronic invoices print the file their provider returned. Several invoices
print as one PDF, in the order given.
"""

import io
import threading
from collections import defaultdict
from decimal import Decimal

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.utils import timezone, translation

from watermis.billing.models import BillLine
from watermis.customers.models import Customer, Meter
from watermis.documents import pdf as document_pdf
from watermis.documents.models import DocumentKind
from watermis.documents.services import render_pdf
from watermis.documents.sources import common_data, customer_data, operator_name

from .contents import part_of
from .models import InvoiceBill, Medium, Part

ZERO = Decimal("0.00")
TIER_NAMES = "一二三四五六七八九"
# pdfium is not thread-safe: merging shares the documents engine's lock when it has one.
PDFIUM_LOCK = getattr(document_pdf, "_pdfium_lock", None) or threading.Lock()


def tier_name(tier):
    if not tier:
        return ""
    return f"第{TIER_NAMES[tier - 1]}阶梯" if tier <= len(TIER_NAMES) else f"第{tier}阶梯"


def copy_remark(invoice, copy):
    """The remark as printed: a red invoice names the one it offsets; a reprint says so."""
    words = []
    if copy:
        words.append(f"【重打副本 第{invoice.reprints}次】")
    if invoice.red_of_id:
        words.append(f"红字发票，冲销发票 {invoice.red_of.display_number}")
    if invoice.red_confirmation_no:
        words.append(f"红字确认单 {invoice.red_confirmation_no}")
    if invoice.combined:
        words.append(f"合并开票 {invoice.customer_count}户")
    if invoice.remark:
        words.append(invoice.remark)
    return " ".join(words)


def _load(invoices):
    """Rows, bills, lines and customers of ``invoices`` in few queries."""
    ids = [invoice.pk for invoice in invoices]
    rows = defaultdict(list)
    for row in (
        InvoiceBill.objects.filter(invoice_id__in=ids)
        .select_related("bill")
        .order_by("bill__month", "bill__meter_id", "bill_id", "part")
    ):
        rows[row.invoice_id].append(row)
    bill_ids = {row.bill_id for group in rows.values() for row in group}
    bill_lines = defaultdict(list)
    for line in (
        BillLine.objects.filter(bill_id__in=bill_ids)
        .select_related("item")
        .order_by("item__sort_order", "item__code", "kind", "tier", "id")
    ):
        bill_lines[line.bill_id].append(line)
    meter_ids = {row.bill.meter_id for group in rows.values() for row in group if row.bill.meter_id}
    meters = dict(Meter.objects.filter(pk__in=meter_ids).values_list("pk", "number"))
    customer_ids = {invoice.customer_id for invoice in invoices}
    customers = Customer.objects.select_related("category", "zone", "book").in_bulk(customer_ids)
    return rows, bill_lines, meters, customers


def _lines_of(rows, bill_lines, parts, with_month=False):
    """The bill lines of ``parts`` on these rows, grouped by (month,) item, tier and unit price."""
    groups = {}
    for row in rows:
        if row.part not in parts:
            continue
        for line in bill_lines.get(row.bill_id, ()):
            if row.part != Part.RECEIPT and part_of(line.item) != row.part:
                continue
            key = (
                row.bill.month if with_month else None,
                line.item.sort_order,
                line.item.code,
                line.kind,
                line.tier or 0,
                line.unit_price,
            )
            group = groups.setdefault(
                key,
                {
                    "month": row.bill.month,
                    "item": line.item.name,
                    "tier": tier_name(line.tier),
                    "volume": ZERO,
                    "unit_price": line.unit_price,
                    "amount": ZERO,
                    "collected_for": line.item.collected_for,
                },
            )
            group["volume"] += line.volume
            group["amount"] += line.amount
    lines = [groups[key] for key in sorted(groups, key=lambda k: (k[0] or "", *k[1:]))]
    return [line for line in lines if line["amount"]]


def _bill_rows(rows, meters, parts):
    """One row per bill: its reading and the amount of ``parts`` on this invoice."""
    amounts, bills = defaultdict(lambda: ZERO), {}
    for row in rows:
        if row.part in parts:
            amounts[row.bill_id] += row.amount
            bills[row.bill_id] = row.bill
    return [
        {
            "month": bill.month,
            "meter_number": meters.get(bill.meter_id, ""),
            "period_start": bill.period_start,
            "period_end": bill.period_end,
            "previous": bill.previous,
            "current": bill.current,
            "volume": bill.volume,
            "amount": amounts[bill.pk],
        }
        for bill in bills.values()
    ]


def _customer(invoice, customers):
    data = customer_data(customers[invoice.customer_id])
    data["name"] = invoice.buyer_name
    if invoice.combined:
        data["account_no"] = f"{data['account_no']} 等{invoice.customer_count}户"
    return data


def invoice_context(invoice, loaded, *, copy=False, printed_by="", on=None, company=None):
    """The data of one invoice, shaped as its document kind's catalogue says."""
    rows_by_invoice, bill_lines, meters, customers = loaded
    rows = rows_by_invoice.get(invoice.pk, [])
    common = common_data(printed_by, on or timezone.localdate(), company)
    heading = {
        "number": invoice.display_number,
        "issued_on": invoice.business_date,
        "operator": operator_name(invoice.operator),
        "remark": copy_remark(invoice, copy),
    }
    customer = _customer(invoice, customers)
    document = invoice.kind.document
    if document == DocumentKind.RECEIPT:
        parts = (Part.RECEIPT,)
        return {
            **common,
            "receipt": heading,
            "customer": customer,
            "payment": {
                "method": invoice.payment_method,
                "amount": invoice.amount,
                "received": invoice.received,
                "change": invoice.change,
                "balance_before": invoice.balance_before,
                "balance_after": invoice.balance_after,
            },
            "bills": _bill_rows(rows, meters, parts),
        }
    heading["original_number"] = invoice.red_of.display_number if invoice.red_of_id else ""
    if document == DocumentKind.AGENCY_INVOICE:
        return {
            **common,
            "invoice": heading,
            "customer": customer,
            "lines": _lines_of(rows, bill_lines, (Part.AGENCY,), with_month=True),
            "totals": {"total": invoice.amount},
        }
    parts = tuple(invoice.kind.parts)
    return {
        **common,
        "invoice": heading,
        "customer": customer,
        "bills": _bill_rows(rows, meters, parts),
        "lines": _lines_of(rows, bill_lines, parts),
        "totals": {"water": invoice.amount, "late_fee": ZERO, "total": invoice.amount},
        "payment": {
            "method": invoice.payment_method,
            "received": invoice.received,
            "change": invoice.change,
            "balance": invoice.balance_after,
        },
    }


def _annotate_customer_counts(invoices):
    combined = [invoice.pk for invoice in invoices if invoice.combined]
    counts = defaultdict(set)
    for invoice_id, customer_id in InvoiceBill.objects.filter(invoice_id__in=combined).values_list(
        "invoice_id", "bill__customer_id"
    ):
        counts[invoice_id].add(customer_id)
    for invoice in invoices:
        invoice.customer_count = len(counts.get(invoice.pk, ())) or 1


def merge_pdfs(chunks):
    """One PDF of several, pages in order."""
    chunks = [chunk for chunk in chunks if chunk]
    if len(chunks) == 1:
        return chunks[0]
    import pypdfium2 as pdfium

    with PDFIUM_LOCK:
        merged = pdfium.PdfDocument.new()
        try:
            for chunk in chunks:
                source = pdfium.PdfDocument(bytes(chunk))
                try:
                    merged.import_pages(source)
                finally:
                    source.close()
            buffer = io.BytesIO()
            merged.save(buffer)
        finally:
            merged.close()
    return buffer.getvalue()


def store_file(invoice, number, extension, content):
    """Keep a provider's file in Django's default storage; returns its name there."""
    name = f"einvoices/{timezone.localtime(invoice.issued_at):%Y/%m}/{number}.{extension}"
    return default_storage.save(name, ContentFile(content))


def read_file(name):
    """A stored e-invoice file's bytes."""
    with default_storage.open(name, "rb") as handle:
        return handle.read()


def stored_pdf(invoice):
    return read_file(invoice.pdf_file)


def print_invoices(invoices, *, copy=False, printed_by="", on=None):
    """One PDF of ``invoices`` in order: paper ones drawn from their data, electronic ones
    as the provider's file. ``copy``: marked as reprinted copies."""
    invoices = list(invoices)
    if not invoices:
        return b""
    _annotate_customer_counts(invoices)
    loaded = _load(invoices)
    company = common_data()["company"]
    chunks, run, run_kind = [], [], None
    with translation.override(settings.LANGUAGE_CODE):
        for invoice in invoices:
            if invoice.medium == Medium.ELECTRONIC and invoice.pdf_file:
                if run:
                    chunks.append(render_pdf(run_kind, run))
                    run, run_kind = [], None
                chunks.append(stored_pdf(invoice))
                continue
            kind = invoice.kind.document
            if run and kind != run_kind:
                chunks.append(render_pdf(run_kind, run))
                run = []
            run_kind = kind
            run.append(
                invoice_context(
                    invoice, loaded, copy=copy, printed_by=printed_by, on=on, company=company
                )
            )
        if run:
            chunks.append(render_pdf(run_kind, run))
    return merge_pdfs(chunks)
