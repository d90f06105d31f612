"""Reports and charts over years of history (issue 10 item 5, M8, M9): how long the facts take
to sum the whole ledger and to catch up, and how long every monthly report and chart page
takes, as a manager who sees every zone gets it, on ``--size`` customers × ``--months`` months.

The history is ``_history``'s (see there: what is generated, ``--keep`` and ``--reuse``);
a reused database is migrated first (the reports' tables). Timed:

1. ``facts.rebuild()``: the facts emptied and the whole ledger summed again (what a new
   installation or a restore does once);
2. ``facts.refresh()`` with nothing new, then after ``--new`` payments posted through the
   ledger (what every report page does before it reads);
3. each report page (last month; grouped by zone, then by book — the most groups — and
   the last 12 months by month) and each chart page, fetched with Django's test client
   ``--runs`` + 1 times: the first fetch is "first", the median of the others the page's
   time. ``check_facts`` is run at the end (the facts equal the ledger).

The last line is ``reports: <ms> ms (slowest report page)``.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/watermis_hist \\
        .venv/bin/python bench/reports.py --size 1000000 --months 24 --reuse
"""

import statistics
import sys
import time

from _history import arguments, history_database, log

parser = arguments(__doc__)
parser.add_argument("--runs", type=int, default=3, help="timed fetches after the first")
parser.add_argument("--new", type=int, default=500, help="payments posted before a refresh")
parser.add_argument("--no-rebuild", action="store_true", help="skip the full rebuild")
args = parser.parse_args()
sys.argv = sys.argv[:1]


def month_before(iso, n):
    year, month = int(iso[:4]), int(iso[5:7])
    index = year * 12 + month - 1 - n
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def pages(facts):
    from django.urls import reverse

    last = facts["last_month"][:7]
    year = month_before(facts["last_month"], 11)
    month = {"month_from": last, "month_to": last}
    result = []
    for name in (
        "statistics",
        "revenue_by_item",
        "surcharges",
        "late_fees",
        "waivers",
        "bad_debts",
    ):
        url = reverse(f"reports:{name}")
        result += [
            (f"{name}, last month by zone", url, {**month, "group_by": "zone"}),
            (f"{name}, last month by book", url, {**month, "group_by": "book"}),
            (
                f"{name}, 12 months by month",
                url,
                {"month_from": year, "month_to": last, "group_by": "month"},
            ),
        ]
    result += [
        (
            "F9.1 comparison by reader",
            reverse("reports:comparison"),
            {**month, "group_by": "reader"},
        ),
        (
            "F9.1 comparison by tariff",
            reverse("reports:comparison"),
            {**month, "group_by": "tariff"},
        ),
        (
            "F9.2 trend, 24 months",
            reverse("reports:trend"),
            {"month_from": month_before(facts["last_month"], 23), "month_to": last},
        ),
        (
            "collection and ageing, 12 months",
            reverse("reports:collection"),
            {"month_from": year, "month_to": last},
        ),
        ("dashboard (landing page)", reverse("home"), {}),
    ]
    return result


def post_payments(count):
    """``count`` counter-like payments of open bills, through the ledger (entries and
    allocations the next refresh has to sum)."""
    from django.db.models import Q

    from watermis.billing import ledger
    from watermis.billing.models import Account, EntryKind
    from watermis.customers.models import Customer
    from watermis.org.models import Operator

    actor = Operator.objects.get(username="manager")
    ids = list(
        Account.objects.filter(Q(balance__lt=0)).order_by("pk").values_list("pk", flat=True)[:count]
    )
    for customer in Customer.objects.filter(pk__in=ids):
        owed = -Account.objects.get(pk=customer.pk).balance
        ledger.post_entry(actor, customer, EntryKind.PAYMENT, owed, business_date=time_today())
    return len(ids)


def time_today():
    from django.utils import timezone

    return timezone.localdate()


def main():
    with history_database(args) as facts:
        from django.core.management import call_command
        from django.test import Client

        from watermis.org.models import Operator
        from watermis.reports import checks
        from watermis.reports import facts as report_facts

        call_command("migrate", verbosity=0)
        if not args.no_rebuild:
            started = time.perf_counter()
            report_facts.rebuild()
            log(f"facts: whole ledger summed in {time.perf_counter() - started:.1f} s")
        started = time.perf_counter()
        report_facts.refresh()
        log(f"facts: refresh with nothing new {1000 * (time.perf_counter() - started):.0f} ms")
        posted = post_payments(args.new)
        started = time.perf_counter()
        report_facts.refresh()
        log(
            f"facts: refresh after {posted} payments {1000 * (time.perf_counter() - started):.0f} ms"
        )

        client = Client()
        client.force_login(Operator.objects.get(username="manager"))
        client.cookies["django_language"] = "zh-hans"
        slowest = 0
        for label, url, params in pages(facts):
            times = []
            for _run in range(args.runs + 1):
                started = time.perf_counter()
                response = client.get(url, params)
                times.append(1000 * (time.perf_counter() - started))
                assert response.status_code == 200, (label, response.status_code)
            median = statistics.median(times[1:]) if args.runs else times[0]
            slowest = max(slowest, median)
            log(f"{label:45s} first {times[0]:7.0f} ms  median {median:7.0f} ms")
        started = time.perf_counter()
        differences = checks.compare()
        log(f"check_facts: {len(differences)} differences ({time.perf_counter() - started:.0f} s)")
        print(f"reports: {slowest:.0f} ms (slowest report page)")


if __name__ == "__main__":
    main()
