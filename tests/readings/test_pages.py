"""Reading entry pages (F2.1–F2.6): periods, batch entry by book through the row endpoint,
the confirmation flow, held reads, single-account entry, permissions and query counts."""

import datetime
from decimal import Decimal

import pytest
from django.urls import reverse

from watermis.core.models import AuditEntry
from watermis.customers import services as customer_services
from watermis.readings import services
from watermis.readings.models import (
    PeriodStatus,
    Reading,
    ReadingPeriod,
    ReadingSplit,
    ReadingState,
)
from watermis.readings.services import Entry

D = Decimal
ROW = {"HTTP_X_ROW": "1"}


@pytest.fixture
def month():
    """The current month: pages default the read date to today at the latest."""
    from django.utils import timezone

    return timezone.localdate().replace(day=1)


@pytest.fixture
def periods(town, org, admin, month):
    opened = services.open_periods(admin, org["zone_a"], month)
    opened_b = services.open_periods(admin, org["zone_b"], month)
    return {
        "book": next(p for p in opened if p.book_id == town["book_a"].pk),
        "master": next(p for p in opened if p.book_id is None),
        "book_b": next(p for p in opened_b if p.book_id),
    }


def row(period, meter):
    return Reading.objects.get(period=period, meter=meter, sequence=1)


def read_day(period):
    from django.utils import timezone

    return min(period.planned_on, timezone.localdate())


def post_row(client, reading, current, **extra):
    data = {
        "current": current,
        "read_on": read_day(reading.period).isoformat(),
        "status_code": "normal",
        **extra,
    }
    return client.post(reverse("readings:reading_enter", args=[reading.pk]), data, **ROW)


# --- permissions ----------------------------------------------------------------------------


def test_anonymous_goes_to_login(client, periods):
    for url in (
        reverse("readings:period_list"),
        reverse("readings:period_detail", args=[periods["book"].pk]),
        reverse("readings:account_entry"),
    ):
        response = client.get(url)
        assert response.status_code == 302 and "/login/" in response.url


def test_no_role_is_refused(login, nobody, cashier_a, periods, town):
    reading = row(periods["book"], town["meters"][0])
    for user in (nobody, cashier_a):
        client = login(user)
        assert client.get(reverse("readings:period_list")).status_code == 403
        assert (
            client.get(reverse("readings:period_detail", args=[periods["book"].pk])).status_code
            == 403
        )
        assert post_row(client, reading, "110").status_code == 403
    reading.refresh_from_db()
    assert reading.state == ReadingState.PENDING


def test_another_zone_answers_404(login, clerk_a, periods, town):
    client = login(clerk_a)
    other = row(periods["book_b"], town["meters"][3])
    assert (
        client.get(reverse("readings:period_detail", args=[periods["book_b"].pk])).status_code
        == 404
    )
    assert client.get(reverse("readings:reading_detail", args=[other.pk])).status_code == 404
    assert post_row(client, other, "110").status_code == 404
    response = client.post(
        reverse("readings:period_close", args=[periods["book_b"].pk]), {"reason": "x"}
    )
    assert response.status_code == 404
    response = client.get(reverse("readings:account_entry"), {"account": other.customer.account_no})
    assert "account-not-found" in response.content.decode()


# --- periods ---------------------------------------------------------------------------------


def test_period_list_shows_progress_and_exports(login, clerk_a, periods, town):
    services.enter_reading(
        clerk_a,
        row(periods["book"], town["meters"][0]),
        Entry(D("110"), read_day(periods["book"])),
    )
    client = login(clerk_a)
    response = client.get(reverse("readings:period_list"))
    html = response.content.decode()
    assert response.status_code == 200
    assert "DA01" in html and "XB01" not in html  # zone B is outside the clerk's scope
    assert "reader-progress" in html and "张伟" in html
    table = response.context["table"]
    record = next(r.record for r in table.page.object_list if r.record.pk == periods["book"].pk)
    assert table.progress(record)["read"] == 1 and table.progress(record)["total"] == 4
    response = client.get(reverse("readings:period_list"), {"export": "xlsx", "status": "open"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")


def test_open_periods_page_opens_and_shows_them(login, clerk_a, town, org, month):
    client = login(clerk_a)
    assert client.get(reverse("readings:period_open")).status_code == 200
    data = {"zone": org["zone_a"].pk, "month": month.strftime("%Y-%m")}
    response = client.post(reverse("readings:period_open"), data)
    html = response.content.decode()
    assert response.status_code == 200 and "opened-periods" in html and "DA01" in html
    assert ReadingPeriod.objects.filter(zone=org["zone_a"], month=month).count() == 2
    response = client.post(reverse("readings:period_open"), data)
    assert "nothing-opened" in response.content.decode()
    # a zone outside the clerk's scope is not offered
    response = client.post(
        reverse("readings:period_open"), {"zone": org["zone_b"].pk, "month": data["month"]}
    )
    assert response.context["form"].errors["zone"]
    assert not ReadingPeriod.objects.filter(zone=org["zone_b"]).exists()


def test_close_period(login, clerk_a, periods):
    client = login(clerk_a)
    period = periods["book"]
    response = client.post(reverse("readings:period_close", args=[period.pk]), {"reason": "月结"})
    assert response.status_code == 302
    period.refresh_from_db()
    assert period.status == PeriodStatus.CLOSED
    assert AuditEntry.objects.filter(verb="close_period", reason="月结").exists()
    html = client.get(reverse("readings:period_detail", args=[period.pk])).content.decode()
    assert "close-period" not in html and 'name="current"' in html and "disabled" in html


# --- batch entry -----------------------------------------------------------------------------


def test_batch_page_lists_rows_in_route_order(login, clerk_a, periods, town):
    client = login(clerk_a)
    response = client.get(reverse("readings:period_detail", args=[periods["book"].pk]))
    html = response.content.decode()
    assert response.status_code == 200
    assert html.index("M001") < html.index("M002") < html.index("M003")
    assert 'id="book-progress"' in html and "readings/entry.js" in html
    assert html.count('class="wm-row') == 4


def test_row_endpoint_saves_and_answers_the_row(login, clerk_a, periods, town):
    client = login(clerk_a)
    reading = row(periods["book"], town["meters"][0])
    response = post_row(client, reading, "112.5")
    html = response.content.decode()
    assert response.status_code == 200
    assert 'data-outcome="saved"' in html and "12.50 m³" in html
    assert 'id="progress-read">1<' in html
    reading.refresh_from_db()
    assert reading.state == ReadingState.ENTERED and reading.entered_by == clerk_a


def test_row_error_names_the_problem_and_offers_rollover(login, clerk_a, periods, town):
    client = login(clerk_a)
    reading = row(periods["book"], town["meters"][0])
    html = post_row(client, reading, "90").content.decode()
    assert 'data-outcome="error"' in html and "below the previous reading" in html
    assert "wm-rollover" in html and "99990.00" in html  # 5 digits: 100 → 90 is 99990 m³
    html = post_row(client, reading, "abc").content.decode()
    assert 'data-outcome="error"' in html and "wm-error" in html
    future = (read_day(reading.period) + datetime.timedelta(days=400)).isoformat()
    html = post_row(client, reading, "110", read_on=future).content.decode()
    assert "future" in html
    reading.refresh_from_db()
    assert reading.state == ReadingState.PENDING


def test_confirmation_flow(login, clerk_a, periods, town):
    client = login(clerk_a)
    reading = row(periods["book"], town["meters"][0])
    html = post_row(client, reading, "100").content.decode()  # zero consumption
    assert 'data-outcome="confirm"' in html and "wm-reason" in html
    assert 'data-confirm="1"' in html and "Zero consumption" in html
    html = post_row(client, reading, "100", confirm="on").content.decode()  # no reason
    assert 'data-outcome="confirm"' in html
    html = post_row(client, reading, "100", confirm="on", reason="空房").content.decode()
    assert 'data-outcome="saved"' in html
    reading.refresh_from_db()
    assert reading.state == ReadingState.ENTERED and reading.reason == "空房"
    # changing it now is a correction: the row asks for the reason
    html = post_row(client, reading, "101").content.decode()
    assert 'data-outcome="error"' in html and 'data-confirm="0"' in html
    html = post_row(client, reading, "101", reason="抄错").content.decode()
    assert 'data-outcome="saved"' in html


def test_held_read_confirmed_by_clerk_supervisor_by_manager(login, clerk_a, manager, periods, town):
    client = login(clerk_a)
    reading = row(periods["book"], town["meters"][0])
    Reading.objects.filter(pk=reading.pk).update(average=D("10"))
    html = post_row(client, reading, "200", confirm="on", reason="漏水").content.decode()
    assert 'data-state="held"' in html and "Waiting for a supervisor" in html
    url = reverse("readings:reading_confirm", args=[reading.pk])
    html = client.post(url, {"reason": "漏水"}, **ROW).content.decode()
    assert 'data-outcome="error"' in html
    client = login(manager)
    html = client.post(url, {"reason": "已核实"}, **ROW).content.decode()
    assert 'data-outcome="saved"' in html and 'data-state="entered"' in html
    reading.refresh_from_db()
    assert reading.state == ReadingState.ENTERED and reading.approved_by == manager
    # a usual finding held (e.g. from a file) is confirmed by the clerk
    other = row(periods["book"], town["meters"][1])
    Reading.objects.filter(pk=other.pk).update(average=D("20"))
    services.enter_reading(clerk_a, other, Entry(D("140"), read_day(periods["book"])), hold=True)
    client = login(clerk_a)
    page = client.get(reverse("readings:period_detail", args=[periods["book"].pk]))
    assert "wm-confirm-held" in page.content.decode()
    confirm = reverse("readings:reading_confirm", args=[other.pk])
    html = client.post(confirm, {"reason": "装修"}, **ROW).content.decode()
    assert 'data-state="entered"' in html


def test_master_period_shows_loss_rate(login, clerk_a, periods, town):
    book = periods["book"]
    services.enter_reading(clerk_a, row(book, town["meters"][0]), Entry(D("130"), read_day(book)))
    client = login(clerk_a)
    master = row(periods["master"], town["district"])
    html = post_row(client, master, "50", confirm="on", reason="首月").content.decode()
    assert 'data-outcome="saved"' in html and "wm-loss" in html and "40.00 %" in html
    page = client.get(reverse("readings:period_detail", args=[periods["master"].pk]))
    assert "40.00 %" in page.content.decode()


def test_batch_page_query_count_does_not_grow(
    login, clerk_a, admin, periods, town, django_assert_max_num_queries
):
    client = login(clerk_a)
    url = reverse("readings:period_detail", args=[periods["book"].pk])
    client.get(url)
    for n in range(30):
        customer = customer_services.open_customer(
            admin,
            {
                "name": f"客户{n}",
                "address": f"和平路{n}号",
                "book": town["book_a"],
                "category": town["category"],
                "household_size": 2,
            },
            {
                "number": f"Q{n:03d}",
                "installed_on": datetime.date(2026, 1, 1),
                "initial_reading": D("0"),
                "tariff": town["tariff"],
                "caliber": "DN15",
            },
            today=datetime.date(2026, 1, 1),
        )
        services.reading_for(admin, periods["book"], customer.meters.get())
    with django_assert_max_num_queries(15):
        response = client.get(url)
    assert response.content.decode().count('class="wm-row') == 34


# --- single account --------------------------------------------------------------------------


def test_account_entry_page(login, clerk_a, periods, town):
    client = login(clerk_a)
    assert client.get(reverse("readings:account_entry")).status_code == 200
    customer = town["customers"][0]
    response = client.get(reverse("readings:account_entry"), {"account": customer.account_no})
    html = response.content.decode()
    assert response.status_code == 200
    assert "M001" in html and "M001S" in html and "account-period" in html
    assert reverse("customers:meter_replace", args=[town["meters"][0].pk]) in html
    assert "estimate-" in html
    blocks = response.context["blocks"]
    assert [b.row.reading.period_id for b in blocks] == [periods["book"].pk] * 2


def test_account_entry_creates_missing_row_and_says_when_no_period(
    login, clerk_a, admin, periods, town, org
):
    client = login(clerk_a)
    customer = town["customers"][1]
    new = customer_services.add_meter(
        admin,
        customer,
        {"number": "M002X", "installed_on": datetime.date(2026, 1, 1), "tariff": town["tariff"]},
    )
    assert not Reading.objects.filter(meter=new).exists()
    client.get(reverse("readings:account_entry"), {"account": customer.account_no})
    assert Reading.objects.filter(meter=new, period=periods["book"]).exists()
    services.close_period(admin, periods["book"])
    html = client.get(
        reverse("readings:account_entry"), {"account": customer.account_no}
    ).content.decode()
    assert "no-open-period" in html and reverse("readings:period_open") in html


def test_account_correction_of_previous_month_and_closed_refusal(
    login, clerk_a, admin, org, town, month
):
    last = (month - datetime.timedelta(days=1)).replace(day=1)
    services.open_periods(admin, org["zone_a"], last)
    old_period = ReadingPeriod.objects.get(book=town["book_a"], month=last)
    meter = town["meters"][0]
    services.enter_reading(admin, row(old_period, meter), Entry(D("110"), old_period.planned_on))
    services.open_periods(admin, org["zone_a"], month)
    client = login(clerk_a)
    response = client.get(reverse("readings:account_entry"), {"account": meter.customer.account_no})
    block = next(b for b in response.context["blocks"] if b.meter == meter)
    assert block.previous_row.reading.period == old_period
    assert block.reads[0].current == D("110")
    old = block.previous_row.reading
    data = {"read_on": old_period.planned_on.isoformat()}
    html = post_row(client, old, "108", **data).content.decode()
    assert "Say why" in html
    html = post_row(client, old, "108", reason="抄错", **data).content.decode()
    assert 'data-outcome="saved"' in html
    assert row(ReadingPeriod.objects.get(book=town["book_a"], month=month), meter).previous == D(
        "108.00"
    )
    services.close_period(admin, old_period)
    html = post_row(client, old, "107", reason="抄错", **data).content.decode()
    assert "is closed" in html


def test_estimate_split_and_detail(login, clerk_a, periods, town):
    client = login(clerk_a)
    reading = row(periods["book"], town["meters"][0])
    back = reverse("readings:account_entry") + "?account=" + reading.customer.account_no
    response = client.post(
        reverse("readings:reading_estimate", args=[reading.pk]),
        {
            "prefix": f"e{reading.pk}",
            f"e{reading.pk}-method": "given",
            f"e{reading.pk}-volume": "30",
            f"e{reading.pk}-read_on": read_day(reading.period).isoformat(),
            f"e{reading.pk}-status_code": "nobody_home",
            f"e{reading.pk}-reason": "无人在家",
            "next": back,
        },
    )
    assert response.status_code == 302 and response.url == back
    reading.refresh_from_db()
    assert reading.estimated and reading.volume == D("30")
    response = client.post(
        reverse("readings:reading_split", args=[reading.pk]),
        {"volume_1": "10", "note_1": "前", "volume_2": "20", "note_2": "后", "reason": "过户"},
    )
    assert response.status_code == 302
    assert list(
        ReadingSplit.objects.filter(reading=reading, active=True).values_list("volume", flat=True)
    ) == [D("10"), D("20")]
    response = client.post(
        reverse("readings:reading_split", args=[reading.pk]),
        {"volume_1": "10", "volume_2": "10", "reason": "过户"},
        follow=True,
    )
    assert "add up to 30" in response.content.decode()
    html = client.get(reverse("readings:reading_detail", args=[reading.pk])).content.decode()
    assert "enter_reading" in html and "split_reading" in html  # the journal
    assert "wm-entry" in html and "#1" in html


def test_interim_read_of_monitored_meter(login, clerk_a, periods, town):
    meter = town["meters"][0]
    reading = row(periods["book"], meter)
    day = read_day(reading.period)
    services.start_monitoring(clerk_a, meter, day.replace(day=1), "疑似偷水")
    services.enter_reading(clerk_a, reading, Entry(D("105"), day))
    client = login(clerk_a)
    html = client.get(
        reverse("readings:account_entry"), {"account": meter.customer.account_no}
    ).content.decode()
    assert f"interim-{reading.pk}" in html
    response = client.post(
        reverse("readings:reading_interim", args=[reading.pk]),
        {"current": "110", "read_on": day.isoformat(), "status_code": "normal"},
    )
    assert response.status_code == 302
    assert Reading.objects.get(period=periods["book"], meter=meter, sequence=2).volume == D("5")
