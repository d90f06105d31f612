# ruff: noqa: F811 (the invoices fixtures are imported by name, then requested as arguments)
"""Walking collection (F3.2–F3.5): remittances of paid invoices and manual tickets, returned
invoices, transfers to inspection, collector statistics; pages and permissions."""

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from tests.conftest import make_operator
from tests.invoices.conftest import (  # noqa: F401 (fixtures)
    DAY,
    MONTHS,
    items,
    kinds,
    make_bill,
    pay,
    town,
)

from watermis.billing.bills import open_bills, with_status
from watermis.billing.models import Bill, BillStatus, LedgerEntry
from watermis.core.models import AuditEntry
from watermis.invoices import numbering
from watermis.invoices import services as invoice_services
from watermis.invoices.models import InvoiceState
from watermis.org.models import Employee
from watermis.org.roles import CASHIER, CLERK, COLLECTOR
from watermis.payments import collection
from watermis.payments.models import InspectionTransfer, Remittance

D = Decimal
NOW = datetime.datetime(2026, 11, 24, 16, 0, tzinfo=datetime.UTC)
PRINTED = datetime.datetime(2026, 11, 24, 1, 0, tzinfo=datetime.UTC)  # the morning of DAY


@pytest.fixture
def collector(org):
    walker = Employee.objects.create(
        code="E9", name="走收甲", unit=org["unit_a"], is_collector=True
    )
    return make_operator(org, "walker", COLLECTOR, employee=walker)


@pytest.fixture
def clerk(org):
    return make_operator(org, "clerk_c", CLERK)


@pytest.fixture
def walked(manager, collector, kinds, town):
    """The collector printed walking-collection invoices for the book: 李四 (one bill)
    and 张三丰 (two bills), in walking order."""
    numbering.issue_stock(
        manager,
        {"kind": kinds["water"], "operator": collector, "code": "Z", "first": 1, "last": 20},
    )
    zhang, li, _wang, _zhao = town["customers"]
    make_bill(zhang, MONTHS[0], "10", items=town)
    make_bill(zhang, MONTHS[1], "11", items=town)
    make_bill(li, MONTHS[1], "7", items=town)
    issued = invoice_services.issue_collection_invoices(
        collector, kinds["water"], [town["book"]], now=PRINTED
    )
    return issued.invoices


def status_of(invoice):
    return {b.status for b in with_status(Bill.objects.filter(invoice_rows__invoice=invoice))}


def test_outstanding_in_walking_order(collector, walked):
    rows = collection.outstanding(collector)
    # a water invoice names the water part; the collector collects the whole bills
    assert [(i.customer.name, a) for i, a in rows] == [
        ("李四", sum(b.amount for b in Bill.objects.filter(customer__name="李四"))),
        ("张三丰", sum(b.amount for b in Bill.objects.filter(customer__name="张三丰"))),
    ]


def test_remittance_pays_the_invoices_bills(clerk, collector, walked):
    li_invoice, zhang_invoice = walked
    remittance = collection.register_remittance(
        clerk, collector, invoice_ids=[zhang_invoice.pk], business_date=DAY, note="第一次回款"
    )
    owed = sum(b.amount for b in Bill.objects.filter(invoice_rows__invoice=zhang_invoice))
    assert remittance.count == 1 and remittance.amount == owed > zhang_invoice.amount
    assert status_of(zhang_invoice) == {BillStatus.PAID}
    assert status_of(li_invoice) == {BillStatus.UNPAID}
    line = remittance.lines.get()
    assert (
        line.entry.channel == "collector"
        and line.entry.external_key == f"invoice:{zhang_invoice.pk}"
    )
    assert line.entry.posted_by == clerk and line.entry.unit == collector.unit
    assert AuditEntry.objects.filter(object_type="payments.remittance").count() == 1
    assert [i for i, _a in collection.outstanding(collector)] == [li_invoice]
    # the same invoice again: refused, nothing written
    with pytest.raises(ValidationError, match="paid elsewhere"):
        collection.register_remittance(
            clerk, collector, invoice_ids=[zhang_invoice.pk], business_date=DAY
        )
    assert Remittance.objects.count() == 1


def test_remittance_refuses_an_invoice_paid_elsewhere_since(clerk, collector, walked):
    li_invoice = walked[0]
    pay(Bill.objects.get(invoice_rows__invoice=li_invoice))  # paid at the counter meanwhile
    with pytest.raises(ValidationError, match="paid elsewhere"):
        collection.register_remittance(
            clerk, collector, invoice_ids=[li_invoice.pk], business_date=DAY
        )


def test_remittance_rules(clerk, collector, walked, org, cashier_a):
    with pytest.raises(ValidationError, match="future"):
        collection.register_remittance(
            clerk,
            collector,
            invoice_ids=[walked[0].pk],
            business_date=DAY + datetime.timedelta(days=400),
        )
    with pytest.raises(ValidationError, match="at least one"):
        collection.register_remittance(clerk, collector, business_date=DAY)
    with pytest.raises(PermissionDenied):
        collection.register_remittance(
            cashier_a, collector, invoice_ids=[walked[0].pk], business_date=DAY
        )
    not_a_collector = make_operator(org, "someone", CASHIER)
    with pytest.raises(ValidationError, match="not a collector"):
        collection.register_remittance(
            clerk, not_a_collector, invoice_ids=[walked[0].pk], business_date=DAY
        )
    assert not LedgerEntry.objects.filter(channel="collector").exists()


def test_manual_ticket_pays_oldest_first(clerk, collector, walked, town):
    zhang = town["customers"][0]
    bills = list(open_bills(zhang.pk))
    ticket = collection.ManualTicket(zhang, "SG0001", bills[0].amount)
    remittance = collection.register_remittance(
        clerk, collector, tickets=[ticket], business_date=DAY
    )
    assert remittance.lines.get().ticket == "SG0001"
    assert [
        b.status for b in with_status(Bill.objects.filter(customer=zhang)).order_by("month")
    ] == [
        BillStatus.PAID,
        BillStatus.UNPAID,
    ]
    with pytest.raises(ValidationError, match="registered before"):
        collection.register_remittance(clerk, collector, tickets=[ticket], business_date=DAY)
    too_much = collection.ManualTicket(zhang, "SG0002", D("9999.00"))
    with pytest.raises(ValidationError, match="owes"):
        collection.register_remittance(clerk, collector, tickets=[too_much], business_date=DAY)


def test_returned_invoices_are_voided_and_invoiceable_again(clerk, collector, walked, kinds, town):
    li_invoice = walked[0]
    collection.register_returned(clerk, collector, [li_invoice.pk], "用户不在家")
    li_invoice.refresh_from_db()
    assert li_invoice.state == InvoiceState.VOID and li_invoice.voided_by == clerk
    assert li_invoice.void_reason == "用户不在家"
    assert [i for i, _a in collection.outstanding(collector)] == [walked[1]]
    with pytest.raises(ValidationError, match="void already"):
        collection.register_returned(clerk, collector, [li_invoice.pk], "again")
    with pytest.raises(ValidationError, match="Say why"):
        collection.register_returned(clerk, collector, [walked[1].pk], " ")
    # the bill can be invoiced again
    again = invoice_services.issue_collection_invoices(collector, kinds["water"], [town["book"]])
    assert [i.customer.name for i in again.invoices] == ["李四"]


def test_transfer_to_inspection(clerk, collector, walked):
    zhang_invoice = walked[1]
    transfers = collection.register_inspection(
        clerk, collector, [zhang_invoice.pk], "多次催缴未果", now=PRINTED
    )
    assert len(transfers) == 2
    assert status_of(zhang_invoice) == {BillStatus.INSPECTION}
    zhang_invoice.refresh_from_db()
    assert zhang_invoice.state == InvoiceState.VOID
    assert InspectionTransfer.objects.filter(collector=collector).count() == 2
    assert [i for i, _a in collection.outstanding(collector)] == [walked[0]]
    stats = collection.collector_statistics([collector], DAY, DAY)[0]
    assert stats["transferred"] == 2 and stats["outstanding"] == 1


def test_statistics(clerk, collector, walked):
    collection.register_remittance(
        clerk, collector, invoice_ids=[walked[0].pk], business_date=DAY, now=NOW
    )
    day = walked[0].business_date
    row = collection.collector_statistics([collector], day, DAY)[0]
    assert row["issued"] == 2
    assert row["issued_amount"] == walked[0].amount + walked[1].amount
    owed = [sum(b.amount for b in Bill.objects.filter(invoice_rows__invoice=i)) for i in walked]
    assert (row["paid"], row["paid_amount"]) == (1, owed[0])
    assert (row["outstanding"], row["outstanding_amount"]) == (1, owed[1])


# --- pages ---------------------------------------------------------------------------------


def test_register_page(clerk, collector, walked, login):
    client = login(clerk)
    url = reverse("payments:collection") + f"?collector={collector.pk}"
    page = client.get(url).content.decode()
    assert walked[0].display_number in page and walked[1].display_number in page
    response = client.post(
        url, {"invoice": [walked[0].pk], "action": "paid", "business_date": DAY.isoformat()}
    )
    remittance = Remittance.objects.get()
    assert response.status_code == 302 and response["Location"] == remittance.get_absolute_url()
    detail = client.get(remittance.get_absolute_url()).content.decode()
    assert walked[0].display_number in detail
    refused = client.post(url, {"invoice": [walked[1].pk], "action": "returned", "reason": ""})
    assert "Say why" in refused.content.decode()
    listed = client.get(reverse("payments:remittance_list")).content.decode()
    assert str(remittance.amount) in listed
    stats = client.get(reverse("payments:collector_statistics"))
    assert stats.status_code == 200 and collector.name in stats.content.decode()
    xlsx = client.get(reverse("payments:collector_statistics") + "?export=xlsx")
    assert xlsx["Content-Type"].startswith("application/vnd.openxmlformats")


def test_ticket_page(clerk, collector, walked, town, login):
    client = login(clerk)
    zhang = town["customers"][0]
    response = client.post(
        reverse("payments:collection_ticket"),
        {
            "collector": collector.pk,
            "account_no": zhang.account_no,
            "ticket": "SG9",
            "amount": "5.00",
            "business_date": DAY.isoformat(),
        },
    )
    assert response.status_code == 302
    wrong = client.post(
        reverse("payments:collection_ticket"),
        {
            "collector": collector.pk,
            "account_no": "NOPE",
            "ticket": "SG10",
            "amount": "5.00",
            "business_date": DAY.isoformat(),
        },
    )
    assert "No customer with account number NOPE" in wrong.content.decode()


def test_pages_need_the_permission(cashier_a, login):
    client = login(cashier_a)
    for name in ("collection", "collection_ticket", "remittance_list", "collector_statistics"):
        assert client.get(reverse(f"payments:{name}")).status_code == 403, name
