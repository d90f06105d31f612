"""The data of meter cards and notices: read from customers, meters, readings and bills,
shaped as the catalogue says, in walking order, inside the operator's zones."""

import datetime
from decimal import Decimal

import pytest

from billing.factories import make_bill
from watermis.billing import ledger
from watermis.billing.latefees import arrears
from watermis.billing.models import EntryKind
from watermis.customers.models import Customer, CustomerStatus
from watermis.documents import catalogue as cat
from watermis.documents.models import DocumentKind
from watermis.documents.services import render_pdf
from watermis.documents.sources import (
    arrears_notice_contexts,
    meter_card_contexts,
    notice_customers,
    payment_notice_contexts,
)

from .conftest import TODAY, page_count, page_texts

D = Decimal
SEP, OCT = datetime.date(2026, 9, 1), datetime.date(2026, 10, 1)


def shape(value, prefix=()):
    """Every path of a context (lists looked into through all their rows)."""
    if isinstance(value, dict):
        for key, child in value.items():
            yield (*prefix, key)
            yield from shape(child, (*prefix, key))
    elif isinstance(value, list):
        for row in value:
            yield from shape(row, prefix)


def assert_catalogue_shape(kind, context):
    known = {path for path, _node in cat.walk(cat.catalogue(kind))}
    found = set(shape(context))
    top_level = {path for path in known if len(path) == 1}
    assert found <= known, found - known
    assert top_level <= found


def test_meter_cards_of_a_book_in_walking_order(town, readings, org):
    cards = list(meter_card_contexts([town["book_a"]], on=TODAY, printed_by="王丽"))
    names = [(c["customer"]["name"], c["meter"]["number"]) for c in cards]
    assert names == [("王五", "M003"), ("李四", "M002"), ("张三丰", "M001"), ("张三丰", "M001B")]
    card = cards[2]
    assert_catalogue_shape(DocumentKind.METER_CARD, card)
    assert card["company"]["name"] == "测试水务公司"
    assert card["book"] == {
        "code": "DA01",
        "name": "东一册",
        "area": "东一片",
        "zone": "东城区",
        "reader": "张伟",
        "reader_phone": "",
        "collector": "",
        "cycle": "Monthly",
        "reading_day": 20,
    }
    assert card["customer"]["address"] == "解放路1号"
    assert card["meter"]["caliber"] == "DN15" and card["meter"]["location"] == "楼道水表箱"
    assert [r["month"] for r in card["readings"]] == readings
    assert [r["volume"] for r in card["readings"]] == [D(10), D(12), D(15)]
    assert [r["current"] for r in card["readings"]] == [D(110), D(122), D(137)]
    assert card["last"]["current"] == D(137) and card["last"]["month"] == OCT
    assert card["average_volume"] == D("12.3")
    assert card["printed_by"] == "王丽" and card["printed_on"] == TODAY


def test_cards_leave_out_closed_accounts_and_removed_meters(town, readings):
    Customer.objects.filter(pk=town["customers"][1].pk).update(status=CustomerStatus.CLOSED)
    town["second_meter"].status = "removed"
    town["second_meter"].save()
    cards = list(meter_card_contexts([town["book_a"]], on=TODAY))
    assert [c["meter"]["number"] for c in cards] == ["M003", "M001"]


def test_cards_keep_to_the_operator_zones(town, readings, reader_a):
    mine = Customer.objects.restrict(reader_a)
    books = [town["book_b"], town["book_a"]]
    assert len(list(meter_card_contexts(books, customers=mine, on=TODAY))) == 4
    cards = list(meter_card_contexts(books, on=TODAY))
    assert [c["book"]["code"] for c in cards] == ["XB01"] + ["DA01"] * 4


def test_a_card_without_readings(town):
    (card, *_rest) = meter_card_contexts([town["book_b"]], on=TODAY)
    assert card["readings"] == [] and card["last"]["current"] is None
    assert card["average_volume"] is None
    pdf = render_pdf(DocumentKind.METER_CARD, [card])
    assert "赵六" in page_texts(pdf)[0]


def test_meter_cards_print(town, readings):
    pdf = render_pdf(DocumentKind.METER_CARD, meter_card_contexts([town["book_a"]], on=TODAY))
    assert page_count(pdf) == 4
    first = page_texts(pdf)[0]
    assert "王五" in first and "M003" in first and "2026-10" in first


@pytest.fixture
def bills(town, admin):
    """张三丰: a September bill (due 2026-10-28, paid 20 of 50) and an October one (due
    2026-11-27); 李四: the October one only; 王五 nothing."""
    zhang, li, _wang, _zhao = town["customers"]
    sep = make_bill(zhang, "50.00", SEP)
    oct_ = make_bill(zhang, "60.00", OCT)
    ledger.post_entry(
        admin, zhang, EntryKind.PAYMENT, D("20.00"), business_date=OCT, settle=[sep.entry]
    )
    li_oct = make_bill(li, "45.50", OCT)
    return {"sep": sep, "oct": oct_, "li_oct": li_oct}


def test_payment_notices(town, bills):
    customers = list(notice_customers(books=[town["book_a"]]))
    notices = list(payment_notice_contexts(customers, TODAY, TODAY + datetime.timedelta(days=10)))
    assert [n["customer"]["name"] for n in notices] == ["李四", "张三丰"]
    zhang = notices[1]
    assert_catalogue_shape(DocumentKind.PAYMENT_NOTICE, zhang)
    assert zhang["month"] == OCT
    assert [(b["month"], b["amount"], b["open"]) for b in zhang["bills"]] == [
        (OCT, D("60.00"), D("60.00"))
    ]
    assert zhang["reading"]["meter_number"] == "M001"
    assert [(ln["item"], ln["amount"]) for ln in zhang["lines"]] == [("水费", D("60.00"))]
    (older,) = zhang["arrears"]
    assert (older["month"], older["amount"], older["open"]) == (SEP, D("50.00"), D("30.00"))
    due = arrears(town["customers"][0].pk, TODAY)
    assert older["late_fee"] == due.lines[0].fee.amount > 0
    totals = zhang["totals"]
    assert totals["current"] == D("60.00") and totals["arrears"] == D("30.00")
    assert totals["late_fee"] == due.late_fee
    assert totals["total"] == D("90.00") + due.late_fee == due.total


def test_arrears_notices_only_for_overdue_bills(town, bills):
    customers = list(notice_customers(books=[town["book_a"]]))
    notices = list(arrears_notice_contexts(customers, TODAY, TODAY + datetime.timedelta(days=7)))
    assert [n["customer"]["name"] for n in notices] == ["张三丰"]
    notice = notices[0]
    assert_catalogue_shape(DocumentKind.ARREARS_NOTICE, notice)
    (row,) = notice["bills"]
    assert (row["month"], row["open"], row["due_on"]) == (SEP, D("30.00"), bills["sep"].due_on)
    assert row["days_overdue"] == (TODAY - bills["sep"].due_on).days
    assert row["total"] == row["open"] + row["late_fee"]
    assert notice["totals"]["months"] == 1 and notice["totals"]["oldest_month"] == SEP
    assert notice["totals"]["total"] == D("30.00") + row["late_fee"]


def test_notice_of_one_customer_and_nothing_to_say(town, bills):
    wang = town["customers"][2]
    assert list(payment_notice_contexts(notice_customers(customer=wang), TODAY, TODAY)) == []
    zhang = town["customers"][0]
    (notice,) = payment_notice_contexts(notice_customers(customer=zhang), TODAY, TODAY)
    assert notice["customer"]["account_no"] == zhang.account_no


def test_notices_print(town, bills):
    customers = notice_customers(books=[town["book_a"]])
    pdf = render_pdf(
        DocumentKind.PAYMENT_NOTICE,
        payment_notice_contexts(customers, TODAY, TODAY + datetime.timedelta(days=10)),
    )
    assert page_count(pdf) == 2
    second = page_texts(pdf)[1]
    assert "张三丰" in second and "60.00" in second and "缴 费 通 知 单" in second
    customers = notice_customers(books=[town["book_a"]])
    pdf = render_pdf(DocumentKind.ARREARS_NOTICE, arrears_notice_contexts(customers, TODAY, TODAY))
    assert page_count(pdf) == 1 and "30.00" in page_texts(pdf)[0]
