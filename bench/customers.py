"""Demo customer generation: customers (with meters, shares, events, journal) written per second,
then two searches on that data: by pinyin-initial prefix and by account-number prefix.

Builds the demo organisation and price list, then times the customer generator
of ``watermis.customers.demo`` (bulk inserts in chunks of 10,000, journaled).
"""

import random

from _common import arguments, bench_database, machine, timer

args = arguments(100_000, __doc__)

with bench_database() as vendor:
    from django.db import transaction

    from watermis.core.journal import audit_context
    from watermis.customers import demo as customers_demo
    from watermis.customers.models import Customer
    from watermis.org import demo as org_demo
    from watermis.tariffs import demo as tariffs_demo

    rng = random.Random(2026)
    with audit_context(source="bench"), transaction.atomic():
        built = org_demo.build(rng)
        built.update(tariffs_demo.build(rng))
    with audit_context(source="bench"), timer() as t, transaction.atomic():
        counts = customers_demo.build(rng, built, built, customers=args.size)
    rate = args.size / t["seconds"]

    def search(**lookup):
        with timer() as s:
            found = list(Customer.objects.filter(**lookup).order_by("account_no")[:50])
            total = Customer.objects.filter(**lookup).count()
        return s["seconds"] * 1000, len(found), total

    print(
        f"{args.size} customers, {counts['meters']} meters, {counts['shares']} shares, "
        f"{counts['events']} events (all journaled) in {t['seconds']:.1f} s on {vendor}, {machine()}"
    )
    for label, lookup in (
        ("pinyin initials 'zw*'", {"name_initials__startswith": "zw"}),
        ("account number 'DC0001*'", {"account_no__startswith": "DC0001"}),
    ):
        ms, shown, total = search(**lookup)
        print(f"search by {label}: first {shown} of {total} in {ms:.1f} ms")
    print(f"customers: {rate:.0f} customers/s")
