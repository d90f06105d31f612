"""Every page and API endpoint needs a permission.

The list of URLs is generated from the URL configuration, so a new page
cannot be forgotten: anonymous visitors are sent to sign in (API: 401/403),
an operator without any role is refused (403) everywhere except the pages
every operator has (home, own password, switch operator).
"""

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

OPEN_TO_EVERY_OPERATOR = {"home", "org:password_change", "org:switch_operator", "logout"}
PUBLIC = {"login", "set_language", "health"}
POST_ONLY = {
    "org:operator_unlock",
    "reading-enter",
    "reading-upload",
    "period-open",
    "period-close",
    "documents:layout_preview",
    "documents:layout_draft_pdf",
    "deposit-correct",
    "deposit-transfer-undo",
}
# Form targets posted from another page: opened directly, they send the operator to that page.
REDIRECT_ON_GET = {
    "billing:run_resume",
    "documents:layout_activate",
    "invoices:invoice_reprint",
    "invoices:invoice_status",
    "payments:payment_print",
    "readings:period_close",
    "readings:reading_confirm",
    "readings:reading_enter",
    "readings:reading_estimate",
    "readings:reading_interim",
    "readings:reading_split",
}
# Pages that exist only for a state the session made (an import's error report): 404 otherwise.
SESSION_STATE = {
    "customers_import:error_report",
    "readings:file_error_report",
    "payments:batch_error_report",
}


def iter_patterns(resolver=None, prefix="", namespace=""):
    resolver = resolver or get_resolver()
    for pattern in resolver.url_patterns:
        if isinstance(pattern, URLResolver):
            ns = namespace
            if pattern.namespace:
                ns = f"{namespace}{pattern.namespace}:"
            yield from iter_patterns(pattern, prefix + str(pattern.pattern), ns)
        elif isinstance(pattern, URLPattern):
            yield (
                prefix + str(pattern.pattern),
                f"{namespace}{pattern.name}" if pattern.name else None,
            )


def concrete(path):
    import re

    path = path.replace("^", "").replace("$", "").replace("\\Z", "")
    path = re.sub(r"\(\?P<\w+>[^)]*\)", "1", path)
    path = re.sub(r"<int:\w+>", "1", path)
    path = re.sub(r"<(?:str:)?\w+>", "late_fee.daily_rate", path)
    path = path.replace("\\.", ".").replace("/?", "/")
    return "/" + path


ALL_URLS = sorted({(concrete(p), n) for p, n in iter_patterns() if "format" not in p})


def test_url_list_is_not_empty():
    names = {n for _p, n in ALL_URLS}
    assert {"home", "org:zone_list", "core:journal", "system:parameter_list"} <= names


@pytest.mark.parametrize("path,name", ALL_URLS)
def test_anonymous_is_refused(org, client, path, name):
    if name in PUBLIC:
        return
    response = client.get(path)
    if path.startswith("/api/"):
        assert response.status_code in (401, 403), path
    else:
        assert response.status_code == 302 and "/login/" in response["Location"], path


@pytest.mark.parametrize("path,name", ALL_URLS)
def test_operator_without_role_is_refused(org, nobody, login, path, name):
    if name in PUBLIC or name in OPEN_TO_EVERY_OPERATOR:
        return
    client = login(nobody)
    get = client.get(path)
    post = client.post(path, {})
    assert get.status_code in (403, 404, 405), (path, get.status_code)
    assert post.status_code in (403, 404, 405), (path, post.status_code)


@pytest.fixture
def tariff_objects(admin):
    """A price item, a category with a minimum, a tariff with a version in force and a future one."""
    import datetime
    from decimal import Decimal

    from django.utils import timezone

    from watermis.tariffs import services

    item = services.create_price_item(admin, {"code": "W", "name": "水费"})
    category = services.create_category(
        admin, {"code": "RES", "name": "居民", "kind": "residential"}
    )
    minimum = services.create_minimum(
        admin, {"category": category, "caliber": "DN15", "monthly_volume": Decimal("2")}
    )
    tariff = services.create_tariff(
        admin, {"code": "RES", "name": "居民水价", "category": category}
    )
    today = timezone.localdate()
    for start in (datetime.date(2024, 1, 1), today + datetime.timedelta(days=30)):
        future = services.create_version(
            admin,
            tariff,
            {"effective_from": start, "prices": [(item, None, Decimal("2.50"))]},
        )
    return {
        "item": item,
        "price": item,
        "category": category,
        "minimum": minimum,
        "tariff": tariff,
        "version": future,
    }


@pytest.fixture
def customer_objects(org, admin, tariff_objects):
    """A reading area and book, a customer with a meter (through the services)."""
    import datetime

    from watermis.customers import services

    area = services.create_area(admin, {"code": "A1", "name": "一片区", "zone": org["zone_a"]})
    book = services.create_book(admin, {"code": "B1", "name": "一册", "area": area})
    customer = services.open_customer(
        admin,
        {
            "name": "张三",
            "address": "东城路1号",
            "book": book,
            "category": tariff_objects["category"],
        },
        {
            "number": "M1",
            "installed_on": datetime.date(2025, 1, 1),
            "tariff": tariff_objects["tariff"],
        },
    )
    surcharge = services.add_customer_surcharge(
        admin,
        customer,
        {
            "item": tariff_objects["item"],
            "kind": "fixed",
            "amount": 2,
            "starts_on": datetime.date(2025, 1, 1),
            "reason": "消防",
        },
    )
    return {
        "area": area,
        "book": book,
        "customer": customer,
        "meter": customer.meters.get(),
        "surcharge": surcharge,
    }


@pytest.fixture
def reading_objects(org, admin, customer_objects):
    """An open reading period with its rows, a master meter and a monitored meter."""
    import datetime

    from django.utils import timezone

    from watermis.customers import services as customer_services
    from watermis.readings import services

    master = customer_services.create_master_meter(
        admin,
        {"number": "Z1", "installed_on": datetime.date(2025, 1, 1), "caliber": "DN100"},
        org["zone_a"],
        kind="district",
    )
    today = timezone.localdate()
    periods = services.open_periods(admin, org["zone_a"], today, today=today)
    period = next(p for p in periods if p.book_id)
    watch = services.start_monitoring(
        admin, customer_objects["meter"], datetime.date(2025, 1, 1), "test"
    )
    return {
        "loss": master,
        "monitored": watch,
        "period": period,
        "reading": period.readings.first(),
    }


@pytest.fixture
def billing_objects(org, admin, customer_objects, reading_objects):
    """A bill of a past month (with a write-off and a red-bill request) and a bill-run preview."""
    import datetime
    from decimal import Decimal

    from billing.factories import make_bill
    from watermis.billing import billrun, corrections, writeoffs

    customer = customer_objects["customer"]
    bill = make_bill(customer, Decimal("50.00"), datetime.date(2025, 6, 1))
    write_off = writeoffs.request_write_off(admin, bill, Decimal("10.00"), "无法联系")
    red = corrections.request_red_bill(admin, bill, "量错", amount=Decimal("5.00"))
    run = billrun.start_run(admin, org["zone_a"], reading_objects["period"].month, dry_run=True)
    return {
        "bill": bill,
        "account": customer,
        "ledger": bill.entry,
        "entry": bill.entry,
        "writeoff": write_off,
        "redbill": red,
        "run": run,
        "shutoff": customer_objects["meter"],
        "restore": customer_objects["meter"],
    }


@pytest.fixture
def document_objects(admin):
    """The built-in document layouts, stored."""
    from watermis.documents.services import ensure_default_layouts

    return {"layout": ensure_default_layouts()[0]}


@pytest.fixture
def invoice_objects(settings, admin, billing_objects):
    """Invoice kinds, a stock, a tax code and an e-invoice of the bill (paid first)."""
    from watermis.billing import ledger
    from watermis.billing.models import EntryKind
    from watermis.invoices import numbering, services
    from watermis.invoices.models import InvoiceKind, ItemTaxCode

    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "django.core.files.storage.InMemoryStorage"},
    }
    bill = billing_objects["bill"]
    ledger.post_entry(
        None,
        bill.customer,
        EntryKind.PAYMENT,
        bill.amount,
        business_date=bill.due_on,
        settle=[bill.entry],
    )
    paper = InvoiceKind.objects.create(code="WP", name="水费发票", document="water_invoice")
    electronic = InvoiceKind.objects.create(
        code="EW", name="电子发票", document="water_invoice", medium="electronic"
    )
    tax_code = ItemTaxCode.objects.create(
        item=bill.lines.get().item, goods_name="*水冰雪*自来水", tax_code="1100301010000000000"
    )
    stock = numbering.issue_stock(
        admin, {"kind": paper, "operator": admin, "code": "A", "first": 1, "last": 10}
    )
    invoice = services.issue_invoice(admin, electronic, [bill])
    return {"invoice": invoice, "stock": stock, "kind": paper, "taxcode": tax_code}


@pytest.fixture
def collection_objects(org, admin):
    """A remittance registration (its page shows even with no line)."""
    from django.utils import timezone

    from watermis.payments.models import Remittance

    remittance = Remittance.objects.create(
        collector=admin,
        zone=org["zone_a"],
        registered_by=admin,
        registered_at=timezone.now(),
        business_date=timezone.localdate(),
        count=0,
        amount=0,
    )
    return {"remittance": remittance}


@pytest.fixture
def bank_objects(org, admin, customer_objects, tariff_objects):
    """A bank (the fixed-width preset) and an open batch of a mandated customer's bill."""
    import datetime
    from decimal import Decimal

    from billing.factories import make_bill
    from watermis.customers import services as customer_services
    from watermis.payments import bank, bank_demo

    icbc = bank.create_bank(admin, bank_demo.BANKS[0])
    mandated = customer_services.open_customer(
        admin,
        {
            "name": "李四",
            "address": "东城路2号",
            "book": customer_objects["book"],
            "category": tariff_objects["category"],
            "payment_method": "bank",
            "bank_name": "中国工商银行江城分行",
            "bank_account": "6222020000000002",
        },
        {
            "number": "M2",
            "installed_on": datetime.date(2025, 1, 1),
            "tariff": tariff_objects["tariff"],
        },
    )
    make_bill(mandated, Decimal("30.00"), datetime.date(2025, 7, 1))
    (batch,) = bank.generate_batches(admin, org["zone_a"], bank=icbc)
    return {"bank": icbc, "batch": batch}


@pytest.fixture
def payment_objects(admin, customer_objects, invoice_objects):
    """A counter payment (with a late fee waived) of a bill of the customer, a waiver limit."""
    import datetime
    from decimal import Decimal

    from django.contrib.auth.models import Group
    from django.utils import timezone

    from billing.factories import make_bill
    from watermis.payments import counter
    from watermis.payments.models import WaiverLimit

    customer = customer_objects["customer"]
    bill = make_bill(customer, Decimal("30.00"), datetime.date(2025, 7, 1))
    due = counter.counter_arrears(customer, timezone.localdate())
    line = next(line for line in due.lines if line.bill.pk == bill.pk)
    payment = counter.take_payment(
        admin,
        counter.Tender(
            customer_id=customer.pk,
            bills=(bill.pk,),
            seen={bill.pk: line.total},
            waiver=Decimal("1.00"),
            waiver_reason="减免",
        ),
    )
    limit = WaiverLimit.objects.create(role=Group.objects.first(), limit=Decimal("10.00"))
    return {"payment": payment, "waiverlimit": limit}


@pytest.fixture
def deposit_objects(admin, customer_objects, payment_objects):
    """A prepaid deposit, and a transfer run whose transfer paid a new bill from it."""
    import datetime
    from decimal import Decimal

    from billing.factories import make_bill
    from watermis.payments import deposits

    customer = customer_objects["customer"]
    deposit = deposits.take_deposit(admin, customer, "50")
    make_bill(customer, Decimal("20.00"), datetime.date(2025, 8, 1))
    run = deposits.run_transfer(deposits.start_transfer(admin).pk)
    return {"deposit": deposit, "transfer": run, "deposittransfer": run.transfers.get()}


# Pages whose first word names another object than their own: the object their pk is of.
OBJECT_OF = {
    "payments:transfer_undo": "deposittransfer",
    "deposit-balance-detail": "customer",
    "deposit-transfer-run-detail": "transfer",
    "deposit-transfer-detail": "deposittransfer",
}


def real_path(path, name, org, admin, tariff_objects=None, customer_objects=None):
    """The path with a primary key that exists (PostgreSQL does not reset sequences)."""
    if "/1/" not in path:
        return path
    from django.contrib.auth.models import Group

    from watermis.core.models import AuditEntry

    if name == "tariffs:version_add":  # /tariffs/tariffs/<tariff>/versions/add/
        return path.replace("/1/", f"/{tariff_objects['tariff'].pk}/")
    key = OBJECT_OF.get(name) or name.split(":")[-1].split("_")[0].split("-")[0]
    pk = {
        "zone": org["zone_a"].pk,
        "unit": org["unit_a"].pk,
        "employee": org["emp_a"].pk,
        "operator": admin.pk,
        "role": Group.objects.first().pk,
        "journal": AuditEntry.objects.first().pk,
        **{key: obj.pk for key, obj in (tariff_objects or {}).items()},
        **{key: obj.pk for key, obj in (customer_objects or {}).items()},
    }[key]
    return path.replace("/1/", f"/{pk}/")


@pytest.mark.parametrize("path,name", ALL_URLS)
def test_administrator_opens_every_page(
    org,
    admin,
    tariff_objects,
    customer_objects,
    reading_objects,
    billing_objects,
    document_objects,
    invoice_objects,
    collection_objects,
    bank_objects,
    payment_objects,
    deposit_objects,
    login,
    path,
    name,
):
    if name in PUBLIC or name == "logout":
        return
    objects = {
        **customer_objects,
        **reading_objects,
        **billing_objects,
        **document_objects,
        **invoice_objects,
        **collection_objects,
        **bank_objects,
        **payment_objects,
        **deposit_objects,
    }
    response = login(admin).get(real_path(path, name, org, admin, tariff_objects, objects))
    expected = (
        405
        if name in POST_ONLY
        else 404
        if name in SESSION_STATE
        else 302
        if name in REDIRECT_ON_GET
        else 200
    )
    assert response.status_code == expected, (path, response.status_code)


def test_roles_page_is_administrator_only(org, manager, admin, login):
    assert login(manager).get("/org/roles/").status_code == 403
    assert login(admin).get("/org/roles/").status_code == 200
