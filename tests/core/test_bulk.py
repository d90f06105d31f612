"""Set-based writes: reserved ids are fresh, distinct and never handed out twice."""

import pytest
from django.db import transaction

from watermis.billing.models import BillLine
from watermis.core import bulk
from watermis.org.models import Zone

pytestmark = pytest.mark.django_db


def test_reserved_ids_are_distinct_ascending_and_never_given_again():
    with transaction.atomic():
        # bill lines' sequence hands out cached blocks of 1000 on PostgreSQL
        first = bulk.reserve_ids(BillLine, 2500)
        second = bulk.reserve_ids(BillLine, 1200)
    assert len(first) == 2500 and len(second) == 1200
    assert first == sorted(first) and len(set(first) | set(second)) == 3700
    assert min(second) > max(first)
    assert bulk.reserve_ids(BillLine, 0) == []


def test_an_ordinary_insert_after_a_reservation_gets_a_new_id():
    with transaction.atomic():
        reserved = bulk.reserve_ids(Zone, 10)
        zone = Zone.objects.create(code="Z9", name="九区", kind="urban")
    assert zone.pk not in reserved and len(set(reserved)) == 10
