"""Customer and meter services (M5, M6): account numbers, opening, meters, replacement,
transfer, shutoff, route order, moves and batch updates — scoped and journaled."""

import datetime
import threading
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection

from watermis.core.models import AuditEntry
from watermis.customers import services
from watermis.customers.models import (
    AccountSequence,
    Customer,
    CustomerStatus,
    Meter,
    MeterEvent,
    MeterEventKind,
    MeterKind,
    MeterStatus,
    ValveState,
)
from watermis.tariffs import services as tariff_services
from watermis.tariffs.models import CategoryKind

D = Decimal
DAY = datetime.date(2026, 11, 1)


@pytest.fixture
def setup(org, admin):
    category = tariff_services.create_category(
        admin, {"code": "RES", "name": "居民", "kind": CategoryKind.RESIDENTIAL}
    )
    tariff = tariff_services.create_tariff(
        admin, {"code": "RES", "name": "居民水价", "category": category}
    )
    area_a = services.create_area(admin, {"code": "A1", "name": "东一片", "zone": org["zone_a"]})
    area_b = services.create_area(admin, {"code": "B1", "name": "西一片", "zone": org["zone_b"]})
    book_a = services.create_book(
        admin, {"code": "DA01", "name": "东一册", "area": area_a, "reader": org["emp_a"]}
    )
    book_a2 = services.create_book(admin, {"code": "DA02", "name": "东二册", "area": area_a})
    book_b = services.create_book(admin, {"code": "XB01", "name": "西一册", "area": area_b})
    return {
        "category": category,
        "tariff": tariff,
        "book_a": book_a,
        "book_a2": book_a2,
        "book_b": book_b,
    }


def open_one(actor, setup, name="张三丰", book="book_a", number="M001", **extra):
    return services.open_customer(
        actor,
        {
            "name": name,
            "address": "解放路1号",
            "phone": "13800000001",
            "book": setup[book],
            "category": setup["category"],
            **extra,
        },
        {"number": number, "installed_on": DAY, "tariff": setup["tariff"], "caliber": "DN15"},
        today=DAY,
    )


def test_open_customer_with_first_meter(setup, admin, org):
    customer = open_one(admin, setup)
    assert customer.account_no == "DC000001" and customer.zone == org["zone_a"]
    assert customer.name_initials == "zsf" and customer.opened_on == DAY
    meter = customer.meters.get()
    assert meter.number == "M001" and meter.zone == org["zone_a"]
    assert MeterEvent.objects.get(meter=meter).kind == MeterEventKind.INSTALL
    assert AuditEntry.objects.filter(
        object_type="customers.customer", object_id=str(customer.pk), actor=admin
    ).exists()
    assert AuditEntry.objects.filter(
        object_type="customers.meter", object_id=str(meter.pk)
    ).exists()
    assert open_one(admin, setup, name="李四", number="M002").account_no == "DC000002"
    assert (
        open_one(admin, setup, name="王五", book="book_b", number="M003").account_no == "XC000001"
    )


def test_account_numbers_never_reused(setup, admin):
    first = open_one(admin, setup)
    # a legacy account took the next number: it is skipped
    Customer.objects.filter(pk=first.pk).update(account_no="DC000002")
    assert open_one(admin, setup, number="M002").account_no == "DC000003"
    # a failed opening (bad meter) rolls the sequence back with it: nothing is lost or doubled
    with pytest.raises(ValidationError):
        open_one(admin, setup, number="M002")  # duplicate meter number
    assert open_one(admin, setup, number="M004").account_no == "DC000004"
    sequence = AccountSequence.objects.get(zone=setup["book_a"].area.zone)
    sequence.pattern = "JC-{zone}-{seq:05d}"
    sequence.save()
    assert open_one(admin, setup, number="M005").account_no == "JC-DC-00005"


def test_open_refused_out_of_scope_and_without_permission(setup, clerk_a, cashier_a):
    with pytest.raises(PermissionDenied):
        open_one(clerk_a, setup, book="book_b")
    with pytest.raises(PermissionDenied):
        open_one(cashier_a, setup)
    assert not Customer.objects.exists()
    assert open_one(clerk_a, setup).zone == setup["book_a"].area.zone


def test_bad_meter_writes_nothing(setup, admin):
    with pytest.raises(ValidationError) as exc:
        services.open_customer(
            admin,
            {
                "name": "赵六",
                "address": "x",
                "book": setup["book_a"],
                "category": setup["category"],
            },
            {
                "number": "M9",
                "installed_on": DAY,
                "digits": 4,
                "initial_reading": D("10000"),
                "tariff": setup["tariff"],
            },
            today=DAY,
        )
    assert "initial_reading" in exc.value.message_dict
    assert not Customer.objects.exists() and not Meter.objects.exists()


def test_replace_meter(setup, admin, org):
    customer = open_one(admin, setup)
    old = customer.meters.get()
    with pytest.raises(ValidationError) as exc:
        services.replace_meter(admin, old, {"number": "M100"}, D("100000"), DAY)
    assert "old_final_reading" in exc.value.message_dict
    new = services.replace_meter(
        admin,
        old,
        {"number": "M100", "initial_reading": D("3")},
        D("1234.5"),
        DAY + datetime.timedelta(days=10),
        installer=org["emp_c"],
        reason="表停走",
    )
    old.refresh_from_db()
    assert old.status == MeterStatus.REMOVED and old.final_reading == D("1234.5")
    assert (
        new.customer == customer and new.tariff == setup["tariff"] and new.initial_reading == D("3")
    )
    event = MeterEvent.objects.get(kind=MeterEventKind.REPLACE)
    assert (event.meter, event.new_meter, event.old_final_reading, event.new_initial_reading) == (
        old,
        new,
        D("1234.5"),
        D("3"),
    )
    with pytest.raises(ValidationError):
        services.replace_meter(admin, old, {"number": "M101"}, D("1"), DAY)  # already removed


def test_transfer_to_existing_and_new_customer(setup, admin):
    first = open_one(admin, setup)
    second = open_one(admin, setup, name="李四", number="M002")
    meter = first.meters.get()
    services.transfer_meter(admin, meter, to_customer=second, on=DAY, reason="过户")
    meter.refresh_from_db()
    assert meter.customer == second
    services.transfer_meter(
        admin,
        meter,
        new_customer={
            "name": "王五",
            "address": "新地址",
            "book": setup["book_b"],
            "category": setup["category"],
        },
        on=DAY,
        reason="迁入西城",
    )
    meter.refresh_from_db()
    assert meter.customer.name == "王五" and meter.zone == setup["book_b"].area.zone
    assert meter.customer.account_no == "XC000001"
    assert MeterEvent.objects.filter(meter=meter, kind=MeterEventKind.TRANSFER).count() == 2
    with pytest.raises(ValidationError):
        services.transfer_meter(admin, meter, to_customer=meter.customer, reason="x")


def test_shutoff_and_restore(setup, admin, org):
    meter = open_one(admin, setup).meters.get()
    services.record_shutoff(admin, meter, DAY, org["emp_c"], "长期欠费")
    meter.refresh_from_db()
    assert meter.valve_state == ValveState.CLOSED
    with pytest.raises(ValidationError):
        services.record_shutoff(admin, meter, DAY, org["emp_c"], "again")
    services.record_shutoff(admin, meter, DAY, org["emp_c"], "已缴费", restore=True)
    meter.refresh_from_db()
    assert meter.valve_state == ValveState.OPEN
    assert [e.kind for e in MeterEvent.objects.filter(meter=meter).order_by("id")] == [
        "install",
        "shutoff",
        "restore",
    ]


def test_sub_and_master_meters(setup, admin, org):
    customer = open_one(admin, setup)
    parent = customer.meters.get()
    master = services.create_master_meter(
        admin, {"number": "Z001", "installed_on": DAY}, org["zone_a"]
    )
    sub = services.add_meter(
        admin,
        customer,
        {
            "number": "S001",
            "installed_on": DAY,
            "tariff": setup["tariff"],
            "parent": parent,
            "master": master,
        },
    )
    assert sub.parent == parent and sub.master == master and master.kind == MeterKind.DISTRICT
    with pytest.raises(ValidationError) as exc:
        services.add_meter(
            admin,
            customer,
            {"number": "S002", "installed_on": DAY, "tariff": setup["tariff"], "parent": sub},
        )
    assert "parent" in exc.value.message_dict
    with pytest.raises(ValidationError):
        services.add_meter(
            admin,
            customer,
            {"number": "S003", "installed_on": DAY, "tariff": setup["tariff"], "master": parent},
        )


def test_status_changes(setup, admin):
    customer = open_one(admin, setup)
    services.set_customer_status(admin, customer, CustomerStatus.SUSPENDED, DAY, "外出")
    customer.refresh_from_db()
    assert customer.status == CustomerStatus.SUSPENDED and customer.suspended_on == DAY
    with pytest.raises(ValidationError):
        services.set_customer_status(
            admin, customer, CustomerStatus.CLOSED, DAY, "销户"
        )  # meter still in service
    with pytest.raises(ValidationError):
        services.set_customer_status(admin, customer, CustomerStatus.ACTIVE, DAY, " ")


def test_route_order_move_and_batch_update(setup, admin, org):
    customers = [open_one(admin, setup, name=f"用户{i}", number=f"M{i}") for i in range(4)]
    ids = [c.pk for c in reversed(customers)]
    assert services.set_route_order(admin, setup["book_a"], ids) == 4
    assert (
        list(
            Customer.objects.filter(book=setup["book_a"])
            .order_by("route_order")
            .values_list("pk", flat=True)
        )
        == ids
    )
    with pytest.raises(ValidationError):
        services.set_route_order(admin, setup["book_a"], ids[:3])
    assert services.move_customers(admin, ids[:2], setup["book_a2"], "调整抄表路线") == 2
    moved = Customer.objects.filter(book=setup["book_a2"]).order_by("route_order")
    assert [c.route_order for c in moved] == [10, 20]
    preview = services.batch_preview(Customer.objects.all(), {"household_size": 5})
    assert len(preview) == 4
    assert (
        services.batch_update(
            admin, [c.pk for c in customers], {"household_size": 5, "low_income": True}, "普查"
        )
        == 4
    )
    entries = AuditEntry.objects.filter(verb="batch_update", reason="普查")
    assert entries.count() == 4
    assert entries.first().after == {"household_size": 5, "low_income": True}
    assert (
        services.batch_update(admin, [c.pk for c in customers], {"household_size": 5}, "again") == 0
    )
    with pytest.raises(ValidationError):
        services.batch_update(admin, [customers[0].pk], {"name": "x"}, "no")


def test_batch_update_refuses_out_of_scope(setup, admin, clerk_a):
    other = open_one(admin, setup, book="book_b")
    with pytest.raises(PermissionDenied):
        services.batch_update(clerk_a, [other.pk], {"household_size": 3}, "x")
    with pytest.raises(PermissionDenied):
        services.move_customers(
            clerk_a, [open_one(admin, setup, number="M7").pk], setup["book_b"], "x"
        )


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_openings_never_share_a_number(org, admin):
    """Eight operators open accounts in the same zone at the same moment: eight numbers."""
    category = tariff_services.create_category(
        admin, {"code": "RES", "name": "居民", "kind": CategoryKind.RESIDENTIAL}
    )
    tariff = tariff_services.create_tariff(
        admin, {"code": "RES", "name": "居民水价", "category": category}
    )
    area = services.create_area(admin, {"code": "A1", "name": "东一片", "zone": org["zone_a"]})
    book = services.create_book(admin, {"code": "DA01", "name": "东一册", "area": area})
    barrier = threading.Barrier(8)
    numbers, errors = [], []

    def work(i):
        try:
            barrier.wait()
            customer = services.open_customer(
                admin,
                {"name": f"并发{i}", "address": "x", "book": book, "category": category},
                {"number": f"C{i}", "installed_on": DAY, "tariff": tariff},
                today=DAY,
            )
            numbers.append(customer.account_no)
        except Exception as exc:  # noqa: BLE001 - collected and asserted below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=work, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert sorted(numbers) == [f"DC{n:06d}" for n in range(1, 9)]


def test_replacing_a_parent_moves_and_journals_its_subs(setup, admin):
    customer = open_one(admin, setup)
    parent = customer.meters.get()
    sub = services.add_meter(
        admin,
        customer,
        {"number": "S1", "installed_on": DAY, "tariff": setup["tariff"], "parent": parent},
    )
    new = services.replace_meter(admin, parent, {"number": "M-NEW"}, D("10"), DAY, reason="换表")
    sub.refresh_from_db()
    assert sub.parent == new
    entry = AuditEntry.objects.get(
        object_type="customers.meter", object_id=str(sub.pk), verb="replace_parent"
    )
    assert (
        entry.before == {"parent_id": parent.pk}
        and entry.after == {"parent_id": new.pk}
        and entry.actor == admin
    )
