"""Tariff pages (F11.2–F11.5) as the staff use them: lists, forms, versions, comparison, preview."""

import datetime
import io
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from watermis.core.models import AuditEntry
from watermis.tariffs import services
from watermis.tariffs.models import (
    CategoryKind,
    MinimumVolume,
    PriceItem,
    Tariff,
    TariffVersion,
    TierMode,
    WaterCategory,
)

D = Decimal
GO_LIVE = datetime.date(2024, 1, 1)


@pytest.fixture
def beijing(org, admin):
    """Beijing's residential tariff (DOMAIN.md §1.4), in force since 2024-01-01."""
    water = services.create_price_item(admin, {"code": "W", "name": "水费", "sort_order": 1})
    resource = services.create_price_item(admin, {"code": "R", "name": "水资源费", "sort_order": 2})
    sewage = services.create_price_item(
        admin,
        {"code": "S", "name": "污水处理费", "sort_order": 3, "revenue_kind": "agency"},
    )
    category = services.create_category(
        admin, {"code": "RES", "name": "居民生活用水", "kind": CategoryKind.RESIDENTIAL}
    )
    tariff = services.create_tariff(
        admin, {"code": "BJ", "name": "北京居民阶梯水价", "category": category}
    )
    version = services.create_version(
        admin,
        tariff,
        {
            "effective_from": GO_LIVE,
            "tier_mode": TierMode.CYCLIC,
            "tiers": [D("180"), D("260"), None],
            "prices": [
                (water, 1, D("2.07")),
                (water, 2, D("4.07")),
                (water, 3, D("6.07")),
                (resource, None, D("1.57")),
                (sewage, None, D("1.36")),
            ],
        },
    )
    return {
        "water": water,
        "resource": resource,
        "sewage": sewage,
        "category": category,
        "tariff": tariff,
        "version": version,
    }


def future(days=40):
    return timezone.localdate() + datetime.timedelta(days=days)


def version_post(p, water=("2.27", "4.47", "6.67"), **changes):
    """The new-version form as a person fills it in: three cumulative tiers, three items."""
    data = {
        "effective_from": future().isoformat(),
        "note": "江价〔2026〕9号",
        "reason": "水价调整",
        "tier_mode": "cyclic",
        "cycle_start_month": "1",
        "base_household_size": "4",
        "person_step": "0",
        "widen_tiers": "1",
        "tier1_upper": "180",
        "tier2_upper": "260",
        f"price_{p['water'].pk}_1": water[0],
        f"price_{p['water'].pk}_2": water[1],
        f"price_{p['water'].pk}_3": water[2],
        f"price_{p['resource'].pk}_0": "1.57",
        f"price_{p['sewage'].pk}_0": "1.46",
    }
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def test_price_item_category_and_tariff_through_the_pages(org, admin, login):
    client = login(admin)
    response = client.post(
        reverse("tariffs:item_add"),
        {
            "code": "GARBAGE",
            "name": "垃圾处理费",
            "revenue_kind": "agency",
            "collected_for": "城市管理局",
            "tax_treatment": "non_taxable",
            "tax_rate": "0",
            "sort_order": "40",
            "active": "on",
        },
    )
    item = PriceItem.objects.get(code="GARBAGE")
    assert response.status_code == 302 and response["Location"] == item.get_absolute_url()
    page = client.get(item.get_absolute_url()).content.decode()
    assert "垃圾处理费" in page and "城市管理局" in page
    assert AuditEntry.objects.filter(object_type="tariffs.priceitem", action="create").exists()

    client.post(
        reverse("tariffs:category_add"),
        {"code": "NONRES", "name": "非居民用水", "kind": "non_residential", "sort_order": "1"},
    )
    category = WaterCategory.objects.get(code="NONRES")
    response = client.post(
        reverse("tariffs:tariff_add"),
        {"code": "NR", "name": "非居民水价", "category": category.pk, "active": "on"},
    )
    tariff = Tariff.objects.get(code="NR")
    assert response["Location"] == tariff.get_absolute_url()
    detail = client.get(tariff.get_absolute_url()).content.decode()
    assert "非居民水价" in detail and "new-version" in detail
    assert "非居民水价" in client.get(category.get_absolute_url()).content.decode()

    duplicate = client.post(
        reverse("tariffs:tariff_add"), {"code": "NR", "name": "非居民水价", "category": category.pk}
    )
    assert duplicate.status_code == 200 and "code" in duplicate.context["form"].errors
    client.post(
        reverse("tariffs:tariff_edit", args=[tariff.pk]),
        {"code": "NR", "name": "非居民用水水价", "category": category.pk, "active": "on"},
    )
    tariff.refresh_from_db()
    assert tariff.name == "非居民用水水价"


def test_lists_filter_and_render_empty(org, admin, login):
    client = login(admin)
    for name in ("item_list", "category_list", "tariff_list", "minimum_list", "preview"):
        assert client.get(reverse(f"tariffs:{name}")).status_code == 200, name


def test_minimum_volumes_by_caliber(beijing, admin, login):
    client = login(admin)
    category = beijing["category"]
    form = client.get(reverse("tariffs:minimum_add"), {"category": category.pk})
    assert form.context["form"].initial["category"] == str(category.pk)
    for caliber, volume in (("DN15", "2"), ("DN20", "3")):
        response = client.post(
            reverse("tariffs:minimum_add"),
            {"category": category.pk, "caliber": caliber, "monthly_volume": volume},
        )
        assert response["Location"] == reverse("tariffs:minimum_list")
    dn20 = MinimumVolume.objects.get(caliber="DN20")
    client.post(
        reverse("tariffs:minimum_edit", args=[dn20.pk]),
        {"category": category.pk, "caliber": "DN20", "monthly_volume": "4"},
    )
    dn20.refresh_from_db()
    assert dn20.monthly_volume == D("4")
    listed = client.get(reverse("tariffs:minimum_list"), {"caliber": "DN20"})
    assert [r.record.caliber for r in listed.context["table"].page.object_list] == ["DN20"]
    detail = client.get(category.get_absolute_url()).content.decode()
    assert "category-minimums" in detail and "DN15" in detail and "北京居民阶梯水价" in detail


def test_tariff_detail_shows_the_price_table(beijing, admin, login):
    page = login(admin).get(beijing["tariff"].get_absolute_url())
    assert page.context["selected"] == beijing["version"]
    html = page.content.decode()
    assert "table-success" in html  # the version in force
    for text in ("0–180", "180–260", "&gt; 260", "2.07", "4.07", "6.07", "1.57", "1.36"):
        assert text in html, text
    # the all-in price per tier, as the price notice publishes it: 5 / 7 / 9
    assert page.context["table"]["totals"] == [D("5.00"), D("7.00"), D("9.00")]


def test_add_a_version_through_the_page(beijing, admin, login):
    client = login(admin)
    url = reverse("tariffs:version_add", args=[beijing["tariff"].pk])
    form = client.get(url).context["form"]
    # prefilled from the latest version
    assert form.initial["tier1_upper"] == "180" and form.initial["tier2_upper"] == "260"
    assert form.initial[f"price_{beijing['water'].pk}_2"] == "4.07"
    assert form.initial[f"price_{beijing['resource'].pk}_0"] == "1.57"

    response = client.post(url, version_post(beijing))
    assert response.status_code == 302, response.context["form"].errors
    version = TariffVersion.objects.get(tariff=beijing["tariff"], effective_from=future())
    assert version.created_by == admin and version.note == "江价〔2026〕9号"
    assert [t.upper for t in version.tiers.order_by("number")] == [D("180"), D("260"), None]
    assert version.prices.get(item=beijing["water"], tier=3).unit_price == D("6.67")
    entry = AuditEntry.objects.get(object_type="tariffs.tariffversion", object_id=str(version.pk))
    assert entry.reason == "水价调整"

    detail = client.get(response["Location"])
    assert detail.context["selected"] == version
    html = detail.content.decode()
    assert f"version-{version.pk}" in html and "6.67" in html and "1.46" in html
    assert detail.context["current"] == beijing["version"]  # still the old one today
    version_page = client.get(version.get_absolute_url()).content.decode()
    assert "6.67" in version_page and "水价调整" in version_page


def test_bad_tiers_and_prices_show_beside_the_fields(beijing, admin, login):
    client = login(admin)
    url = reverse("tariffs:version_add", args=[beijing["tariff"].pk])
    versions, entries = TariffVersion.objects.count(), AuditEntry.objects.count()

    decreasing = client.post(url, version_post(beijing, tier1_upper="260", tier2_upper="180"))
    form = decreasing.context["form"]
    assert decreasing.status_code == 200
    assert "tiers" in form.errors and form.section_errors["tiers"]
    html = decreasing.content.decode()
    assert "wm-section-error" in html
    assert 'name="tier1_upper" value="260"' in html  # what was typed stays
    assert "is-invalid" in str(form["tier1_upper"])

    five_places = client.post(url, version_post(beijing, water=("2.27001", "4.47", "6.67")))
    field = f"price_{beijing['water'].pk}_1"
    assert five_places.status_code == 200 and field in five_places.context["form"].errors
    assert "is-invalid" in str(five_places.context["form"][field])

    both = client.post(
        url,
        version_post(
            beijing, tier1_upper="260", tier2_upper="180", water=("2.27001", "4.47", "6.67")
        ),
    )
    assert {"tiers", field} <= set(both.context["form"].errors)  # one round, every mistake

    missing_tier_price = client.post(url, version_post(beijing, water=("2.27", "4.47", None)))
    assert "prices" in missing_tier_price.context["form"].errors

    in_the_past = client.post(url, version_post(beijing, effective_from="2023-01-01"))
    assert "effective_from" in in_the_past.context["form"].errors

    assert TariffVersion.objects.count() == versions
    assert AuditEntry.objects.count() == entries


def test_surcharges_and_quota_brackets(beijing, admin, login):
    client = login(admin)
    url = reverse("tariffs:version_add", args=[beijing["tariff"].pk])
    garbage = services.create_price_item(admin, {"code": "G", "name": "垃圾费", "sort_order": 5})
    quota = services.create_price_item(admin, {"code": "Q", "name": "超计划加价", "sort_order": 6})
    data = version_post(
        beijing,
        quota_base_item=beijing["water"].pk,
        quota_surcharge_item=quota.pk,
        bracket1_upper="20",
        bracket1_multiple="1",
        bracket2_multiple="2",
        surcharge1_item=garbage.pk,
        surcharge1_kind="per_m3",
        surcharge1_amount="0.59",
    )
    incomplete = client.post(url, {**data, "surcharge2_item": garbage.pk})
    assert {"surcharge2_kind", "surcharge2_amount"} <= set(incomplete.context["form"].errors)
    response = client.post(url, data)
    assert response.status_code == 302, response.context["form"].errors
    version = TariffVersion.objects.get(effective_from=future())
    assert [(b.upper_percent, b.multiple) for b in version.quota_brackets.order_by("number")] == [
        (D("20"), D("1")),
        (None, D("2")),
    ]
    html = client.get(version.get_absolute_url()).content.decode()
    assert "bracket-table" in html and "surcharge-table" in html and "0.59" in html


def test_edit_refused_for_a_version_in_force(beijing, admin, login):
    client = login(admin)
    in_force = beijing["version"]
    url = reverse("tariffs:version_edit", args=[in_force.pk])
    refused = client.get(url, follow=True)
    assert refused.redirect_chain[-1][0] == in_force.get_absolute_url()
    assert "in force already" in refused.content.decode() or "已经生效" in refused.content.decode()
    posted = client.post(url, version_post(beijing, effective_from=future().isoformat()))
    assert posted.status_code == 302
    assert in_force.prices.get(item=beijing["water"], tier=1).unit_price == D("2.07")

    # a version not yet in force can be changed
    client.post(reverse("tariffs:version_add", args=[beijing["tariff"].pk]), version_post(beijing))
    scheduled = TariffVersion.objects.get(effective_from=future())
    url = reverse("tariffs:version_edit", args=[scheduled.pk])
    assert client.get(url).context["form"].initial[f"price_{beijing['water'].pk}_1"] == "2.27"
    response = client.post(url, version_post(beijing, water=("2.37", "4.47", "6.67")))
    assert response.status_code == 302
    assert scheduled.prices.get(item=beijing["water"], tier=1).unit_price == D("2.37")
    page = client.get(scheduled.get_absolute_url()).content.decode()
    assert "2.27 → 2.37" in page  # the journal, price by price


def test_compare_versions_highlights_a_changed_price(beijing, admin, login):
    client = login(admin)
    client.post(reverse("tariffs:version_add", args=[beijing["tariff"].pk]), version_post(beijing))
    new = TariffVersion.objects.get(effective_from=future())
    page = client.get(
        reverse("tariffs:tariff_compare", args=[beijing["tariff"].pk]),
        {"a": beijing["version"].pk, "b": new.pk},
    )
    rows = [row for _title, rows in page.context["sections"] for row in rows]
    water = [row[1:] for row in rows if row[0].startswith("水费")]
    resource = [row[1:] for row in rows if row[0].startswith("水资源费")]
    assert water[0] == ("2.07", "2.27", True) and water[1] == ("4.07", "4.47", True)
    assert resource == [("1.57", "1.57", False)]
    assert "wm-differs" in page.content.decode()
    # without choices: the version in force against the one before it (or the next)
    default = client.get(reverse("tariffs:tariff_compare", args=[beijing["tariff"].pk]))
    assert {default.context["a"], default.context["b"]} == {beijing["version"], new}


def preview(client, tariff, **changes):
    params = {
        "tariff": tariff.pk,
        "volume": "24",
        "cycle_to_date": "172",
        "household_size": "3",
        "period_start": "2026-02-28",
        "period_end": "2026-04-30",
    }
    params.update(changes)
    return client.get(reverse("tariffs:preview"), params)


def test_preview_reproduces_the_beijing_example(beijing, cashier_a, login):
    page = preview(login(cashier_a), beijing["tariff"])
    assert page.status_code == 200
    bill = page.context["bill"]
    lines = [
        (group["name"], line["volume"], line["unit_price"], line["amount"])
        for group in bill["groups"]
        for line in group["lines"]
    ]
    assert lines == [
        ("水费", D("8"), D("2.07"), D("16.56")),
        ("水费", D("16"), D("4.07"), D("65.12")),
        ("水资源费", D("24"), D("1.57"), D("37.68")),
        ("污水处理费", D("24"), D("1.36"), D("32.64")),
    ]
    assert bill["groups"][0]["amount"] == D("81.68")  # the water fee's subtotal
    assert bill["result"].total == D("152.00")
    assert bill["result"].cycle_to_date == D("196")
    html = page.content.decode()
    assert "152.00" in html and "81.68" in html and "180–260" in html and "196" in html


def test_preview_errors_are_form_errors(beijing, cashier_a, login):
    client = login(cashier_a)
    three_places = preview(client, beijing["tariff"], volume="1.234")
    assert three_places.status_code == 200 and "volume" in three_places.context["form"].errors
    before_first_version = preview(
        client, beijing["tariff"], period_start="2023-01-31", period_end="2023-02-28"
    )
    assert before_first_version.status_code == 200
    assert before_first_version.context["form"].non_field_errors()
    assert before_first_version.context["bill"] is None
    backwards = preview(
        client, beijing["tariff"], period_start="2026-04-30", period_end="2026-03-31"
    )
    assert "period_end" in backwards.context["form"].errors
    blank = client.get(reverse("tariffs:preview"))
    start, end = (
        blank.context["form"].initial["period_start"],
        blank.context["form"].initial["period_end"],
    )
    assert end == timezone.localdate().replace(day=1) - datetime.timedelta(days=1)
    assert start == end.replace(day=1) - datetime.timedelta(days=1)


def test_preview_applies_the_minimum_and_low_income(beijing, admin, cashier_a, login):
    services.create_minimum(
        admin, {"category": beijing["category"], "caliber": "DN20", "monthly_volume": D("15")}
    )
    client = login(cashier_a)
    raised = preview(client, beijing["tariff"], volume="10", caliber="DN20", cycle_to_date="0")
    # two months: a minimum of 30 m³
    assert raised.context["bill"]["result"].billed_volume == D("30")
    low_income = preview(client, beijing["tariff"], low_income="on")
    water = low_income.context["bill"]["groups"][0]["lines"]
    assert [(line["volume"], line["unit_price"]) for line in water] == [(D("24"), D("2.07"))]


def test_cashier_previews_but_cannot_add_a_version(beijing, cashier_a, login):
    client = login(cashier_a)
    assert client.get(reverse("tariffs:preview")).status_code == 200
    assert client.get(beijing["tariff"].get_absolute_url()).status_code == 200
    url = reverse("tariffs:version_add", args=[beijing["tariff"].pk])
    assert client.get(url).status_code == 403
    assert client.post(url, version_post(beijing)).status_code == 403
    assert "new-version" not in client.get(beijing["tariff"].get_absolute_url()).content.decode()
    assert TariffVersion.objects.count() == 1


def test_tariff_list_shows_versions_and_exports(beijing, admin, login):
    client = login(admin)
    client.post(reverse("tariffs:version_add", args=[beijing["tariff"].pk]), version_post(beijing))
    page = client.get(reverse("tariffs:tariff_list"))
    record = page.context["table"].page.object_list[0].record
    assert record.current_from == GO_LIVE and record.next_from == future()
    response = client.get(reverse("tariffs:tariff_list"), {"export": "xlsx"})
    assert response.status_code == 200
    ws = load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    rows = list(ws.iter_rows(values_only=True))
    assert len(rows) == 2
    assert "北京居民阶梯水价" in rows[1] and "居民生活用水" in rows[1]
    assert GO_LIVE in [v.date() if isinstance(v, datetime.datetime) else v for v in rows[1]]


def test_api_lists_tariffs_with_their_versions(beijing, manager, login):
    client = login(manager)
    data = client.get("/api/tariffs/").json()
    tariff = data["results"][0]
    assert tariff["code"] == "BJ" and tariff["category"] == "RES"
    version = tariff["versions"][0]
    assert version["effective_from"] == "2024-01-01" and version["tier_mode"] == "cyclic"
    assert [t["upper"] for t in version["tiers"]] == ["180.00", "260.00", None]
    assert {"item": "W", "tier": 2, "unit_price": "4.0700"} in version["prices"]
    assert client.get("/api/price-items/").json()["count"] == 3
    assert client.get("/api/categories/").json()["results"][0]["code"] == "RES"
    assert client.post("/api/tariffs/", {}).status_code in (403, 405)


def test_tariff_list_queries_do_not_grow_with_rows(beijing, admin, login):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = login(admin)
    client.get(reverse("tariffs:tariff_list"))  # warm the caches
    with CaptureQueriesContext(connection) as one:
        client.get(reverse("tariffs:tariff_list"))
    for n in range(5):
        services.create_tariff(
            admin, {"code": f"T{n}", "name": f"水价{n}", "category": beijing["category"]}
        )
    with CaptureQueriesContext(connection) as six:
        page = client.get(reverse("tariffs:tariff_list"))
    assert len(page.context["table"].page.object_list) == 6
    assert len(six) == len(one)
