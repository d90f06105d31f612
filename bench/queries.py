"""Query pages over years of history (issue 10 item 5, M7): the first page of every query page
as a manager who sees every zone gets it, on ``--size`` customers × ``--months`` months.

The history is ``_history``'s (see there: what is generated, ``--keep`` and ``--reuse``).
Each page is fetched with Django's test client, logged in as ``manager``: with no filter,
one zone, a month (or date) range, a customer search (account number, then name), and
the worst sort (by amount). A page is fetched ``--runs`` + 1 times: the first fetch is
shown as "first" (cold caches), the median of the others is the page's time. For every
page the number of SQL statements and the slowest one are shown; ``--explain`` prints the
EXPLAIN (ANALYZE, BUFFERS) of the slowest statement of each page above the limit (2 s).
The last line is ``queries: <ms> ms (slowest first page)``.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/watermis_hist \\
        .venv/bin/python bench/queries.py --size 1000000 --months 24 --keep
"""

import datetime
import statistics
import sys
import time

from _history import arguments, history_database, log

parser = arguments(__doc__)
parser.add_argument("--runs", type=int, default=3, help="timed fetches after the first")
parser.add_argument("--explain", action="store_true", help="EXPLAIN the slow pages' slowest SQL")
parser.add_argument("--only", default="", help="only the pages whose label contains this")
parser.add_argument("--limit", type=int, default=2000, help="ms a first page may take")
parser.add_argument(
    "--timeout", type=int, default=120, help="seconds before a page's SQL is cancelled"
)
args = parser.parse_args()
sys.argv = sys.argv[:1]
LIMIT_MS = args.limit


def month_text(iso):
    return iso[:7]


def month_before(iso, n):
    year, month = int(iso[:4]), int(iso[5:7])
    index = year * 12 + month - 1 - n
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def optional_url(name):
    """The URL of a page this version may not have yet, or None."""
    from django.urls import NoReverseMatch, reverse

    try:
        return reverse(name)
    except NoReverseMatch:
        return None


def pages(facts):
    """(F-number and label, URL) of every page timed."""
    from django.urls import reverse

    zone = facts["busiest_zone"]
    last = month_text(facts["last_month"])
    since = month_before(facts["last_month"], 2)
    day_from = f"{last}-01"
    day_to = f"{last}-28"
    month_end = (
        datetime.date.fromisoformat(f"{month_before(facts['last_month'], -1)}-01")
        - datetime.timedelta(days=1)
    ).isoformat()
    account, name = facts["sample_account"], facts["sample_name"]
    samples = facts["samples"]
    bills = reverse("billing:bill_list")
    entries = reverse("billing:entry_list")
    invoices = reverse("invoices:invoice_list")
    waivers = reverse("payments:waiver_list")
    journal = reverse("core:journal")
    result = [
        ("home: the dashboard", reverse("home")),
        ("F7.1 loss rates, newest month", reverse("readings:loss_rates")),
        ("F7.1 loss rates, one zone", f"{reverse('readings:loss_rates')}?zone={zone}"),
    ]
    if samples.get("district"):
        result.append(
            (
                "F7.1 loss history of a district meter (24 months)",
                reverse("readings:loss_history", args=[samples["district"]]),
            )
        )
    if samples.get("plant"):
        result.append(
            (
                "F7.1 loss history of a plant meter (24 months)",
                reverse("readings:loss_history", args=[samples["plant"]]),
            )
        )
    paid_page = optional_url("billing:paid_bills")
    if paid_page:  # the paid-bills page (F7.2), when the installed version has it
        result += [
            ("F7.2 paid-bills page, this month", paid_page),
            ("F7.2 paid-bills page, one zone", f"{paid_page}?zone={zone}"),
            (
                "F7.2 paid-bills page, last month",
                f"{paid_page}?paid_from={day_from}&paid_to={month_end}",
            ),
            ("F7.2 paid-bills page sorted by amount", f"{paid_page}?sort=-amount"),
        ]
    arrears_page = optional_url("billing:arrears")
    if arrears_page:  # the arrears page (F7.3)
        result += [
            ("F7.3 arrears page", arrears_page),
            ("F7.3 arrears page, one zone", f"{arrears_page}?zone={zone}"),
            ("F7.3 arrears page sorted by amount", f"{arrears_page}?sort=-amount"),
        ]
    result += [
        ("F7.2 paid bills of last month", f"{bills}?status=paid&month_from={last}&month_to={last}"),
        (
            "F7.2 paid bills of last month, one zone",
            f"{bills}?status=paid&month_from={last}&month_to={last}&zone={zone}",
        ),
        ("F7.3 arrears (unpaid bills)", f"{bills}?status=unpaid"),
        ("F7.3 arrears, one zone", f"{bills}?status=unpaid&zone={zone}"),
        ("F7.3 partly paid bills", f"{bills}?status=partly_paid"),
        ("F7.3 arrears sorted by amount", f"{bills}?status=unpaid&sort=-amount"),
        ("F7.4 bills, no filter", bills),
        ("F7.4 bills, one zone", f"{bills}?zone={zone}"),
        ("F7.4 bills, 3 months", f"{bills}?month_from={since}&month_to={last}"),
        ("F7.4 bills of an account", f"{bills}?q={account}"),
        ("F7.4 bills, name search", f"{bills}?q={name}"),
        ("F7.4 bills sorted by amount", f"{bills}?sort=-amount"),
        ("F7.4 bills sorted by outstanding", f"{bills}?sort=-open_amount"),
        ("F7.5 monitored meters", reverse("readings:monitored_list")),
    ]
    monitored_reads = optional_url("readings:monitored_reads")
    if monitored_reads:  # every monitored read, one list (F7.5)
        result.append(("F7.5 monitored reads, all meters", monitored_reads))
    if samples.get("watch"):
        result.append(
            (
                "F7.5 monitored reads of a meter",
                reverse("readings:monitored_history", args=[samples["watch"]]),
            )
        )
    result += [
        ("F7.6 invoices, no filter", invoices),
        ("F7.6 invoices, one zone", f"{invoices}?zone={zone}"),
        ("F7.6 invoices, one month", f"{invoices}?date_from={day_from}&date_to={day_to}"),
        ("F7.6 invoices of an account", f"{invoices}?q={account}"),
        ("F7.6 invoices sorted by amount", f"{invoices}?sort=-amount"),
        ("F7.7 change journal, no filter", journal),
        ("F7.7 change journal, one month", f"{journal}?after={day_from}&before={day_to}"),
        ("F7.7 change journal, customers", f"{journal}?object_type=customers.customer"),
        ("F7.7 change journal, value contains", f"{journal}?text=13800"),
        ("F7.8 waivers, no filter", waivers),
        ("F7.8 waivers, one zone", f"{waivers}?zone={zone}"),
        ("F7.8 waivers, one month", f"{waivers}?date_from={day_from}&date_to={day_to}"),
        ("F7.8 waivers of an account", f"{waivers}?q={account}"),
        ("F7.8 waivers sorted by amount", f"{waivers}?sort=-amount"),
        ("ledger entries, no filter", entries),
        ("ledger entries, one zone", f"{entries}?zone={zone}"),
        ("ledger entries, one month", f"{entries}?date_from={day_from}&date_to={day_to}"),
        ("ledger entries of an account", f"{entries}?q={account}"),
        ("ledger entries, payments", f"{entries}?kind=payment"),
        ("ledger entries sorted by amount", f"{entries}?sort=-debit"),
        ("reading history, no filter", reverse("readings:reading_list")),
        ("reading history of an account", f"{reverse('readings:reading_list')}?q={account}"),
        ("abnormal volumes", reverse("readings:abnormal")),
    ]
    return [(label, url) for label, url in result if args.only in label]


def explain(connection, sql):
    """EXPLAIN ANALYZE, or the plan alone when it runs past the statement timeout."""
    from django.db import OperationalError

    for how in ("ANALYZE, BUFFERS", "COSTS"):
        try:
            with connection.cursor() as cursor:
                cursor.execute(f"EXPLAIN ({how}) {sql}")
                return "\n".join(row[0] for row in cursor.fetchall())
        except OperationalError:
            connection.close()
    return "(no plan)"


with history_database(args) as facts:
    from _common import machine
    from django.conf import settings
    from django.db import OperationalError, connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from watermis.org.models import Operator

    options = settings.DATABASES["default"].setdefault("OPTIONS", {})
    options["options"] = (
        f"{options.get('options', '')} -c statement_timeout={args.timeout * 1000}".strip()
    )
    connection.close()  # reopened with the timeout
    manager = Operator.objects.get(username=facts["manager"])
    manager.password_changed_at = timezone.now()  # a kept database outlives password expiry
    manager.save(update_fields=["password_changed_at"])
    client = Client()
    client.force_login(manager)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    rows = facts["rows"]
    print(
        f"machine: {machine()}; {facts['size']} customers × {facts['months']} months "
        f"({facts['first_month'][:7]} to {facts['last_month'][:7]}): "
        f"{rows.get('billing_bill', 0)} bills, {rows.get('billing_billline', 0)} lines, "
        f"{rows.get('billing_ledgerentry', 0)} entries, {rows.get('readings_reading', 0)} reads; "
        f"database {facts['database_bytes'] / 2**30:.1f} GiB, generated in {facts['seconds']} s"
    )
    slowest = 0.0
    over = []
    for label, url in pages(facts):
        times = []
        timed_out = False
        for _run in range(args.runs + 1):
            with CaptureQueriesContext(connection) as captured:
                started = time.perf_counter()
                try:
                    response = client.get(url)
                except OperationalError:  # the statement timeout: no point in repeating
                    timed_out = True
                times.append((time.perf_counter() - started) * 1000)
            if timed_out or times[-1] > 10 * LIMIT_MS:
                break  # far too slow to fetch again
            if response.status_code != 200:
                raise SystemExit(f"{label}: {url} answered {response.status_code}")
        statements = captured.captured_queries
        worst = max(statements, key=lambda q: float(q["time"])) if statements else None
        typical = statistics.median(times[1:]) if len(times) > 1 else times[0]
        slowest = max(slowest, typical)
        flag = "  TIMEOUT" if timed_out else "  OVER" if typical > LIMIT_MS else ""
        print(
            f"{label:<52} {typical:8.0f} ms  (first {times[0]:.0f} ms; {len(statements)} SQL, "
            f"slowest {float(worst['time']) * 1000 if worst else 0:.0f} ms){flag}   {url}",
            flush=True,
        )
        if typical > LIMIT_MS:
            over.append((label, worst))
    if args.explain:
        for label, worst in over:
            if worst is None:
                continue
            log(f"EXPLAIN of the slowest SQL of {label}:\n{worst['sql']}")
            print(explain(connection, worst["sql"]), flush=True)
    print(f"queries: {slowest:.0f} ms (slowest first page)")
