"""Deposit transfer (issue 9, F4.3): one run over N accounts with prepaid deposits and unpaid
bills; accounts per second.

Set-up (not timed): one zone, books of 2,000 customers; each customer has one unpaid bill
(one in five a second, older one) and a deposit posted to the ledger (a DEPOSIT entry and
the account's cached sums), written with COPY as a bill run writes: 80 % of the deposits
cover every bill, 10 % only the oldest, 10 % none. Timed: ``deposits.run_transfer`` of the
zone (the task's body: chunks of 2,000 accounts, each locked, read and written in bulk in
its own transaction), then the same run again (idempotent: nothing left to transfer).
Reported: seconds, what was transferred, that ``verify`` finds the books right, and last
the accounts looked at per second.
"""

import datetime
import sys
from decimal import Decimal

from _common import arguments, bench_database, bench_zone, copy_rows, machine, timer

args = arguments(100_000, __doc__)
sys.argv = sys.argv[:1]
PER_BOOK = 2000
MONTHS = (datetime.date(2026, 9, 1), datetime.date(2026, 10, 1))
TODAY = datetime.date(2026, 11, 24)


with bench_database() as vendor:
    import random

    from django.core.management.color import no_style
    from django.db import connection, transaction
    from django.db.models import Sum
    from django.utils import timezone

    from watermis.billing.models import Account, Bill, LedgerEntry
    from watermis.billing.verify import verify_books
    from watermis.core.journal import audit_context
    from watermis.customers.models import Area, Book, Customer
    from watermis.payments import deposits
    from watermis.payments.models import DepositTransfer
    from watermis.tariffs.models import CategoryKind, WaterCategory

    rng = random.Random(2026)
    n = args.size
    now = timezone.now()
    with timer() as setup, transaction.atomic():
        zone, clerk = bench_zone("D")
        category = WaterCategory.objects.create(
            code="RES", name="居民", kind=CategoryKind.RESIDENTIAL
        )
        area = Area.objects.create(code="D01", name="测试片区", zone=zone)
        books = Book.objects.bulk_create(
            [Book(code=f"D{b:05d}", name=f"册{b}", area=area) for b in range(-(-n // PER_BOOK))]
        )
        copy_rows(
            Customer,
            ["id", "account_no", "name", "name_initials", "address", "zone_id", "book_id"]
            + ["route_order", "category_id", "household_size", "opened_on", "payment_method"],
            (
                (i + 1, f"D{i:08d}", "用户" + "甲乙丙丁戊己庚辛"[i % 8], "YH", f"测试路{i}号")
                + (zone.pk, books[i // PER_BOOK].pk, i % PER_BOOK, category.pk, 3)
                + (datetime.date(2020, 1, 1), "prepaid")
                for i in range(n)
            ),
        )
        # bills: (customer, month, amount); deposits: what each customer has prepaid
        bills, owed, prepaid = [], [], []
        for i in range(n):
            amounts = [Decimal(rng.randint(1500, 30000)) / 100]
            if rng.random() < 0.2:
                amounts.insert(0, Decimal(rng.randint(1500, 30000)) / 100)
            months = MONTHS[-len(amounts) :]
            bills += [(i + 1, month, amount) for month, amount in zip(months, amounts, strict=True)]
            owed.append(sum(amounts))
            cover = rng.random()
            if cover < 0.8:
                prepaid.append(sum(amounts) + Decimal(rng.randint(0, 10000)) / 100)
            elif cover < 0.9:
                prepaid.append(
                    amounts[0] + (amounts[1] - Decimal("0.01") if len(amounts) > 1 else 0)
                )
            else:
                prepaid.append(min(amounts) - Decimal("0.01"))
        entries = [
            (k + 1, c, zone.pk, "bill", "debit", amount, now, month.replace(day=25), month, "")
            + ("", "")
            for k, (c, month, amount) in enumerate(bills)
        ]
        first_deposit = len(bills) + 1
        entries += [
            (first_deposit + i, i + 1, zone.pk, "deposit", "credit", prepaid[i], now)
            + (datetime.date(2026, 8, 1), None, "预存水费", "", "")
            for i in range(n)
        ]
        copy_rows(
            LedgerEntry,
            ["id", "customer_id", "zone_id", "kind", "direction", "amount", "posted_at"]
            + ["business_date", "period", "reason", "channel", "external_key"],
            entries,
        )
        del entries
        copy_rows(
            Bill,
            ["id", "customer_id", "zone_id", "book_id", "month", "period_start", "period_end"]
            + ["read_volume", "volume", "amount", "issued_on", "due_on", "entry_id"],
            (
                (k + 1, c, zone.pk, books[(c - 1) // PER_BOOK].pk, month, month)
                + (month.replace(day=25), Decimal(15), Decimal(15), amount)
                + (month.replace(day=25), month.replace(day=25) + datetime.timedelta(days=30))
                + (k + 1,)
                for k, (c, month, amount) in enumerate(bills)
            ),
        )
        copy_rows(
            Account,
            ["customer_id", "zone_id", "balance", "deposit", "updated_at"],
            ((i + 1, zone.pk, -owed[i], prepaid[i], now) for i in range(n)),
        )
        with connection.cursor() as cursor:
            for sql in connection.ops.sequence_reset_sql(no_style(), [Customer, LedgerEntry, Bill]):
                cursor.execute(sql)
    if vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    print(
        f"set-up: {n} customers with {len(bills)} unpaid bills and a deposit each "
        f"in {setup['seconds']:.1f} s"
    )

    at = timezone.make_aware(datetime.datetime.combine(TODAY, datetime.time(9)))
    with audit_context(clerk, source="bench"):
        run = deposits.start_transfer(clerk, zone, now=at)
        with timer() as running:
            run = deposits.run_transfer(run.pk)
        again = deposits.start_transfer(clerk, zone, now=at)
        with timer() as rerunning:
            again = deposits.run_transfer(again.pk)
    transferred = Decimal(DepositTransfer.objects.aggregate(t=Sum("amount"))["t"]).quantize(
        Decimal("0.01")
    )
    assert transferred == run.amount and again.customers == 0, (transferred, run.amount, again)
    assert run.looked_at == n, (run.looked_at, n)
    with timer() as verifying:
        problems = verify_books(limit=5)
    rate = run.looked_at / running["seconds"]
    print(f"machine: {machine()}, database: {vendor}")
    print(
        f"transfer of {run.looked_at} accounts in {running['seconds']:.1f} s: "
        f"{run.customers} customers, {run.bills} bills, {run.amount} yuan transferred; "
        f"again in {rerunning['seconds']:.1f} s, nothing more; "
        f"verify in {verifying['seconds']:.1f} s: {problems or 'clean'}"
    )
    print(f"deposits: {rate:.0f} accounts/s")
