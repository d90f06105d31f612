"""Bank collection services (F3.23; DOMAIN.md 6.1): the only code that changes banks,
batches, their lines and result files.

The flow, each step one transaction, journaled inside it:

1. :func:`generate_batches` takes a zone's unpaid bills of customers mandated for a bank
   (optionally some books, some months, one bank; else one batch per active bank) and
   writes a :class:`BankBatch` with a line per bill, set-based. It first locks the
   customers' ledger accounts (as the counter does before paying), then picks the bills, so
   a bill is never both paid at the counter and sent; a partial unique index keeps a bill
   in one waiting batch at most.
2. :func:`export_file` writes the bank's deduction file from the lines still at the bank,
   in the bank's layout (:mod:`.bank_formats`).
3. :func:`import_result` reads the bank's result file. Any structural problem (a record of
   the wrong length, a sequence the batch does not have, an amount or account other than
   sent, a result contradicting one imported before, totals that do not add up) refuses
   the whole file with every problem listed (:class:`BankFileRefused`); nothing is written.
   Otherwise the paid lines are posted to the ledger as ``payment`` credits on channel
   ``bank``, each with the external key ``<batch>/<seq>`` — set-based through
   ``ledger.pay_in_bulk`` when the bill's open amount is still what was sent, else one by
   one through ``ledger.post_entry`` (the money still arrived: it settles what is open of the bill, then
   the oldest debts, the rest stays as credit) — and the failed lines release their bills.
   Lines already answered are not posted again: the batch row is locked and only lines
   still ``sent`` move, so a file imported twice posts nothing the second time.
4. :func:`cancel_batch` releases every bill of a batch no result has been imported into.
"""

import hashlib
from contextlib import closing
from dataclasses import dataclass, field
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import Count, F, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from watermis.billing import ledger
from watermis.billing.corrections import clean_reason, open_billing_month, require
from watermis.billing.models import Allocation, Bill, BillState, EntryKind, LedgerEntry
from watermis.core import bulk, journal
from watermis.core.models import AuditAction
from watermis.core.scoping import ensure_in_scope, ensure_zone_in_scope
from watermis.core.services import create_scoped, update_scoped
from watermis.customers.models import Customer

from . import bank_formats
from .bank_formats import FieldTooLong, FileError, Layout, amount_text, fen_text
from .bank_queries import candidate_bills, line_totals, mandated_customers, preview
from .models import Bank, BankBatch, BankBatchLine, BankResult, BatchState, LineState

ZERO = Decimal("0.00")
FEN = Decimal("0.01")
CHANNEL = "bank"

BANK_FIELDS = (
    "code",
    "name",
    "customer_bank_prefix",
    "merchant_no",
    "file_format",
    "encoding",
    "line_ending",
    "delimiter",
    "summary",
    "result_summary",
    "detail_fields",
    "summary_fields",
    "result_fields",
    "success_codes",
    "active",
)
LINE_COLUMNS = (
    "batch_id",
    "seq",
    "bill_id",
    "customer_id",
    "month",
    "amount",
    "bank_account",
    "account_name",
    "mandate_no",
    "state",
    "result_code",
    "result_message",
    "result_id",
    "entry_id",
)


class BankFileRefused(Exception):
    """The result file was refused as a whole: ``errors`` lists every problem found."""

    def __init__(self, errors):
        super().__init__(_("The file was refused: %(n)s problems.") % {"n": len(errors)})
        self.errors = sorted(errors, key=lambda e: (e.line, e.field))


# ------------------------------------------------------------------------- banks


def create_bank(actor, data):
    """A new bank with its layouts (checked by ``Bank.clean``); journaled."""
    return create_scoped(actor, Bank, BANK_FIELDS, data)


def update_bank(actor, bank, data):
    """Change a bank's details or layouts; batches already sent keep their lines."""
    return update_scoped(actor, bank, BANK_FIELDS, data)


# ------------------------------------------------------------------------- generating


def _check_selection(zone, books, month_from, month_to):
    if month_from and month_to and month_from > month_to:
        raise ValidationError({"month_to": _("The last month is before the first.")})
    stray = [b for b in books if b.area.zone_id != zone.pk]
    if stray:
        raise ValidationError(
            {
                "books": _("Book %(book)s is not in %(zone)s.")
                % {"book": stray[0].code, "zone": zone}
            }
        )


def _banks(bank):
    if bank is not None:
        if not bank.active:
            raise ValidationError({"bank": _("This bank is not active.")})
        return [bank]
    return list(Bank.objects.filter(active=True).order_by("code"))


@dataclass
class BatchPreview:
    bank: Bank
    customers: int
    bills: int
    amount: Decimal


def preview_batches(actor, zone, *, bank=None, books=(), month_from=None, month_to=None):
    """What :func:`generate_batches` would take now, per bank (banks with nothing left out)."""
    require(actor, "payments.add_bankbatch")
    ensure_zone_in_scope(actor, zone.pk)
    books = list(books)
    _check_selection(zone, books, month_from, month_to)
    result = []
    for each in _banks(bank):
        figures = preview(each, zone, books, month_from, month_to)
        if figures["bills"]:
            result.append(BatchPreview(each, **figures))
    return result


def _next_number(bank, day):
    prefix = f"{bank.code}{day:%Y%m%d}"
    taken = BankBatch.objects.filter(number__startswith=prefix).count()
    return f"{prefix}{taken + 1:03d}"


@transaction.atomic
def generate_batches(
    actor, zone, *, bank=None, books=(), month_from=None, month_to=None, today=None, now=None
):
    """Write a deduction batch per bank (``bank``: that one only) of the zone's unpaid bills
    of mandated customers; returns the batches (banks with nothing to send get none).

    ``books``: only customers of these reading books; ``month_from``/``month_to``: only
    bills of these billing months (first days, inclusive). Each line asks for the bill's
    open amount. Raises ValidationError when no bill matches.
    """
    require(actor, "payments.add_bankbatch")
    ensure_zone_in_scope(actor, zone.pk)
    now = now or timezone.now()
    today = today or timezone.localdate(now)
    books = list(books)
    _check_selection(zone, books, month_from, month_to)
    batches = []
    for each in _banks(bank):
        each = Bank.objects.select_for_update().get(pk=each.pk)
        customer_ids = sorted(
            mandated_customers(each, zone, books)
            .order_by()
            .values_list("pk", flat=True)
            .iterator(10000)
        )
        if not customer_ids:
            continue
        ledger.lock_balances(customer_ids, dict.fromkeys(customer_ids, zone.pk))
        rows = (
            candidate_bills(each, zone, books, month_from, month_to)
            .order_by("customer__account_no", "month", "id")
            .values_list(
                "id",
                "customer_id",
                "month",
                "open_amount",
                "customer__bank_account",
                "customer__name",
                "customer__mandate_no",
            )
        )
        lines = list(rows.iterator(10000))
        if not lines:
            continue
        amounts = [Decimal(row[3]).quantize(FEN) for row in lines]
        batch = BankBatch(
            number=_next_number(each, today),
            bank=each,
            zone=zone,
            month_from=month_from,
            month_to=month_to,
            created_by=journal.saved_operator(actor),
            created_at=now,
            business_date=today,
            line_count=len(lines),
            amount=sum(amounts, ZERO),
        )
        batch.save(force_insert=True)
        if books:
            batch.books.set(books)
        values = (
            (batch.pk, seq, bill_id, customer_id, month, amount)
            + (account.replace(" ", ""), name[:100], mandate, LineState.SENT.value)
            + ("", "", None, None)
            for seq, ((bill_id, customer_id, month, _o, account, name, mandate), amount) in
            enumerate(zip(lines, amounts, strict=True), start=1)
        )  # fmt: skip
        try:
            with transaction.atomic():
                bulk.write_rows(BankBatchLine._meta.db_table, LINE_COLUMNS, list(values))
        except IntegrityError:
            raise ValidationError(
                _("Another batch took some of these bills at the same moment; try again.")
            ) from None
        journal.record(
            batch,
            AuditAction.CREATE,
            None,
            journal.snapshot(batch),
            verb="generate_bank_batch",
            actor=actor,
        )
        batches.append(batch)
    if not batches:
        raise ValidationError(
            _("No unpaid bill of a customer mandated for bank deduction matches.")
        )
    return batches


# ------------------------------------------------------------------------- the bank's file


def _locked(batch):
    """The batch re-read under its row lock (the bank and zone read with it, not locked)."""
    locked = BankBatch.objects.select_for_update(of=("self",)).select_related("bank", "zone")
    return locked.get(pk=batch.pk)


def line_values(batch, bank, sent_only=True):
    """The deduction records' values of the batch's lines still at the bank (``sent_only``;
    else of every line), in order."""
    lines = BankBatchLine.objects.filter(batch=batch)
    if sent_only:
        lines = lines.filter(state=LineState.SENT)
    lines = lines.order_by("seq").values_list(
        "seq",
        "bill_id",
        "month",
        "amount",
        "bank_account",
        "account_name",
        "mandate_no",
        "customer__account_no",
        "customer__name",
    )
    common = {
        "batch": batch.number,
        "date": f"{batch.business_date:%Y%m%d}",
        "merchant": bank.merchant_no,
    }
    for seq, bill_id, month, amount, account, holder, mandate, account_no, name in lines.iterator(
        10000
    ):
        amount = Decimal(amount).quantize(FEN)
        yield {
            **common,
            "seq": str(seq),
            "bill": str(bill_id),
            "month": f"{month:%Y%m}",
            "amount": amount_text(amount),
            "amount_fen": fen_text(amount),
            "bank_account": account,
            "account_name": holder,
            "mandate": mandate,
            "customer": account_no,
            "customer_name": name,
            "_amount": amount,
        }


def summary_values(batch, bank, count, amount):
    return {
        "batch": batch.number,
        "date": f"{batch.business_date:%Y%m%d}",
        "merchant": bank.merchant_no,
        "count": str(count),
        "amount": amount_text(amount),
        "amount_fen": fen_text(amount),
    }


@transaction.atomic
def export_file(actor, batch, now=None):
    """The batch's deduction file: (file name, bytes). Only the lines still at the bank are
    in it (before any result, the whole batch). Records who downloaded it and when."""
    require(actor, "payments.add_bankbatch")
    batch = _locked(batch)
    ensure_in_scope(actor, batch, "add")
    if batch.state == BatchState.CANCELLED:
        raise ValidationError(_("This batch is cancelled: it has no file any more."))
    layout = Layout(batch.bank)
    sums = BankBatchLine.objects.filter(batch=batch, state=LineState.SENT).aggregate(
        n=Count("pk"), total=Sum("amount")
    )
    count, total = sums["n"], Decimal(sums["total"] or ZERO).quantize(FEN)
    if not count:
        raise ValidationError(_("No bill of this batch is waiting for the bank."))
    # closing(): a value that does not fit stops the writing half-way; the lines' server-side
    # cursor (PostgreSQL) is closed now, in this transaction, not by the garbage collector.
    try:
        with closing(line_values(batch, batch.bank)) as rows:
            data = layout.write(
                layout.detail,
                layout.summary_place,
                summary_values(batch, batch.bank, count, total),
                rows,
            )
    except FieldTooLong as exc:
        raise ValidationError(
            _(
                "%(field)s %(value)s does not fit the bank's layout (%(width)s bytes in "
                "%(encoding)s): change the bank's layout."
            )
            % {
                "field": exc.field.name,
                "value": exc.text,
                "width": exc.field.width,
                "encoding": layout.encoding.upper(),
            }
        ) from None
    before = journal.snapshot(batch)
    BankBatch.objects.filter(pk=batch.pk).update(
        exported_at=now or timezone.now(),
        exported_by=journal.saved_operator(actor),
        export_count=F("export_count") + 1,
    )
    batch.refresh_from_db()
    journal.record(
        batch,
        AuditAction.ACTION,
        before,
        journal.snapshot(batch),
        reason=_("%(n)s records, %(amount)s") % {"n": count, "amount": amount_text(total)},
        verb="export_bank_file",
        actor=actor,
    )
    return f"{batch.number}.{layout.extension}", data


# ------------------------------------------------------------------------- the bank's answer


@dataclass
class _Sent:
    id: int
    seq: int
    bill_id: int
    customer_id: int
    amount: Decimal
    bank_account: str
    state: str


@dataclass
class _Answer:
    line: _Sent
    state: str
    code: str
    message: str
    entry_id: int | None = None


@dataclass
class ImportOutcome:
    """What one import did; ``result`` is the stored :class:`BankResult`."""

    result: BankResult
    posted_in_bulk: int = 0
    posted_singly: list = field(default_factory=list)  # seq of lines posted one by one

    @property
    def nothing_new(self):
        return self.result.paid == 0 and self.result.failed == 0


def _sent_lines(batch):
    rows = (
        BankBatchLine.objects.filter(batch=batch)
        .order_by()
        .values_list("id", "seq", "bill_id", "customer_id", "amount", "bank_account", "state")
    )
    return [
        _Sent(i, seq, bill, customer, Decimal(amount).quantize(FEN), account, state)
        for i, seq, bill, customer, amount, account, state in rows.iterator(10000)
    ]


def _check_records(batch, totals, records):
    """The answers of the file's records, and every problem found."""
    lines = _sent_lines(batch)
    by_seq = {line.seq: line for line in lines}
    by_bill = {line.bill_id: line for line in lines}
    success = batch.bank.success_code_set()
    errors, answers, seen = [], [], {}
    file_total = ZERO
    for number, values in records:
        stated = bank_formats.record_amount(values)
        file_total += stated or ZERO
        if "seq" in values:
            key, where, line = int(values["seq"]), "seq", by_seq.get(int(values["seq"]))
        else:
            key, where, line = int(values["bill"]), "bill", by_bill.get(int(values["bill"]))
        if line is None:
            errors.append(
                FileError(
                    number,
                    where,
                    _("Batch %(batch)s has no line %(key)s.") % {"batch": batch, "key": key},
                )
            )
            continue
        if key in seen:
            errors.append(
                FileError(
                    number, where, _("Repeats line %(line)s of this file.") % {"line": seen[key]}
                )
            )
            continue
        seen[key] = number
        problems = len(errors)
        if values.get("batch") and values["batch"] != batch.number:
            errors.append(
                FileError(
                    number,
                    "batch",
                    _("This record is of batch %(other)s, not %(batch)s.")
                    % {"other": values["batch"], "batch": batch},
                )
            )
        if "bill" in values and where == "seq" and int(values["bill"]) != line.bill_id:
            errors.append(
                FileError(
                    number,
                    "bill",
                    _("Line %(seq)s was sent for bill %(bill)s.")
                    % {"seq": line.seq, "bill": line.bill_id},
                )
            )
        if stated is not None and stated != line.amount:
            errors.append(
                FileError(
                    number,
                    "amount" if "amount" in values else "amount_fen",
                    _("The bank says %(stated)s; the batch sent %(sent)s.")
                    % {"stated": stated, "sent": line.amount},
                )
            )
        if "bank_account" in values and values["bank_account"] != line.bank_account:
            errors.append(
                FileError(
                    number,
                    "bank_account",
                    _("The batch sent account %(sent)s.") % {"sent": line.bank_account},
                )
            )
        code = values.get("result", "")
        if not code:
            errors.append(FileError(number, "result", _("The bank's result code is missing.")))
        state = LineState.PAID if code in success else LineState.FAILED
        if line.state == LineState.RELEASED:
            errors.append(FileError(number, where, _("This line was released.")))
        elif line.state != LineState.SENT and line.state != state:
            errors.append(
                FileError(
                    number,
                    "result",
                    _("Imported before as %(before)s; this file says %(now)s.")
                    % {"before": LineState(line.state).label, "now": LineState(state).label},
                )
            )
        if len(errors) == problems:
            answers.append(_Answer(line, state, code[:20], values.get("message", "")[:200]))
    if totals is not None:
        at, count = totals["_line"], totals["_records"]
        if "count" in totals and int(totals["count"]) != count:
            errors.append(
                FileError(
                    at,
                    "count",
                    _("The totals record counts %(stated)s records; the file has %(n)s.")
                    % {"stated": int(totals["count"]), "n": count},
                )
            )
        stated = bank_formats.record_amount(totals)
        # the records' sum is known only when every record could be read
        if stated is not None and totals["_all_read"] and stated != file_total:
            errors.append(
                FileError(
                    at,
                    "amount" if "amount" in totals else "amount_fen",
                    _("The totals record says %(stated)s; the records add up to %(total)s.")
                    % {"stated": stated, "total": file_total},
                )
            )
        if totals.get("batch") and totals["batch"] != batch.number:
            errors.append(
                FileError(
                    at,
                    "batch",
                    _("This file is of batch %(other)s, not %(batch)s.")
                    % {"other": totals["batch"], "batch": batch},
                )
            )
    return answers, errors


def line_key(batch, seq):
    """The idempotency key of the payment of a batch's line (``channel`` "bank")."""
    return f"{batch.number}/{seq}"


def _post_paid(actor, batch, answers, business_date, now):
    """Post the new paid answers to the ledger; sets each answer's ``entry_id``. Returns
    (posted in bulk, [seq posted one by one])."""
    customer_ids = sorted({a.line.customer_id for a in answers})
    zones = dict(
        bulk.filter_ids(Customer.objects.order_by(), "id", customer_ids).values_list(
            "id", "zone_id"
        )
    )
    ledger.lock_balances(customer_ids, zones)
    bills = {
        pk: (entry_id, state, Decimal(amount).quantize(FEN))
        for pk, entry_id, state, amount in bulk.filter_ids(
            Bill.objects.order_by(), "id", [a.line.bill_id for a in answers]
        ).values_list("id", "entry_id", "state", "amount")
    }
    entry_ids = [e for e, _s, _a in bills.values() if e]
    used = {
        debit: Decimal(total).quantize(FEN)
        for debit, total in bulk.filter_ids(Allocation.objects.all(), "debit_id", entry_ids)
        .values("debit_id")
        .annotate(total=Sum("amount"))
        .values_list("debit_id", "total")
    }
    period = open_billing_month(batch.zone_id, business_date)
    reason = _("Bank deduction, batch %(batch)s") % {"batch": batch.number}
    in_bulk, singly = [], []
    for answer in answers:
        entry_id, state, amount = bills[answer.line.bill_id]
        open_amount = amount - used.get(entry_id, ZERO) if entry_id else ZERO
        if state == BillState.ISSUED and entry_id and open_amount == answer.line.amount:
            in_bulk.append(answer)
        else:
            singly.append(answer)
    posted = ledger.pay_in_bulk(
        [
            (bills[a.line.bill_id][0], a.line.customer_id, zones[a.line.customer_id])
            + (a.line.amount, business_date, now, period, CHANNEL, line_key(batch, a.line.seq))
            for a in in_bulk
        ],
        reason,
    )
    for answer, entry_id in zip(in_bulk, posted, strict=True):
        answer.entry_id = entry_id
    customers = {
        c.pk: c for c in Customer.objects.filter(pk__in={a.line.customer_id for a in singly})
    }
    for answer in singly:
        entry_id, state, _amount = bills[answer.line.bill_id]
        settle = []
        if entry_id and state == BillState.ISSUED:
            settle = [LedgerEntry.objects.get(pk=entry_id)]
        posted = ledger.post_entry(
            actor,
            customers[answer.line.customer_id],
            EntryKind.PAYMENT,
            answer.line.amount,
            business_date=business_date,
            reason=_("%(reason)s, line %(seq)s") % {"reason": reason, "seq": answer.line.seq},
            period=period,
            channel=CHANNEL,
            external_key=line_key(batch, answer.line.seq),
            settle=settle,
            now=now,
        )
        answer.entry_id = posted.entry.pk
    return len(in_bulk), [a.line.seq for a in singly]


def _write_answers(answers, result_id):
    """Set state, result code and message, result file and payment entry of answered lines."""
    if not answers:
        return
    table = connection.ops.quote_name(BankBatchLine._meta.db_table)
    rows = [(a.line.id, a.state.value, a.code, a.message, result_id, a.entry_id) for a in answers]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            columns = list(zip(*rows, strict=True))
            cursor.execute(
                f"UPDATE {table} AS t SET state = v.state, result_code = v.code, "  # noqa: S608
                "result_message = v.message, result_id = v.result, entry_id = v.entry "
                "FROM unnest(%s::bigint[], %s::text[], %s::text[], %s::text[], %s::bigint[], "
                "%s::bigint[]) AS v(id, state, code, message, result, entry) WHERE t.id = v.id",
                [list(c) for c in columns],
            )
        else:
            cursor.executemany(
                f"UPDATE {table} SET state = %s, result_code = %s, result_message = %s, "  # noqa: S608
                "result_id = %s, entry_id = %s WHERE id = %s",
                [(s, c, m, r, e, i) for i, s, c, m, r, e in rows],
            )


def _set_totals(batch):
    totals = line_totals(batch)
    paid = totals.get(LineState.PAID, (0, ZERO))
    failed = totals.get(LineState.FAILED, (0, ZERO))
    batch.paid_count, batch.paid_amount = paid
    batch.failed_count, batch.failed_amount = failed
    if LineState.SENT not in totals:
        batch.state = BatchState.DONE
    elif paid[0] or failed[0]:
        batch.state = BatchState.PARTLY
    batch.save(
        update_fields=[
            "paid_count",
            "paid_amount",
            "failed_count",
            "failed_amount",
            "state",
        ]
    )


@transaction.atomic
def import_result(actor, batch, data, file_name, *, business_date=None, now=None):
    """Import the bank's result file ``data`` (bytes) into ``batch``; returns
    :class:`ImportOutcome`. Raises :class:`BankFileRefused` (nothing written) when any
    record is wrong, ValidationError when the batch or the date cannot take a result.

    ``business_date``: the day the bank deducted (default today), the payments' date.
    The file may hold part of the batch (a success file and a failure file); records
    answered before are counted as ``repeated`` and change nothing.
    """
    require(actor, "payments.import_bankbatch")
    now = now or timezone.now()
    today = timezone.localdate(now)
    business_date = business_date or today
    if business_date > today:
        raise ValidationError({"business_date": _("The bank cannot have deducted in the future.")})
    batch = _locked(batch)
    ensure_in_scope(actor, batch, "import")
    if batch.state == BatchState.CANCELLED:
        raise ValidationError(_("This batch is cancelled: its bills were released."))
    if business_date < batch.business_date:
        raise ValidationError(
            {"business_date": _("The bank cannot have deducted before the batch was made.")}
        )
    layout = Layout(batch.bank)
    totals, records, errors = layout.read(data)
    answers, more = _check_records(batch, totals, records)
    errors += more
    if errors:
        raise BankFileRefused(errors)
    new = [a for a in answers if a.line.state == LineState.SENT]
    paid = [a for a in new if a.state == LineState.PAID]
    failed = [a for a in new if a.state == LineState.FAILED]
    result = BankResult.objects.create(
        batch=batch,
        file_name=(file_name or "")[:200],
        sha256=hashlib.sha256(data).hexdigest(),
        imported_at=now,
        imported_by=journal.saved_operator(actor),
        business_date=business_date,
        rows=len(records),
        paid=len(paid),
        paid_amount=sum((a.line.amount for a in paid), ZERO),
        failed=len(failed),
        failed_amount=sum((a.line.amount for a in failed), ZERO),
        repeated=len(answers) - len(new),
    )
    outcome = ImportOutcome(result)
    if paid:
        outcome.posted_in_bulk, outcome.posted_singly = _post_paid(
            actor, batch, paid, business_date, now
        )
    _write_answers(new, result.pk)
    before = journal.snapshot(batch)
    _set_totals(batch)
    journal.record(
        batch,
        AuditAction.ACTION,
        before,
        journal.snapshot(batch),
        reason=_(
            "%(file)s (sha256 %(hash)s): %(paid)s paid %(paid_amount)s, %(failed)s failed "
            "%(failed_amount)s, %(repeated)s imported before"
        )
        % {
            "file": result.file_name,
            "hash": result.sha256[:16],
            "paid": result.paid,
            "paid_amount": amount_text(result.paid_amount),
            "failed": result.failed,
            "failed_amount": amount_text(result.failed_amount),
            "repeated": result.repeated,
        },
        verb="import_bank_result",
        actor=actor,
    )
    return outcome


# ------------------------------------------------------------------------- cancelling


def cancel_problem(batch):
    """Why ``batch`` cannot be cancelled, or None."""
    if batch.state == BatchState.CANCELLED:
        return _("This batch is cancelled already.")
    if batch.state != BatchState.OPEN or batch.results.exists():
        return _("The bank's result has been imported into this batch: it cannot be cancelled.")
    return None


@transaction.atomic
def cancel_batch(actor, batch, reason, now=None):
    """Cancel a batch no result has been imported into: its bills leave the bank (the
    counter may collect them again). Journaled with the reason."""
    require(actor, "payments.cancel_bankbatch")
    reason = clean_reason(reason, _("Say why the batch is cancelled."))
    batch = _locked(batch)
    ensure_in_scope(actor, batch, "cancel")
    problem = cancel_problem(batch)
    if problem:
        raise ValidationError(problem)
    released = BankBatchLine.objects.filter(batch=batch, state=LineState.SENT).update(
        state=LineState.RELEASED
    )
    before = journal.snapshot(batch)
    batch.state = BatchState.CANCELLED
    batch.cancelled_at = now or timezone.now()
    batch.cancelled_by = journal.saved_operator(actor)
    batch.cancel_reason = reason
    batch.save(update_fields=["state", "cancelled_at", "cancelled_by", "cancel_reason"])
    journal.record(
        batch,
        AuditAction.UPDATE,
        before,
        journal.snapshot(batch),
        reason=reason,
        verb="cancel_bank_batch",
        actor=actor,
    )
    return released


def result_file(bank, batch, outcomes):
    """A result file as the bank would send it (for tests, the demo and the benchmark):
    ``outcomes`` maps a line's seq to (result code, message); lines left out are not in
    the file."""
    layout = Layout(bank)
    rows = []
    total = ZERO
    with closing(line_values(batch, bank, sent_only=False)) as lines:
        for values in lines:
            seq = int(values["seq"])
            if seq not in outcomes:
                continue
            code, message = outcomes[seq]
            rows.append({**values, "result": code, "message": message})
            total += values["_amount"]
    return layout.write(
        layout.result,
        layout.result_summary_place,
        summary_values(batch, bank, len(rows), total),
        rows,
    )
