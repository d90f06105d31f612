"""The fast demo generator (issue 4): rows written without the ORM (COPY on PostgreSQL) are the
rows the ORM would write, every one journaled as ``journal.build_entry`` would journal it,
and the id sequences continue after them."""

import datetime
import decimal

import pytest
from django.db import connection, models

from watermis.core import journal
from watermis.core.journal import audit_context
from watermis.core.models import AuditAction, AuditEntry
from watermis.customers import services
from watermis.customers.filtersets import search_customers
from watermis.customers.models import Customer, Meter, MeterEvent, MeterShare
from watermis.demo import build_demo
from watermis.org.models import Operator

MODELS = (Customer, Meter, MeterShare, MeterEvent)


@pytest.fixture
def demo(db):
    return build_demo(seed=9, customers=400)


def same_value(field, stored, expected):
    """Journal values compared as values: "12" and "12.00" are the same reading."""
    if stored is None or expected is None:
        return stored == expected
    if isinstance(field, models.DecimalField):
        return decimal.Decimal(stored) == decimal.Decimal(expected)
    if isinstance(field, models.DateTimeField):
        return isinstance(datetime.datetime.fromisoformat(stored), datetime.datetime)
    return stored == expected


def test_every_row_is_journaled_as_build_entry_would(demo):
    for model in MODELS:
        check_journal(model)


def check_journal(model):
    entries = {
        e.object_id: e for e in AuditEntry.objects.filter(object_type=model._meta.label_lower)
    }
    objects = list(model.objects.order_by("pk"))
    assert objects and len(entries) == len(objects)
    fields = {f.attname: f for f in model._meta.concrete_fields}
    with audit_context(source="command:load_demo"):
        for obj in objects:
            entry = entries[str(obj.pk)]
            expected = journal.build_entry(
                obj, AuditAction.CREATE, None, journal.snapshot(obj, m2m=False)
            )
            for name in ("action", "object_type", "object_repr", "zone_id", "actor_id"):
                assert getattr(entry, name) == getattr(expected, name), (obj, name)
            assert entry.source == "command:load_demo" and entry.before is None
            assert entry.actor_name == "" and entry.verb == "" and entry.reason == ""
            assert entry.after.keys() == expected.after.keys()
            for key, value in expected.after.items():
                assert same_value(fields[key], entry.after[key], value), (obj, key)


def test_rows_read_back_like_orm_rows(demo):
    customer = Customer.objects.filter(status="closed").first()
    assert customer.closed_on and isinstance(customer.opened_on, datetime.date)
    meter = Meter.objects.filter(status="removed").first()
    assert isinstance(meter.final_reading, decimal.Decimal) and meter.removed_on
    assert MeterEvent.objects.filter(recorded_at__isnull=True).count() == 0
    for customer in Customer.objects.all():
        assert customer.name_initials == services.name_initials(customer.name), customer


def test_ids_continue_after_the_generated_rows(demo):
    """On PostgreSQL the generator gives ids itself: the sequences must be moved past them."""
    admin = Operator.objects.get(username="admin")
    book = demo["customer_data"]["books"][0]
    meter = Meter.objects.filter(kind="customer", status="active").first()
    customer = services.open_customer(
        admin,
        {
            "name": "新客户",
            "address": "解放路1号",
            "book": book,
            "category": meter.customer.category,
        },
        {"number": "NEW-1", "installed_on": "2026-02-01", "tariff": meter.tariff},
    )
    share = MeterShare.objects.create(meter=meter, customer=customer, ratio="0.5")
    for model, obj in (
        (Customer, customer),
        (Meter, customer.meters.get()),
        (MeterShare, share),
        (MeterEvent, MeterEvent.objects.get(meter__number="NEW-1")),
    ):
        assert obj.pk > max(model.objects.exclude(pk=obj.pk).values_list("pk", flat=True))


@pytest.mark.postgres
def test_search_box_is_served_by_indexes_on_postgres(db):
    """Every arm of the search box's OR has an index (trigram for "contains"), so a million
    accounts are searched by one bitmap scan, not read whole."""
    with connection.cursor() as cursor:  # a small table: plan as a large one would be read
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_indexscan = off")
    plan = Customer.objects.filter(address__icontains="解放路123号").order_by().explain()
    assert "customers_customer_address_trgm" in plan, plan
    plan = search_customers(Customer.objects.order_by(), "解放路123号").explain()
    assert "BitmapOr" in plan and "Seq Scan" not in plan, plan
    for index in ("address_trgm", "name_trgm", "account_upper", "phone2_like"):
        assert f"customers_customer_{index}" in plan, plan


def test_short_search_matches_name_prefix_not_contains(db):
    from watermis.customers.filtersets import search_customers
    from watermis.customers.models import Customer

    short = str(search_customers(Customer.objects.all(), "张伟").query).split("WHERE")[1]
    assert "LIKE 张伟%" in short.replace("'", "") and "address" not in short
    long = str(search_customers(Customer.objects.all(), "解放路1").query).split("WHERE")[1]
    assert "address" in long
