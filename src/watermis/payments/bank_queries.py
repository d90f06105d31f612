"""Reading bank collection: which bills are at a bank, which bills a batch would take, and a
batch's report.

For the counter (and any other way of collecting a bill):

- :func:`bills_at_bank` ``(bill_ids) -> set of bill ids``: the bills among ``bill_ids`` that
  sit in a bank batch waiting for the bank's answer (a line ``sent``). The counter refuses
  to collect them. Call it inside the paying transaction *after* locking the customers'
  ledger accounts (``billing.ledger.lock_accounts``): batch generation locks the same
  accounts before it picks bills, so a bill cannot be paid at the counter and sent to the
  bank at once. A bill leaves the bank when the result file says it failed, or when its
  batch is cancelled.
- :func:`bank_batches_of_bills` ``(bill_ids) -> {bill id: batch number}``: the same bills
  with the batch that holds each, to tell the cashier where the bill is.
"""

from decimal import Decimal

from django.db.models import Count, DecimalField, Exists, ExpressionWrapper, F, OuterRef, Sum
from django.utils.translation import gettext as _

from watermis.billing.bills import allocated
from watermis.billing.models import Bill, BillKind, BillState
from watermis.core import bulk
from watermis.core.export import _cell_value
from watermis.customers.models import Customer, PaymentMethod

from .models import BankBatch, BankBatchLine, BatchState, LineState

ZERO = Decimal("0.00")
FEN = Decimal("0.01")
MONEY = DecimalField(max_digits=14, decimal_places=2)


def bills_at_bank(bill_ids):
    """The ids among ``bill_ids`` of bills now at a bank (in a batch, no answer yet)."""
    return set(bank_batches_of_bills(bill_ids))


def bank_batches_of_bills(bill_ids):
    """{bill id: batch number} of the bills among ``bill_ids`` now at a bank."""
    ids = list(bill_ids)
    if not ids:
        return {}
    lines = bulk.filter_ids(BankBatchLine.objects.filter(state=LineState.SENT), "bill_id", ids)
    return dict(lines.values_list("bill_id", "batch__number"))


def batches_at_bank(batches):
    """How many of ``batches`` wait for (the rest of) the bank's answer, and how many bills
    they still hold: {"count": batches, "lines": bills}."""
    result = batches.filter(state__in=(BatchState.OPEN, BatchState.PARTLY)).aggregate(
        n=Count("pk"), lines=Sum(F("line_count") - F("paid_count") - F("failed_count"))
    )
    return {"count": result["n"], "lines": result["lines"] or 0}


def mandated_customers(bank, zone=None, books=()):
    """Customers deducted through ``bank``: paying by bank deduction, with an account number,
    their bank's name starting with the bank's prefix; of ``zone`` and ``books`` if given."""
    customers = Customer.objects.filter(
        payment_method=PaymentMethod.BANK,
        bank_name__startswith=bank.customer_bank_prefix,
    ).exclude(bank_account="")
    if zone is not None:
        customers = customers.filter(zone=zone)
    if books:
        customers = customers.filter(book__in=books)
    return customers


def candidate_bills(bank, zone, books=(), month_from=None, month_to=None):
    """The bills a new batch of ``bank`` for ``zone`` would take, annotated ``open_amount``:
    issued regular bills of the bank's mandated customers with something open, not
    transferred to inspection, not at a bank already; months ``month_from``–``month_to``."""
    bills = Bill.objects.filter(
        zone=zone,
        state=BillState.ISSUED,
        kind=BillKind.REGULAR,
        amount__gt=0,
        inspection=False,
        entry__isnull=False,
        customer__in=mandated_customers(bank, zone, books),
    )
    if month_from is not None:
        bills = bills.filter(month__gte=month_from)
    if month_to is not None:
        bills = bills.filter(month__lte=month_to)
    at_bank = BankBatchLine.objects.filter(bill_id=OuterRef("pk"), state=LineState.SENT)
    bills = bills.filter(~Exists(at_bank)).alias(paid_so_far=allocated())
    return bills.annotate(
        open_amount=ExpressionWrapper(F("amount") - F("paid_so_far"), output_field=MONEY)
    ).filter(open_amount__gt=0)


def preview(bank, zone, books=(), month_from=None, month_to=None):
    """What a batch would take: {"customers", "bills", "amount"}."""
    sums = (
        candidate_bills(bank, zone, books, month_from, month_to)
        .order_by()
        .aggregate(
            customers=Count("customer_id", distinct=True),
            bills=Count("pk"),
            amount=Sum("open_amount"),
        )
    )
    return {
        "customers": sums["customers"],
        "bills": sums["bills"],
        "amount": Decimal(sums["amount"] or ZERO).quantize(FEN),
    }


def line_totals(batch):
    """{state: (count, amount)} of a batch's lines, read from the lines."""
    rows = (
        BankBatchLine.objects.filter(batch=batch)
        .order_by()
        .values("state")
        .annotate(n=Count("pk"), total=Sum("amount"))
    )
    return {row["state"]: (row["n"], Decimal(row["total"] or ZERO).quantize(FEN)) for row in rows}


def batch_summary(batch):
    """(label, count, amount) rows of a batch: sent, paid, failed, released, still at the bank."""
    totals = line_totals(batch)

    def row(label, state):
        count, amount = totals.get(state, (0, ZERO))
        return (label, count, amount)

    return [
        (_("Sent to the bank"), batch.line_count, Decimal(batch.amount).quantize(FEN)),
        row(_("Paid"), LineState.PAID),
        row(_("Failed"), LineState.FAILED),
        row(_("Released (batch cancelled)"), LineState.RELEASED),
        row(_("Still at the bank"), LineState.SENT),
    ]


REPORT_COLUMNS = (
    ("seq", "seq"),
    ("customer__account_no", "customer"),
    ("customer__name", "customer_name"),
    ("bill_id", "bill"),
    ("month", "month"),
    ("bank_account", "bank_account"),
    ("account_name", "account_name"),
    ("mandate_no", "mandate"),
    ("amount", "amount"),
    ("state", "state"),
    ("result_code", "result"),
    ("result_message", "message"),
    ("entry_id", "entry"),
)


def write_batch_report(batch, out, lines=None):
    """The batch's report as .xlsx into ``out``: a summary sheet (counts and sums of sent,
    paid, failed, released, open; the result files imported) and a sheet of its lines."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    bold = Font(bold=True)
    wb = Workbook(write_only=True)

    def heading(ws, names):
        cells = []
        for name in names:
            cell = WriteOnlyCell(ws, value=str(name))
            cell.font = bold
            cells.append(cell)
        ws.append(cells)

    ws = wb.create_sheet(title=_("Summary")[:31])
    ws.append([str(_("Batch")), batch.number])
    ws.append([str(_("Bank")), str(batch.bank)])
    ws.append([str(_("Zone")), str(batch.zone)])
    ws.append([str(_("State")), str(batch.get_state_display())])
    ws.append([str(_("Batch date")), batch.business_date])
    ws.append([])
    heading(ws, [_("Lines"), _("Bills"), _("Amount")])
    for label, count, amount in batch_summary(batch):
        ws.append([str(label), count, amount])
    ws.append([])
    heading(
        ws,
        [_("Result file"), _("Imported at"), _("Imported by"), _("Records"), _("Paid"),
         _("Amount paid"), _("Failed"), _("Amount failed"), _("Imported before")],
    )  # fmt: skip
    for result in batch.results.select_related("imported_by").order_by("imported_at", "id"):
        ws.append(
            [
                result.file_name,
                _cell_value(result.imported_at),
                str(result.imported_by or ""),
                result.rows,
                result.paid,
                result.paid_amount,
                result.failed,
                result.failed_amount,
                result.repeated,
            ]
        )
    ws = wb.create_sheet(title=_("Lines")[:31])
    heading(
        ws,
        [_("Sequence"), _("Account"), _("Customer"), _("Bill"), _("Billing month"),
         _("Bank account"), _("Account name"), _("Mandate number"), _("Amount"), _("State"),
         _("Result code"), _("Bank's message"), _("Payment entry")],
    )  # fmt: skip
    states = dict(LineState.choices)
    lines = BankBatchLine.objects.filter(batch=batch) if lines is None else lines
    rows = lines.order_by("seq").values_list(*(c for c, _n in REPORT_COLUMNS))
    for row in rows.iterator(5000):
        row = list(row)
        row[4] = f"{row[4]:%Y-%m}"
        row[8] = Decimal(row[8]).quantize(FEN)
        row[9] = str(states.get(row[9], row[9]))
        ws.append([_cell_value(v) for v in row])
    wb.save(out)


def batches_for(user):
    return BankBatch.objects.restrict(user, "view")


def bank_slip_contexts(batch, printed_by="", on=None):
    """The bank collection slips (托收单) of ``batch``: one per customer with lines still at
    the bank or deducted, in account order, for the document engine (``bank_slip``)."""
    from watermis.documents import sources

    lines = list(
        batch.lines.exclude(state=LineState.RELEASED)
        .select_related("bill", "customer__category", "customer__zone", "customer__book")
        .order_by("customer__account_no", "month", "seq")
    )
    numbers = sources.meter_numbers([line.bill for line in lines])
    common = sources.common_data(printed_by, on)
    by_customer = {}
    for line in lines:
        by_customer.setdefault(line.customer_id, []).append(line)
    for n, customer_lines in enumerate(by_customer.values(), start=1):
        customer = customer_lines[0].customer
        yield {
            **common,
            "slip": {
                "number": f"{batch.number}-{n:04d}",
                "batch": batch.number,
                "issued_on": batch.business_date,
            },
            "customer": sources.customer_data(customer),
            "bills": [
                {
                    "month": line.month,
                    "meter_number": numbers.get(line.bill.meter_id, ""),
                    "period_start": line.bill.period_start,
                    "period_end": line.bill.period_end,
                    "previous": line.bill.previous,
                    "current": line.bill.current,
                    "volume": line.bill.volume,
                    "amount": line.amount,
                }
                for line in customer_lines
            ],
            "totals": {"amount": sum((line.amount for line in customer_lines), ZERO)},
        }
