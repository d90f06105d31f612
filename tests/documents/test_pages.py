"""The pages: layouts (list, detail, edit with live preview), printing meter cards and
notices; permissions and zones."""

import datetime
from decimal import Decimal

import pytest
from django.urls import reverse

from billing.factories import make_bill
from watermis.core.models import AuditEntry
from watermis.documents import services
from watermis.documents.defaults import default_layouts
from watermis.documents.forms import element_initial
from watermis.documents.models import DocumentKind, DocumentLayout

from .conftest import page_count, page_texts

D = Decimal


@pytest.fixture
def layouts(db):
    return {layout.kind: layout for layout in services.ensure_default_layouts()}


def form_data(values, elements, **changes):
    """The edit page's POST: page settings and one row of fields per element."""
    data = {
        name: "" if value is None else str(value).lower() if isinstance(value, bool) else value
        for name, value in values.items()
        if name != "elements"
    }
    for name, value in values.items():
        if isinstance(value, bool):
            if value:
                data[name] = "on"
            else:
                data.pop(name, None)
    data.update({"el-TOTAL_FORMS": len(elements), "el-INITIAL_FORMS": len(elements)})
    for index, element in enumerate(elements):
        for key, value in element_initial(element).items():
            if isinstance(value, bool):
                if value:
                    data[f"el-{index}-{key}"] = "on"
            elif value is not None:
                data[f"el-{index}-{key}"] = str(value)
    data.update(changes)
    return data


def meter_card_post(**changes):
    values, elements = default_layouts()[DocumentKind.METER_CARD]
    return form_data(
        {**values, "kind": DocumentKind.METER_CARD, "name": "新抄表卡"}, elements, **changes
    )


def test_layout_list_and_detail(admin, login, layouts):
    client = login(admin)
    response = client.get(reverse("documents:layout_list"))
    assert response.status_code == 200
    # built-in layouts are named in the company's language (data, not page text)
    assert layouts[DocumentKind.METER_CARD].name in response.content.decode()
    assert "148 × 105 mm" in layouts[DocumentKind.METER_CARD].name
    layout = layouts[DocumentKind.WATER_INVOICE]
    page = client.get(layout.get_absolute_url()).content.decode()
    assert "241 × 93 mm" in page and reverse("documents:layout_png", args=[layout.pk]) in page
    png = client.get(reverse("documents:layout_png", args=[layout.pk]))
    assert png["Content-Type"] == "image/png" and png.content.startswith(b"\x89PNG")
    pdf = client.get(reverse("documents:layout_pdf", args=[layout.pk]))
    assert pdf["Content-Type"] == "application/pdf"
    assert "张三丰" in page_texts(pdf.content)[0]


def test_list_says_which_documents_print_with_the_built_in_layout(admin, login):
    page = login(admin).get(reverse("documents:layout_list")).content.decode()
    assert 'id="builtin-kinds"' in page and "Water invoice" in page


def test_new_layout_starts_from_the_chosen_kind(admin, login):
    client = login(admin)
    chooser = client.get(reverse("documents:layout_add")).content.decode()
    assert "?kind=meter_card" in chooser
    page = client.get(reverse("documents:layout_add") + "?kind=meter_card").content.decode()
    count = len(default_layouts()[DocumentKind.METER_CARD][1])
    assert f'name="el-TOTAL_FORMS" value="{count}"' in page
    assert "customer.account_no" in page  # the field catalogue is listed
    assert 'hx-post="/documents/layouts/preview/"' in page


def test_create_a_layout_from_the_form(admin, login):
    client = login(admin)
    response = client.post(reverse("documents:layout_add"), meter_card_post(active="on"))
    assert response.status_code == 302, response.content.decode()[:3000]
    layout = DocumentLayout.objects.get(name="新抄表卡")
    assert layout.active and layout.elements == default_layouts()[DocumentKind.METER_CARD][1]
    assert AuditEntry.objects.filter(
        object_type="documents.documentlayout", object_id=str(layout.pk), action="create"
    ).exists()


def test_a_bad_element_is_refused_beside_its_row(admin, login, layouts):
    client = login(admin)
    layout = layouts[DocumentKind.METER_CARD]
    data = form_data(
        {**{n: getattr(layout, n) for n in services.LAYOUT_FIELDS}},
        layout.elements,
    )
    assert layout.elements[1]["type"] == layout.elements[4]["type"] == "text"
    data["el-4-template"] = "{{ customer.nme }}"
    data["el-1-x"] = "140"
    response = client.post(reverse("documents:layout_edit", args=[layout.pk]), data)
    assert response.status_code == 200
    page = response.content.decode()
    assert "Element 5 (text): line 1: unknown field &quot;customer.nme&quot;" in page
    assert "Element 2 (text): is out of the paper" in page
    layout.refresh_from_db()
    assert layout.elements == default_layouts()[DocumentKind.METER_CARD][1]


def test_remove_and_add_elements(admin, login, layouts):
    client = login(admin)
    layout = layouts[DocumentKind.DEPOSIT_VOUCHER]
    data = form_data({n: getattr(layout, n) for n in services.LAYOUT_FIELDS}, layout.elements)
    count = len(layout.elements)
    data["el-0-DELETE"] = "on"
    data.update(
        {
            "el-TOTAL_FORMS": count + 1,
            f"el-{count}-type": "text",
            f"el-{count}-x": "10",
            f"el-{count}-y": "90",
            f"el-{count}-w": "60",
            f"el-{count}-h": "5",
            f"el-{count}-size": "9",
            f"el-{count}-align": "L",
            f"el-{count}-template": "补打：{{ voucher.number }}",
        }
    )
    response = client.post(reverse("documents:layout_edit", args=[layout.pk]), data)
    assert response.status_code == 302, response.content.decode()[-3000:]
    layout.refresh_from_db()
    assert len(layout.elements) == count
    assert layout.elements[-1]["template"] == "补打：{{ voucher.number }}"
    entry = AuditEntry.objects.filter(object_id=str(layout.pk), action="update").get()
    assert entry.before["elements"] != entry.after["elements"]


def test_live_preview(admin, login):
    client = login(admin)
    data = meter_card_post(preview_kind="meter_card")
    response = client.post(reverse("documents:layout_preview"), data)
    assert response.status_code == 200
    assert 'src="data:image/png;base64,' in response.content.decode()
    data["el-1-template"] = "{% if %}"
    page = client.post(reverse("documents:layout_preview"), data).content.decode()
    assert 'id="preview-problems"' in page and "template syntax error" in page
    assert "data:image/png" not in page


def test_preview_of_an_existing_layout_posts_without_the_kind(admin, login, layouts):
    layout = layouts[DocumentKind.RECEIPT]
    data = form_data({n: getattr(layout, n) for n in services.LAYOUT_FIELDS}, layout.elements)
    data.pop("kind")  # the kind is shown disabled on the edit page: browsers do not send it
    data["preview_kind"] = "receipt"
    page = login(admin).post(reverse("documents:layout_preview"), data).content.decode()
    assert "data:image/png" in page


def test_download_the_draft_as_pdf(admin, login):
    client = login(admin)
    response = client.post(reverse("documents:layout_draft_pdf"), meter_card_post())
    assert response["Content-Type"] == "application/pdf"
    assert "张三丰" in page_texts(response.content)[0]
    bad = client.post(reverse("documents:layout_draft_pdf"), meter_card_post(**{"el-0-y": "-5"}))
    assert bad.status_code == 400 and "cannot be negative" in bad.content.decode()


def test_activate(admin, login, layouts):
    client = login(admin)
    copy = services.create_layout(
        admin,
        {
            **{n: getattr(layouts["receipt"], n) for n in services.LAYOUT_FIELDS},
            "name": "收据（三联）",
            "active": False,
        },
    )
    assert client.get(reverse("documents:layout_activate", args=[copy.pk])).status_code == 302
    response = client.post(reverse("documents:layout_activate", args=[copy.pk]))
    assert response.status_code == 302
    copy.refresh_from_db()
    layouts["receipt"].refresh_from_db()
    assert copy.active and not layouts["receipt"].active


def test_copy_prefills_the_form(admin, login, layouts):
    layout = layouts[DocumentKind.BANK_SLIP]
    page = login(admin).get(reverse("documents:layout_add") + f"?copy={layout.pk}").content.decode()
    assert "(copy)" in page and f'value="{len(layout.elements)}"' in page


def test_manager_sees_but_does_not_change_layouts(manager, login, layouts):
    client = login(manager)
    layout = layouts[DocumentKind.METER_CARD]
    assert client.get(reverse("documents:layout_list")).status_code == 200
    assert client.get(layout.get_absolute_url()).status_code == 200
    assert client.get(reverse("documents:layout_edit", args=[layout.pk])).status_code == 403
    assert client.get(reverse("documents:layout_add")).status_code == 403
    assert client.post(reverse("documents:layout_preview"), meter_card_post()).status_code == 403
    assert client.post(reverse("documents:layout_activate", args=[layout.pk])).status_code == 403
    page = client.get(layout.get_absolute_url()).content.decode()
    assert 'id="layout-activate"' not in page and "layout-copy" not in page


def test_cashier_prints_notices_but_not_layouts(cashier_a, login, layouts):
    client = login(cashier_a)
    assert client.get(reverse("documents:layout_list")).status_code == 403
    assert client.get(reverse("documents:notices")).status_code == 200
    assert client.get(reverse("documents:meter_cards")).status_code == 403


# --- printing ---------------------------------------------------------------------------------


def test_reader_prints_meter_cards_of_own_zone(town, readings, reader_a, login):
    client = login(reader_a)
    page = client.get(reverse("documents:meter_cards") + f"?book={town['book_a'].pk}")
    html = page.content.decode()
    assert page.status_code == 200 and "DA01" in html and "XB01" not in html
    assert f'<option value="{town["book_a"].pk}" selected>' in html
    refused = client.post(reverse("documents:meter_cards"), {"books": [town["book_b"].pk]})
    assert refused.status_code == 200 and "Select a valid choice" in refused.content.decode()
    response = client.post(reverse("documents:meter_cards"), {"books": [town["book_a"].pk]})
    assert response["Content-Type"] == "application/pdf"
    assert "attachment" in response["Content-Disposition"]
    assert page_count(response.content) == 4
    assert "王五" in page_texts(response.content)[0]


def test_meter_cards_with_a_chosen_layout(town, readings, admin, login, layouts):
    wide = services.create_layout(
        admin,
        {
            **{n: getattr(layouts["meter_card"], n) for n in services.LAYOUT_FIELDS},
            "name": "两张一页",
            "active": False,
            "per_sheet": 2,
        },
    )
    response = login(admin).post(
        reverse("documents:meter_cards"), {"books": [town["book_a"].pk], "layout": wide.pk}
    )
    assert page_count(response.content) == 2


def test_meter_cards_of_an_empty_book(town, admin, login):
    from watermis.customers import services as customer_services

    empty = customer_services.create_book(
        admin, {"code": "DA99", "name": "空册", "area": town["book_a"].area}
    )
    response = login(admin).post(reverse("documents:meter_cards"), {"books": [empty.pk]})
    assert "no open account with a meter in service" in response.content.decode()


@pytest.fixture
def bills(town):
    zhang = town["customers"][0]
    return [
        make_bill(zhang, "50.00", datetime.date(2026, 9, 1)),
        make_bill(zhang, "60.00", datetime.date(2026, 10, 1)),
    ]


def notice_post(**changes):
    data = {"kind": "payment_notice", "on": "2026-11-24", "pay_by": "2026-12-04"}
    data.update(changes)
    return data


def test_notices_of_a_book(town, bills, clerk_a, login):
    client = login(clerk_a)
    response = client.post(reverse("documents:notices"), notice_post(books=[town["book_a"].pk]))
    assert response["Content-Type"] == "application/pdf"
    assert page_count(response.content) == 1 and "张三丰" in page_texts(response.content)[0]
    arrears = client.post(
        reverse("documents:notices"),
        notice_post(kind="arrears_notice", books=[town["book_a"].pk]),
    )
    assert "欠 费 催 缴 通 知 书" in page_texts(arrears.content)[0]


def test_notices_of_a_selection(town, bills, clerk_a, login):
    """Areas stand for their books; the amount and months owed narrow the selection."""
    client = login(clerk_a)
    li = town["customers"][1]
    make_bill(li, "20.00", datetime.date(2026, 10, 1))
    area = town["book_a"].area
    both = client.post(reverse("documents:notices"), notice_post(areas=[area.pk]))
    texts = page_texts(both.content)
    assert page_count(both.content) == 2
    assert "李四" in texts[0] and "张三丰" in texts[1]  # walking order: 李四 before 张三丰
    owing = client.post(
        reverse("documents:notices"), notice_post(areas=[area.pk], min_total="100.00")
    )
    assert page_count(owing.content) == 1 and "张三丰" in page_texts(owing.content)[0]
    months = client.post(
        reverse("documents:notices"),
        notice_post(
            kind="arrears_notice",
            books=[town["book_a"].pk],
            min_months=2,
            on="2026-12-01",
            pay_by="2026-12-10",
        ),
    )
    assert page_count(months.content) == 1 and "张三丰" in page_texts(months.content)[0]
    nobody = client.post(
        reverse("documents:notices"), notice_post(areas=[area.pk], min_total="1000")
    )
    assert "Nobody chosen owes that much" in nobody.content.decode()
    other = client.post(reverse("documents:notices"), notice_post(areas=[town["book_b"].area.pk]))
    assert "Select a valid choice" in other.content.decode()


def test_notice_of_one_customer(town, bills, clerk_a, login):
    client = login(clerk_a)
    zhang = town["customers"][0]
    url = reverse("documents:notices") + f"?customer={zhang.pk}&kind=arrears_notice"
    page = client.get(url).content.decode()
    assert 'id="print-customer"' in page and zhang.account_no in page
    assert 'name="books"' not in page
    response = client.post(url, notice_post(kind="arrears_notice", customer=zhang.pk))
    assert response["Content-Type"] == "application/pdf"
    li = town["customers"][1]
    nothing = client.post(
        reverse("documents:notices") + f"?customer={li.pk}", notice_post(customer=li.pk)
    )
    assert "Nobody chosen has a bill to pay" in nothing.content.decode()


def test_notice_of_a_customer_outside_the_zones(town, bills, clerk_a, login):
    zhao = town["customers"][3]  # zone B
    response = login(clerk_a).get(reverse("documents:notices") + f"?customer={zhao.pk}")
    assert response.status_code == 404


def test_notice_form_rules(town, clerk_a, admin, login, layouts):
    client = login(clerk_a)
    missing = client.post(reverse("documents:notices"), notice_post())
    assert "Choose at least one reading book or area." in missing.content.decode()
    backwards = client.post(
        reverse("documents:notices"),
        notice_post(books=[town["book_a"].pk], pay_by="2026-11-01"),
    )
    assert "cannot be before the as-of date" in backwards.content.decode()
    wrong = client.post(
        reverse("documents:notices"),
        notice_post(books=[town["book_a"].pk], layout=layouts["arrears_notice"].pk),
    )
    assert wrong.status_code == 200 and wrong["Content-Type"].startswith("text/html")


def test_links_from_book_and_customer_pages(town, admin, reader_a, login):
    client = login(admin)
    book_page = client.get(town["book_a"].get_absolute_url()).content.decode()
    assert 'id="book-meter-cards"' in book_page and 'id="book-notices"' in book_page
    customer_page = client.get(town["customers"][0].get_absolute_url()).content.decode()
    assert f"/documents/notices/?customer={town['customers'][0].pk}" in customer_page
    reader_page = login(reader_a).get(town["book_a"].get_absolute_url()).content.decode()
    assert 'id="book-meter-cards"' in reader_page and 'id="book-notices"' not in reader_page


def test_menu_has_the_documents(admin, login, layouts):
    page = login(admin).get(reverse("home")).content.decode()
    for name in ("documents:meter_cards", "documents:notices", "documents:layout_list"):
        assert reverse(name) in page


def test_history_tells_element_changes_in_short(admin, login, layouts):
    layout = layouts[DocumentKind.RECEIPT]
    elements = [dict(e) for e in layout.elements]
    elements[2] = {**elements[2], "x": elements[2]["x"] + 1}
    services.update_layout(admin, layout, {"elements": elements[:-1]})
    page = login(admin).get(layout.get_absolute_url()).content.decode()
    history = page.split('id="layout-history"', 1)[1]
    assert "changed: 3" in history and "1 removed" in history
    assert "{&#x27;type&#x27;" not in history  # not the whole list of elements


def test_layouts_are_listed_in_the_order_of_the_documents(admin, login, layouts):
    page = login(admin).get(reverse("documents:layout_list")).content.decode()
    positions = [page.index(layouts[kind].name) for kind in DocumentKind.values]
    assert positions == sorted(positions)
