"""Audit journal throughput on a bulk path: entries written per second.

Every bulk write in WaterMIS (bill runs, imports, demo generation) journals
its rows with ``journal.record_many``; this measures that path: snapshot each
object, build the entry, insert in batches.
"""

from _common import arguments, bench_database, machine, timer

args = arguments(100_000, __doc__)

with bench_database() as vendor:
    from django.db import transaction

    from watermis.core import journal
    from watermis.core.models import AuditAction, AuditEntry
    from watermis.org.models import BusinessUnit, Employee, Zone

    zone = Zone.objects.create(code="B", name="bench", kind="urban")
    unit = BusinessUnit.objects.create(code="B01", name="bench unit", zone=zone)
    employees = Employee.objects.bulk_create(
        [
            Employee(code=f"E{i}", name=f"职员{i}", unit=unit, is_reader=True)
            for i in range(args.size)
        ],
        batch_size=5000,
    )
    for e in employees:
        e.unit = unit  # zone_of() follows unit__zone without a query
    with journal.audit_context(source="bench"), timer() as t, transaction.atomic():
        journal.record_many(
            [
                journal.build_entry(e, AuditAction.CREATE, None, journal.snapshot(e, m2m=False))
                for e in employees
            ]
        )
    assert AuditEntry.objects.count() == args.size
    rate = args.size / t["seconds"]
    print(f"{args.size} entries in {t['seconds']:.2f} s on {vendor}, {machine()}")
    print(f"journal: {rate:.0f} entries/s")
