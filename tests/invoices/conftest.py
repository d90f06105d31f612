"""A small town for invoicing: price items with their tax treatment, customers with bills of
water and sewage lines, payments through the ledger, kinds, and stock for a cashier."""

import datetime
from decimal import Decimal

import pytest
from tests.conftest import make_operator
from tests.money_fixtures import books_add_up, english, memory_storage  # noqa: F401 - autouse here

from watermis.billing import ledger
from watermis.billing.models import Bill, BillLine, EntryKind
from watermis.customers import services as customer_services
from watermis.invoices import numbering
from watermis.invoices.models import Coverage, InvoiceKind, ItemTaxCode, Medium
from watermis.org.roles import CASHIER, COLLECTOR
from watermis.tariffs import services as tariff_services
from watermis.tariffs.models import CategoryKind, RevenueKind, TaxTreatment

D = Decimal
DAY = datetime.date(2026, 11, 24)
MONTHS = [datetime.date(2026, 8, 1), datetime.date(2026, 9, 1), datetime.date(2026, 10, 1)]


@pytest.fixture
def items(org, admin):
    water = tariff_services.create_price_item(
        admin,
        {
            "code": "W",
            "name": "水费",
            "sort_order": 1,
            "tax_treatment": TaxTreatment.VAT_SIMPLE,
            "tax_rate": D("0.03"),
        },
    )
    sewage = tariff_services.create_price_item(
        admin,
        {
            "code": "S",
            "name": "污水处理费",
            "sort_order": 2,
            "revenue_kind": RevenueKind.AGENCY,
            "collected_for": "排水管理处",
            "tax_treatment": TaxTreatment.NON_TAXABLE,
            "tax_rate": D("0"),
        },
    )
    ItemTaxCode.objects.create(
        item=water, goods_name="*水冰雪*自来水", tax_code="1100301010000000000"
    )
    ItemTaxCode.objects.create(
        item=sewage, goods_name="*政府性基金*污水处理费", tax_code="6130000000000000000"
    )
    return {"water": water, "sewage": sewage}


@pytest.fixture
def town(org, admin, items):
    category = tariff_services.create_category(
        admin, {"code": "RES", "name": "居民", "kind": CategoryKind.RESIDENTIAL}
    )
    tariff = tariff_services.create_tariff(
        admin, {"code": "RES", "name": "居民水价", "category": category}
    )
    area = customer_services.create_area(
        admin, {"code": "A1", "name": "东一片", "zone": org["zone_a"]}
    )
    book = customer_services.create_book(admin, {"code": "DA01", "name": "东一册", "area": area})
    area_b = customer_services.create_area(
        admin, {"code": "B1", "name": "西一片", "zone": org["zone_b"]}
    )
    book_b = customer_services.create_book(
        admin, {"code": "XB01", "name": "西一册", "area": area_b}
    )
    customers = []
    for n, (name, where, order) in enumerate(
        [("张三丰", book, 30), ("李四", book, 10), ("王五", book, 20), ("赵六", book_b, 1)],
        start=1,
    ):
        customers.append(
            customer_services.open_customer(
                admin,
                {
                    "name": name,
                    "address": f"解放路{n}号",
                    "book": where,
                    "category": category,
                    "route_order": order,
                },
                {
                    "number": f"M{n:03d}",
                    "installed_on": datetime.date(2026, 1, 1),
                    "tariff": tariff,
                },
                today=datetime.date(2026, 1, 1),
            )
        )
    second = customer_services.add_meter(
        admin,
        customers[0],
        {"number": "M001B", "installed_on": datetime.date(2026, 1, 1), "tariff": tariff},
    )
    return {
        "book": book,
        "book_b": book_b,
        "tariff": tariff,
        "customers": customers,
        "second_meter": second,
        **items,
    }


def make_bill(customer, month, volume, *, items, meter=None, water_price="3.00", sewage="1.00"):
    """A bill of ``volume`` m³: a water line (own, VAT 3%) and a sewage line (agency)."""
    volume = D(volume)
    lines = [(items["water"], D(water_price))]
    if sewage:
        lines.append((items["sewage"], D(sewage)))
    amounts = [(item, price, (volume * price).quantize(D("0.01"))) for item, price in lines]
    total = sum(a for _i, _p, a in amounts)
    issued_on = month + datetime.timedelta(days=27)
    entry = ledger.post_entry(
        None, customer, EntryKind.BILL, total, business_date=issued_on, period=month
    ).entry
    meter = meter or customer.meters.order_by("pk").first()
    bill = Bill.objects.create(
        customer=customer,
        zone_id=customer.zone_id,
        book_id=customer.book_id,
        meter=meter,
        month=month,
        period_start=month - datetime.timedelta(days=30),
        period_end=month,
        previous=D("100"),
        current=D("100") + volume,
        read_volume=volume,
        volume=volume,
        amount=total,
        issued_on=issued_on,
        due_on=issued_on + datetime.timedelta(days=30),
        entry=entry,
    )
    BillLine.objects.bulk_create(
        [
            BillLine(
                bill=bill,
                item=item,
                volume=volume,
                unit_price=price,
                amount=amount,
                price_from=month,
            )
            for item, price, amount in amounts
        ]
    )
    return bill


def pay(bill, channel="", kind=EntryKind.PAYMENT, day=DAY):
    """Pay the bill in full through the ledger."""
    return ledger.post_entry(
        None,
        bill.customer,
        kind,
        bill.amount,
        business_date=day,
        channel=channel,
        settle=[bill.entry],
    ).entry


@pytest.fixture
def kinds(org, admin):
    return {
        "water": InvoiceKind.objects.create(
            code="WP", name="水费发票", document="water_invoice", coverage=Coverage.OWN
        ),
        "agency": InvoiceKind.objects.create(
            code="AP", name="代收费发票", document="agency_invoice", coverage=Coverage.AGENCY
        ),
        "all": InvoiceKind.objects.create(
            code="WA", name="水费发票（含代收）", document="water_invoice", coverage=Coverage.ALL
        ),
        "receipt": InvoiceKind.objects.create(
            code="RC", name="收据", document="receipt", coverage=Coverage.ALL
        ),
        "einvoice": InvoiceKind.objects.create(
            code="EW",
            name="电子发票（水费）",
            document="water_invoice",
            coverage=Coverage.OWN,
            medium=Medium.ELECTRONIC,
        ),
        "eagency": InvoiceKind.objects.create(
            code="EA",
            name="电子发票（代收）",
            document="agency_invoice",
            coverage=Coverage.AGENCY,
            medium=Medium.ELECTRONIC,
        ),
    }


@pytest.fixture
def cashier(org):
    return make_operator(org, "cashier_x", CASHIER)


@pytest.fixture
def cashier2(org):
    return make_operator(org, "cashier_y", CASHIER)


@pytest.fixture
def collector(org):
    return make_operator(org, "collector_x", COLLECTOR)


def give_stock(manager, operator, kind, first, last, code="A2026"):
    return numbering.issue_stock(
        manager,
        {"kind": kind, "operator": operator, "code": code, "first": first, "last": last},
    )


@pytest.fixture
def stocks(manager, cashier, kinds):
    """The cashier holds 50 numbers of each paper kind."""
    return {
        name: give_stock(manager, cashier, kinds[name], 1001, 1050, code=f"C{name.upper()}")
        for name in ("water", "agency", "all", "receipt")
    }
