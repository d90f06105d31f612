"""Changing a meter's links (issue 4): a newly chosen parent or master meter must be in the
operator's zones, as when the meter is added."""

import datetime

import pytest
from django.core.exceptions import PermissionDenied

from watermis.core.models import AuditEntry
from watermis.customers import services
from watermis.customers.models import Meter
from watermis.tariffs import services as tariff_services
from watermis.tariffs.models import CategoryKind

DAY = datetime.date(2026, 11, 1)


@pytest.fixture
def meters(org, admin):
    """A customer meter in zone A and in zone B, and a district master meter in each zone."""
    category = tariff_services.create_category(
        admin, {"code": "RES", "name": "居民", "kind": CategoryKind.RESIDENTIAL}
    )
    tariff = tariff_services.create_tariff(
        admin, {"code": "RES", "name": "居民水价", "category": category}
    )
    found = {}
    for key, zone, code in (("a", org["zone_a"], "A"), ("b", org["zone_b"], "B")):
        area = services.create_area(admin, {"code": f"{code}1", "name": f"{code}片", "zone": zone})
        book = services.create_book(admin, {"code": f"{code}01", "name": f"{code}册", "area": area})
        customer = services.open_customer(
            admin,
            {"name": "张三", "address": "解放路1号", "book": book, "category": category},
            {"number": f"M{code}", "installed_on": DAY, "tariff": tariff},
            today=DAY,
        )
        found[key] = customer.meters.get()
        found[f"master_{key}"] = services.create_master_meter(
            admin, {"number": f"Z{code}", "installed_on": DAY}, zone
        )
    return found


def test_operator_cannot_link_a_meter_to_another_zones_parent(meters, clerk_a):
    own, foreign = meters["a"], meters["b"]
    with pytest.raises(PermissionDenied):
        services.update_meter(clerk_a, own, {"parent": foreign})
    with pytest.raises(PermissionDenied):
        services.update_meter(clerk_a, own, {"master": meters["master_b"]})
    own.refresh_from_db()
    assert own.parent_id is None and own.master_id is None
    assert not AuditEntry.objects.filter(
        object_type="customers.meter", object_id=str(own.pk), action="update"
    ).exists()


def test_operator_links_in_own_zone_and_keeps_an_existing_link(meters, admin, clerk_a):
    own = meters["a"]
    services.update_meter(clerk_a, own, {"master": meters["master_a"]})
    assert Meter.objects.get(pk=own.pk).master == meters["master_a"]
    # a link the administrator set across zones stays when the clerk changes something else
    services.update_meter(admin, own, {"master": meters["master_b"]})
    own = Meter.objects.get(pk=own.pk)
    services.update_meter(clerk_a, own, {"master": meters["master_b"], "location": "厨房"})
    own.refresh_from_db()
    assert own.location == "厨房" and own.master == meters["master_b"]
