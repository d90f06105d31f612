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


@pytest.mark.django_db(transaction=True)
def test_a_table_grown_past_its_statistics_is_analyzed_again():
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("planner statistics are PostgreSQL's")
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE org_zone")  # analyzed empty, as on a new system
    Zone.objects.bulk_create(
        [Zone(code=f"Z{i:03d}", name=f"区{i}", kind="urban") for i in range(300)]
    )
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_stat_force_next_flush()")
    assert bulk.refresh_statistics(Zone, slack=100) is True
    with connection.cursor() as cursor:
        cursor.execute("SELECT reltuples FROM pg_class WHERE relname = 'org_zone'")
        assert cursor.fetchone()[0] == 300
    assert bulk.refresh_statistics(Zone, slack=100) is False
    assert bulk.refresh_statistics(Zone) is False  # 300 rows: within the default slack


def test_an_array_literal_carries_numbers_dates_and_nulls():
    import datetime
    from decimal import Decimal

    values = [1, None, Decimal("-1.50"), datetime.date(2026, 11, 24)]
    assert bulk.array_literal(values) == "{1,NULL,-1.50,2026-11-24}"
    assert bulk.array_literal([]) == "{}"


def test_filter_ids_finds_the_rows_of_any_number_of_ids(django_assert_num_queries):
    zones = Zone.objects.bulk_create(
        [Zone(code=f"F{i}", name=f"区{i}", kind="urban") for i in range(3)]
    )
    wanted = [zones[0].pk, zones[2].pk, 10**12, *range(10**9, 10**9 + 3000)]
    with django_assert_num_queries(1):
        found = set(
            bulk.filter_ids(Zone.objects.all(), "id", wanted).values_list("code", flat=True)
        )
    assert found == {"F0", "F2"}
    assert not bulk.filter_ids(Zone.objects.all(), "id", []).exists()
