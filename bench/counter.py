"""Counter payments (issue 8): the time to post one payment while N cashiers post at once.

Set-up (not timed): the demo company (``--customers`` accounts with two years of bills, the
latest month 40 % unpaid, late fees as of today), ``--cashiers`` cashiers of 东城区 who see
and serve every zone (``payments.pay_other_zone``), each with a stock of water-invoice numbers,
and for each cashier a list of customers with unpaid bills (no two cashiers share a
customer here; tests/payments/test_counter_concurrency.py races two on one bill).

Timed: ``counter.take_payment`` for all of a customer's open bills, cash, 100 yuan over the
amount; ``--rounds`` times, all cashiers start together (a barrier) and each posts one
payment, as N cashier windows pressing Enter at the same moment (``--pace S``: each cashier
posts after a random pause of S seconds on average instead, a busy hall). Cashiers are processes
(``fork``), so Python runs on every core; on SQLite (one writer, an in-memory database)
they post one after another in one process. Two passes: without an invoice (the ledger:
lock, re-read, late fees, allocations, records, journal) and with the water invoice printed
from the cashier's stock (the counter as a customer sees it). Reported: p50, p95, max of
each pass, queries per payment, payments per second, and ``verify`` after.

The last line is the payment with its invoice: ``counter: <p95> ms p95``.
"""

import argparse
import multiprocessing
import statistics
import sys
import time

from _common import bench_database, machine, settle, timer

parser = argparse.ArgumentParser(description=__doc__)
parser.add_argument("--customers", type=int, default=3000, help="demo accounts (default 3000)")
parser.add_argument("--cashiers", type=int, default=20, help="cashiers posting at once")
parser.add_argument("--rounds", type=int, default=10, help="payments per cashier and pass")
parser.add_argument(
    "--pace",
    type=float,
    default=0.0,
    help="seconds between a cashier's payments, on average (default 0: all at once each round)",
)
parser.add_argument("--show-queries", action="store_true", help="print the SQL of one payment")
args = parser.parse_args()
sys.argv = sys.argv[:1]


def percentile(values, share):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))]


def cashier_process(cashier_id, tenders, barrier, results, with_invoice, kind_id, pace):
    """One cashier: at each round wait for the others (or, with ``pace``, a random pause of
    that many seconds on average), post one payment, time it."""
    import random

    from django.db import connections
    from django.utils import translation

    from watermis.core.startup import settle_heap
    from watermis.invoices.models import InvoiceKind
    from watermis.org.models import Operator
    from watermis.payments import counter

    connections.close_all()  # a connection of its own, not the parent's
    settle_heap()  # as a server process does after start-up (watermis.wsgi)
    translation.activate("zh-hans")
    cashier = Operator.objects.select_related("unit").get(pk=cashier_id)
    cashier.has_perm("payments.take_payment")  # a request loads its permissions once
    rules = counter.CounterRules.from_params()
    kind = InvoiceKind.objects.get(pk=kind_id)
    times, failures = [], []
    rng = random.Random(cashier_id)
    barrier.wait()
    for tender in tenders:
        if with_invoice:
            tender = counter.Tender(**{**tender.__dict__, "invoice_kind": kind})
        if pace:
            time.sleep(rng.uniform(0, 2 * pace))
        else:
            barrier.wait()
        start = time.perf_counter()
        try:
            counter.take_payment(cashier, tender, rules=rules)
        except Exception as exc:  # noqa: BLE001 - counted and reported
            failures.append(f"{type(exc).__name__}: {exc}")
        times.append((time.perf_counter() - start) * 1000)
    results.put((times, failures))
    connections.close_all()


def post_in_turn(cashier, tenders, with_invoice, kind, rules):
    """SQLite: the cashier's payments one after another, in this process."""
    from watermis.payments import counter

    times, failures = [], []
    for tender in tenders:
        if with_invoice:
            tender = counter.Tender(**{**tender.__dict__, "invoice_kind": kind})
        start = time.perf_counter()
        try:
            counter.take_payment(cashier, tender, rules=rules)
        except Exception as exc:  # noqa: BLE001 - counted and reported
            failures.append(f"{type(exc).__name__}: {exc}")
        times.append((time.perf_counter() - start) * 1000)
    return times, failures


with bench_database() as vendor:
    from decimal import Decimal

    from django.contrib.auth.models import Permission
    from django.db import connection, connections, transaction
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from watermis.billing.bills import open_bills
    from watermis.billing.models import Bill
    from watermis.billing.verify import verify_books
    from watermis.demo import build_demo
    from watermis.invoices import numbering
    from watermis.invoices.models import InvoiceBill, InvoiceKind
    from watermis.org.models import Operator
    from watermis.org.roles import CASHIER
    from watermis.payments import counter
    from watermis.payments.models import CounterPayment

    with timer() as setup:
        build_demo(customers=args.customers)
        with transaction.atomic():
            manager = Operator.objects.get(username="manager")
            template = Operator.objects.get(username="cashier")
            role = template.groups.get(name=CASHIER)
            other_zones = Permission.objects.get(codename="pay_other_zone")
            water = InvoiceKind.objects.get(code="WATER")
            cashiers = []
            for n in range(args.cashiers):
                cashier = Operator(
                    username=f"bench{n:02d}",
                    name=f"收费员{n:02d}",
                    unit=template.unit,
                    all_zones=True,  # the invoice of a customer of another zone too
                )
                cashier.set_password("Water2026")
                cashier.save()
                cashier.groups.add(role)
                cashier.user_permissions.add(other_zones)
                numbering.issue_stock(
                    manager,
                    {
                        "kind": water,
                        "operator": cashier,
                        "code": f"B{n:02d}",
                        "first": 1,
                        "last": 2 * args.rounds + 10,
                    },
                )
                cashiers.append(cashier)
        rules = counter.CounterRules.from_params()
        today = timezone.localdate()
        waiting = {}
        # not the customers with bills on a walking collector's invoice (they are paid to
        # the collector, and the counter's invoice would be refused)
        collecting = InvoiceBill.objects.filter(live=True).values("bill__customer_id")
        bills = open_bills(queryset=Bill.objects.exclude(customer_id__in=collecting))
        for bill in bills.order_by("customer_id", "due_on"):
            waiting.setdefault(bill.customer_id, bill.customer)
        customers = list(waiting.values())
        needed = 2 * args.rounds * args.cashiers + 1
        if len(customers) < needed:
            sys.exit(f"{len(customers)} customers owe something; {needed} needed: more --customers")

        def tender_for(customer):
            due = counter.counter_arrears(customer, today, rules)
            total = sum((line.total for line in due.lines), Decimal("0.00"))
            return counter.Tender(
                customer_id=customer.pk,
                bills=tuple(line.bill.pk for line in due.lines),
                seen={line.bill.pk: line.total for line in due.lines},
                tendered=total + 100,
            )

        # one payment by hand, its queries counted (the cashier's permissions loaded first)
        first = Operator.objects.select_related("unit").get(pk=cashiers[0].pk)
        first.has_perm("payments.take_payment")
        tender = tender_for(customers.pop())
        with CaptureQueriesContext(connection) as plain:
            counter.take_payment(first, tender, rules=rules)
        tender = counter.Tender(**{**tender_for(customers.pop()).__dict__, "invoice_kind": water})
        with CaptureQueriesContext(connection) as with_invoice:
            counter.take_payment(first, tender, rules=rules)
        settle(connection)
        passes = {}
        for invoice_pass in (False, True):
            plan = {
                c.pk: [tender_for(customers.pop()) for _round in range(args.rounds)]
                for c in cashiers
            }
            if vendor == "sqlite":  # one writer, and an in-memory database per process
                with timer() as run:
                    collected = [
                        post_in_turn(c, plan[c.pk], invoice_pass, water, rules) for c in cashiers
                    ]
                passes[invoice_pass] = (
                    [t for ts, _f in collected for t in ts],
                    [f for _t, fs in collected for f in fs],
                    run["seconds"],
                )
                continue
            connections.close_all()
            context = multiprocessing.get_context("fork")
            barrier = context.Barrier(len(cashiers))
            results = context.Queue()
            workers = [
                context.Process(
                    target=cashier_process,
                    args=(c.pk, plan[c.pk], barrier, results, invoice_pass, water.pk, args.pace),
                )
                for c in cashiers
            ]
            with timer() as run:
                for worker in workers:
                    worker.start()
                collected = [results.get() for _worker in workers]
                for worker in workers:
                    worker.join()
            times = [t for ts, _f in collected for t in ts]
            failures = [f for _t, fs in collected for f in fs]
            passes[invoice_pass] = (times, failures, run["seconds"])

    if args.show_queries:
        for query in [
            *plain.captured_queries,
            {"time": "", "sql": "-- with an invoice:"},
            *with_invoice.captured_queries,
        ]:
            print(f"    {query['time']} {query['sql'][:160]}")
    problems = verify_books()
    payments = CounterPayment.objects.count()
    print(f"counter payments: {machine()}, {vendor}, {args.customers} customers")
    how = f"a payment every {args.pace:g} s each on average" if args.pace else "all at once"
    if vendor == "sqlite":
        how = "one after another (SQLite has one writer: concurrency is PostgreSQL's figure)"
    print(
        f"  set-up {setup['seconds']:.1f} s; {args.cashiers} cashiers, {how}, {args.rounds} rounds"
    )
    print(
        f"  queries a payment: {len(plain.captured_queries)} without an invoice, "
        f"{len(with_invoice.captured_queries)} with one"
    )
    for invoice_pass, label in ((False, "without invoice"), (True, "with invoice")):
        times, failures, seconds = passes[invoice_pass]
        print(
            f"  {label}: p50 {statistics.median(times):.1f} ms, "
            f"p95 {percentile(times, 0.95):.1f} ms, max {max(times):.1f} ms; "
            f"{len(times) / seconds:.0f} payments/s; failures {len(failures)}"
        )
        for failure in failures[:3]:
            print(f"    {failure}")
    print(
        f"  {payments} counter payments in all; verify: {'clean' if not problems else problems[:3]}"
    )
    print(f"counter: {percentile(passes[True][0], 0.95):.0f} ms p95")
