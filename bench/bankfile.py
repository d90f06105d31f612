"""Bank collection (issue 8): a deduction batch of N bills generated, its file written, and the
bank's result file of N records imported and posted; rows per second of the import.

Set-up (not timed): one zone, books of 2,000 customers, every customer paying by bank
deduction (工商银行) with one unpaid bill posted to the ledger (a BILL debit and the
account's balance), written with COPY as the bill run writes them. Timed, each its own
transaction as in the UI: ``bank.generate_batches`` (accounts locked, bills picked, lines
written), ``bank.export_file`` (the fixed-width GBK file), and ``bank.import_result`` of a
result file answering every line (97 % deducted, 3 % "insufficient balance"): the file
parsed and checked, the paid lines posted through ``ledger.pay_in_bulk``, the failed ones
released. Reported: seconds of each step, that ``verify`` finds the books right, and last
the import's rows per second.
"""

import datetime
import sys
from decimal import Decimal

from _common import arguments, bench_database, bench_zone, copy_rows, machine, timer

args = arguments(100_000, __doc__)
sys.argv = sys.argv[:1]
PER_BOOK = 2000
MONTH = datetime.date(2026, 10, 1)
TODAY = datetime.date(2026, 11, 24)


with bench_database() as vendor:
    import random

    from django.core.management.color import no_style
    from django.db import connection, transaction
    from django.db.models import Count
    from django.utils import timezone

    from watermis.billing.models import Account, Bill, LedgerEntry
    from watermis.billing.verify import verify_books
    from watermis.core.journal import audit_context
    from watermis.customers.models import Area, Book, Customer
    from watermis.payments import bank
    from watermis.payments.bank_demo import BANKS
    from watermis.payments.models import BankBatchLine, LineState
    from watermis.tariffs.models import CategoryKind, WaterCategory

    rng = random.Random(2026)
    n = args.size
    now = timezone.now()
    with timer() as setup, transaction.atomic():
        zone, clerk = bench_zone("B")
        category = WaterCategory.objects.create(
            code="RES", name="居民", kind=CategoryKind.RESIDENTIAL
        )
        area = Area.objects.create(code="B01", name="测试片区", zone=zone)
        books = Book.objects.bulk_create(
            [Book(code=f"B{b:05d}", name=f"册{b}", area=area) for b in range(-(-n // PER_BOOK))]
        )
        amounts = [Decimal(rng.randint(1500, 30000)) / 100 for _ in range(n)]
        copy_rows(
            Customer,
            ["id", "account_no", "name", "name_initials", "address", "zone_id", "book_id"]
            + ["route_order", "category_id", "household_size", "opened_on", "payment_method"]
            + ["bank_name", "bank_account", "mandate_no"],
            (
                (i + 1, f"B{i:08d}", "用户" + "甲乙丙丁戊己庚辛"[i % 8], "YH", f"测试路{i}号")
                + (zone.pk, books[i // PER_BOOK].pk, i % PER_BOOK, category.pk, 3)
                + (datetime.date(2020, 1, 1), "bank", "中国工商银行江城分行")
                + (f"6222{i:015d}", f"WT{i:08d}")
                for i in range(n)
            ),
        )
        issued = MONTH.replace(day=25)
        copy_rows(
            LedgerEntry,
            ["id", "customer_id", "zone_id", "kind", "direction", "amount", "posted_at"]
            + ["business_date", "period", "reason", "channel", "external_key"],
            (
                (i + 1, i + 1, zone.pk, "bill", "debit", amounts[i], now, issued, MONTH, "")
                + ("", "")
                for i in range(n)
            ),
        )
        copy_rows(
            Bill,
            ["id", "customer_id", "zone_id", "book_id", "month", "period_start", "period_end"]
            + ["read_volume", "volume", "amount", "issued_on", "due_on", "entry_id"],
            (
                (i + 1, i + 1, zone.pk, books[i // PER_BOOK].pk, MONTH, MONTH, issued)
                + (Decimal(15), Decimal(15), amounts[i], issued)
                + (issued + datetime.timedelta(days=30), i + 1)
                for i in range(n)
            ),
        )
        copy_rows(
            Account,
            ["customer_id", "zone_id", "balance", "updated_at"],
            ((i + 1, zone.pk, -amounts[i], now) for i in range(n)),
        )
        with connection.cursor() as cursor:
            for sql in connection.ops.sequence_reset_sql(no_style(), [Customer, LedgerEntry, Bill]):
                cursor.execute(sql)
        icbc = bank.create_bank(None, dict(BANKS[0]))
    if vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    print(f"set-up: {n} mandated customers with an unpaid bill each in {setup['seconds']:.1f} s")

    at = timezone.make_aware(datetime.datetime.combine(TODAY, datetime.time(9)))
    with audit_context(clerk, source="bench"):
        with timer() as generating:
            (batch,) = bank.generate_batches(clerk, zone, bank=icbc, today=TODAY, now=at)
        with timer() as exporting:
            name, data = bank.export_file(clerk, batch)
        outcomes = {
            seq: ("3001", "余额不足") if rng.random() < 0.03 else ("0000", "交易成功")
            for seq in range(1, batch.line_count + 1)
        }
        result = bank.result_file(icbc, batch, outcomes)
        with timer() as importing:
            outcome = bank.import_result(
                clerk, batch, result, f"{batch.number}-result.txt", business_date=TODAY, now=at
            )
        with timer() as again:
            repeated = bank.import_result(
                clerk, batch, result, f"{batch.number}-result.txt", business_date=TODAY, now=at
            )
    states = dict(
        BankBatchLine.objects.values("state").annotate(n=Count("pk")).values_list("state", "n")
    )
    assert batch.line_count == n, (batch.line_count, n)
    assert outcome.result.paid + outcome.result.failed == n and repeated.nothing_new
    assert states.get(LineState.SENT, 0) == 0, states
    problems = verify_books(limit=5)
    rate = n / importing["seconds"]
    print(f"machine: {machine()}, database: {vendor}")
    print(
        f"generated a batch of {batch.line_count} bills ({batch.amount} yuan) in "
        f"{generating['seconds']:.1f} s; file {name} ({len(data) / 1e6:.1f} MB) written in "
        f"{exporting['seconds']:.1f} s"
    )
    print(
        f"imported the result ({len(result) / 1e6:.1f} MB, {n} records): "
        f"{outcome.result.paid} paid and posted ({outcome.posted_in_bulk} in bulk, "
        f"{len(outcome.posted_singly)} singly), {outcome.result.failed} failed and released, "
        f"in {importing['seconds']:.1f} s; the same file again posted nothing in "
        f"{again['seconds']:.1f} s; verify: {problems or 'clean'}"
    )
    print(f"bankfile: {rate:.0f} rows/s")
