"""Bill-run and month-end pages, as a clerk and a manager use them."""

import datetime

import pytest
from django.urls import reverse

from watermis.billing.models import Bill, BillRun, MonthEnd

from .billing_town import build_town, open_month, read, run_tasks

OCT = datetime.date(2026, 10, 1)


@pytest.fixture
def town(org, admin):
    town = build_town(org, admin)
    open_month(admin, town, OCT)
    for meter, current in zip(town["meters"], ("124", "130", "100"), strict=True):
        read(admin, meter, OCT, current)
    return town


def start(client, town, dry_run):
    data = {"zone": town["zone"].pk, "month": "2026-10", "issued_on": "2026-10-25"}
    if dry_run:
        data["dry_run"] = "on"
    return client.post(reverse("billing:run_start"), data)


def test_clerk_previews_then_bills_and_watches_progress(town, login, clerk_a):
    client = login(clerk_a)
    client.cookies["django_language"] = "en"
    assert client.get(reverse("billing:run_start")).status_code == 200
    response = start(client, town, dry_run=True)
    preview = BillRun.objects.get()
    assert response.status_code == 302 and response["Location"] == preview.get_absolute_url()
    page = client.get(preview.get_absolute_url()).content.decode()
    assert "Running" in page and 'hx-trigger="every 2s"' in page
    run_tasks()
    page = client.get(preview.get_absolute_url()).content.decode()
    assert "Preview: nothing is written" in page and "224.00" in page and "水费" in page
    assert 'hx-trigger="every 2s"' not in page and Bill.objects.count() == 0
    start(client, town, dry_run=False)
    run = BillRun.objects.get(dry_run=False)
    fragment = client.get(run.get_absolute_url(), headers={"HX-Request": "true"})
    assert fragment.content.decode().lstrip().startswith('<div id="run-progress"')
    run_tasks()
    assert Bill.objects.count() == 3
    listing = client.get(reverse("billing:run_list")).content.decode()
    assert "2026-10" in listing and "1/1" in listing


def test_start_errors_show_beside_the_form(town, login, clerk_a):
    client = login(clerk_a)
    client.cookies["django_language"] = "en"
    response = client.post(
        reverse("billing:run_start"),
        {"zone": town["zone"].pk, "month": "2026-08", "issued_on": "2026-10-25"},
    )
    assert (
        response.status_code == 200 and "no reading period in 2026-08" in response.content.decode()
    )


def test_cashier_cannot_start_runs(town, login, cashier_a):
    client = login(cashier_a)
    assert client.get(reverse("billing:run_start")).status_code == 403
    assert start(client, town, dry_run=False).status_code == 403


def test_manager_checks_and_closes_the_month(town, login, manager, clerk_a):
    client = login(manager)
    client.cookies["django_language"] = "en"
    url = reverse("billing:month_end")
    page = client.get(url, {"zone": town["zone"].pk, "month": "2026-10"}).content.decode()
    assert "not billed yet" in page and 'id="close-month"' not in page
    start(login(clerk_a), town, dry_run=False)
    run_tasks()
    client = login(manager)
    page = client.get(url, {"zone": town["zone"].pk, "month": "2026-10"}).content.decode()
    assert 'id="close-month"' in page
    response = client.post(url, {"zone": town["zone"].pk, "month": "2026-10", "note": "月结"})
    assert response.status_code == 302
    assert MonthEnd.objects.get().note == "月结"
    assert "224.00" in client.get(reverse("billing:monthend_list")).content.decode()
