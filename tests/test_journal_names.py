"""The change journal names related rows (issue 4): a foreign key shows the row's name, not
its id, on the journal page, in its Excel export and in a record's history, with one query
per related model for a whole page."""

import io

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from openpyxl import load_workbook

from watermis.core import journal
from watermis.core.models import AuditAction, AuditEntry
from watermis.customers import services
from watermis.customers.models import Book, Customer
from watermis.tariffs import services as tariff_services
from watermis.tariffs.models import CategoryKind


@pytest.fixture
def books(org, admin):
    category = tariff_services.create_category(
        admin, {"code": "RES", "name": "居民", "kind": CategoryKind.RESIDENTIAL}
    )
    tariff = tariff_services.create_tariff(
        admin, {"code": "RES", "name": "居民水价", "category": category}
    )
    area = services.create_area(admin, {"code": "A1", "name": "东一片", "zone": org["zone_a"]})
    first = services.create_book(admin, {"code": "DA01", "name": "东一册", "area": area})
    second = services.create_book(
        admin, {"code": "DA02", "name": "东二册", "area": area, "reader": org["emp_a"]}
    )
    return {"category": category, "tariff": tariff, "first": first, "second": second}


def open_and_move(admin, books, count, start=0):
    """``count`` customers opened in the first book, each then moved to the second."""
    customers = []
    for n in range(start, start + count):
        customer = services.open_customer(
            admin,
            {
                "name": f"张三{n}",
                "address": f"解放路{n}号",
                "book": books["first"],
                "category": books["category"],
            },
            {"number": f"M{n:04d}", "installed_on": "2026-01-01", "tariff": books["tariff"]},
        )
        services.update_customer(admin, customer, {"book": books["second"]})
        customers.append(customer)
    return customers


def move_entry(customer):
    return journal.history(customer).get(action=AuditAction.UPDATE)


def test_foreign_keys_show_names_not_ids(org, admin, books):
    (customer,) = open_and_move(admin, books, 1)
    first, second = books["first"], books["second"]
    rows = {label: (old, new) for label, old, new in move_entry(customer).described_changes()}
    assert (
        rows[Book._meta.verbose_name] == (str(first), str(second)) == ("DA01 东一册", "DA02 东二册")
    )
    created = journal.history(customer).get(action=AuditAction.CREATE).described_changes()
    shown = {str(label): new for label, _old, new in created}
    assert shown[str(Customer._meta.get_field("zone").verbose_name)] == "东城区"
    assert shown[str(Customer._meta.get_field("category").verbose_name)] == "居民"
    # a book's reader is an employee: named too
    book_entry = journal.history(second).get(action=AuditAction.CREATE)
    assert any(new == str(org["emp_a"]) for _l, _o, new in book_entry.described_changes())


def test_a_row_that_is_gone_shows_its_id(org, admin, books):
    (customer,) = open_and_move(admin, books, 1)
    entry = journal.build_entry(
        customer, AuditAction.UPDATE, {"book_id": books["first"].pk}, {"book_id": 987654}
    )
    entry.save(force_insert=True)
    rows = AuditEntry.objects.get(pk=entry.pk).described_changes()
    assert rows == [(Book._meta.verbose_name, "DA01 东一册", "#987654")]


def test_journal_page_export_and_history_show_names(org, admin, books, login):
    (customer,) = open_and_move(admin, books, 1)
    client = login(admin)
    url = reverse("core:journal")
    page = client.get(url, {"object_type": "customers.customer", "action": "update"})
    html = page.content.decode()
    assert "DA01 东一册" in html and "DA02 东二册" in html
    assert f"{books['first'].pk} → {books['second'].pk}" not in html
    export = client.get(
        url, {"object_type": "customers.customer", "action": "update", "export": "xlsx"}
    )
    sheet = load_workbook(io.BytesIO(b"".join(export.streaming_content))).worksheets[0]
    cells = [str(c.value) for row in sheet.iter_rows(min_row=2) for c in row if c.value]
    assert any("DA01 东一册 → DA02 东二册" in c for c in cells)
    detail = client.get(reverse("customers:customer_detail", args=[customer.pk]))
    assert "DA01 东一册 → DA02 东二册" in detail.content.decode().replace("\n", "")


def journal_page_queries(client, entries):
    with CaptureQueriesContext(connection) as queries:
        page = client.get(reverse("core:journal"), {"per_page": 100})
    assert page.status_code == 200
    assert len(page.context["table"].page.object_list) == entries
    return len(queries)


def test_journal_page_names_a_page_in_a_few_queries(
    org, admin, books, login, django_assert_max_num_queries
):
    open_and_move(admin, books, 2)
    client = login(admin)
    client.get(reverse("core:journal"))  # warm the session and caches
    small = AuditEntry.objects.count()
    few = journal_page_queries(client, small)
    open_and_move(admin, books, 12, start=2)
    many = journal_page_queries(client, min(100, AuditEntry.objects.count()))
    assert many == few  # not one query per entry
    with django_assert_max_num_queries(25):
        client.get(reverse("core:journal"), {"per_page": 100})
