"""The demo's customers (issue 4 item 8): every kind of meter, consistent account numbers,
journaled, deterministic."""

from collections import defaultdict
from decimal import Decimal

from django.db import transaction
from django.db.models import Count

from watermis.core.models import AuditEntry
from watermis.customers import services
from watermis.customers.models import (
    AccountSequence,
    Book,
    Customer,
    Meter,
    MeterEvent,
    MeterKind,
    MeterShare,
)
from watermis.demo import build_demo
from watermis.org.models import Zone


def test_small_demo_has_every_kind_of_meter(db):
    built = build_demo(seed=5, customers=1500)
    assert Customer.objects.count() == built["customer_data"]["customers"] == 1500
    meters = Meter.objects.filter(kind=MeterKind.CUSTOMER)
    assert Meter.objects.filter(kind=MeterKind.PLANT).exists()
    assert Meter.objects.filter(kind=MeterKind.DISTRICT).exists()
    assert meters.filter(master__kind=MeterKind.DISTRICT).exists()
    assert meters.filter(master__kind=MeterKind.PLANT).exists()
    assert meters.filter(parent__isnull=False).exists()
    assert meters.filter(remote_read=True).exclude(device_address="").exists()
    assert meters.filter(remote_valve=True).exclude(device_address="").exists()
    assert not meters.filter(remote_read=True, device_address="").exists()
    several = Customer.objects.annotate(n=Count("meters")).filter(n__gte=2)
    assert several.exists()
    ratios = defaultdict(Decimal)
    for meter_id, ratio in MeterShare.objects.values_list("meter_id", "ratio"):
        ratios[meter_id] += ratio
    assert ratios and set(ratios.values()) == {Decimal(1)}
    for status in ("active", "suspended", "closed"):
        assert Customer.objects.filter(status=status).exists(), status
    for kind in ("install", "replace", "transfer"):
        assert MeterEvent.objects.filter(kind=kind).exists(), kind
    # a closed account has no meter in service
    assert not meters.filter(customer__status="closed", status="active").exists()
    # every customer on the tariff of its category; books in every zone, with staff
    assert not meters.exclude(tariff__category=models_category()).exists()
    assert set(Book.objects.values_list("area__zone", flat=True)) == set(
        Zone.objects.values_list("pk", flat=True)
    )
    assert not Book.objects.filter(reader__isnull=True).exists()
    assert Book.objects.filter(collector__isnull=False).exists()
    assert not Customer.objects.exclude(zone=models_book_zone()).exists()
    assert not Customer.objects.filter(name_initials="").exists()
    # journaled in bulk
    for label, model in (("customers.customer", Customer), ("customers.meter", Meter)):
        assert AuditEntry.objects.filter(object_type=label).count() == model.objects.count()


def models_category():
    from django.db.models import F

    return F("customer__category")


def models_book_zone():
    from django.db.models import F

    return F("book__area__zone")


def test_sequences_continue_past_the_highest_number(db):
    build_demo(seed=5, customers=400)
    for sequence in AccountSequence.objects.select_related("zone"):
        numbers = Customer.objects.filter(zone=sequence.zone).values_list("account_no", flat=True)
        highest = max(int(n[len(sequence.zone.code) :]) for n in numbers)
        assert sequence.next_value == highest + 1
        with transaction.atomic():
            fresh = services.next_account_number(sequence.zone)
        assert not Customer.objects.filter(account_no=fresh).exists()


def test_demo_customers_are_deterministic(db):
    def snapshot():
        return (
            list(
                Customer.objects.order_by("account_no").values_list(
                    "account_no", "name", "address", "book__code", "category__code", "status"
                )
            ),
            list(
                Meter.objects.order_by("number").values_list(
                    "number", "customer__account_no", "parent__number", "master__number", "status"
                )
            ),
            list(
                MeterShare.objects.order_by("meter__number", "customer__account_no").values_list(
                    "meter__number", "customer__account_no", "ratio"
                )
            ),
        )

    with transaction.atomic():
        build_demo(seed=3, customers=300)
        first = snapshot()
        transaction.set_rollback(True)
    assert not Customer.objects.exists()
    build_demo(seed=3, customers=300)
    assert snapshot() == first and len(first[0]) == 300
