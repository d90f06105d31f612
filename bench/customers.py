"""Demo customer generation: customers (with meters, shares, events, journal) written per second,
then searches on that data: pinyin-initial prefix, account-number prefix, address "contains",
and the customer list's search box (account, name, initials, address, phone in one query).

Builds the demo organisation and price list, then times the customer generator
of ``watermis.customers.demo`` (chunks of 10,000 written by COPY on PostgreSQL,
executemany on SQLite, every row journaled). The searches run after ANALYZE, as
on a database in use; each shows the first page (50 by account number) and the count.
"""

import random

from _common import arguments, bench_database, machine, timer

args = arguments(100_000, __doc__)

with bench_database() as vendor:
    from django.db import connection, transaction

    from watermis.core.journal import audit_context
    from watermis.customers import demo as customers_demo
    from watermis.customers.filtersets import search_customers
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

    def search(customers):
        with timer() as s:
            found = list(customers.order_by("account_no")[:50])
            total = customers.count()
        return s["seconds"] * 1000, len(found), total

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE customers_customer")
    everyone = Customer.objects.all()

    print(
        f"{args.size} customers, {counts['meters']} meters, {counts['shares']} shares, "
        f"{counts['events']} events (all journaled) in {t['seconds']:.1f} s on {vendor}, {machine()}"
    )
    for label, customers in (
        ("pinyin initials 'zw*'", everyone.filter(name_initials__startswith="zw")),
        ("account number 'DC0001*'", everyone.filter(account_no__startswith="DC0001")),
        ("address contains '解放路123号'", everyone.filter(address__icontains="解放路123号")),
        ("search box '解放路123号'", search_customers(everyone, "解放路123号")),
        ("search box '王秀英'", search_customers(everyone, "王秀英")),
        ("search box '张伟' (2 characters)", search_customers(everyone, "张伟")),
    ):
        ms, shown, total = search(customers)
        print(f"search by {label}: first {shown} of {total} in {ms:.1f} ms")
    print(f"customers: {rate:.0f} customers/s")
