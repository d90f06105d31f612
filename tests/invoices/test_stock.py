"""Invoice stock (F11.10): ranges issued to operators, no overlap, spoiled forms, returns."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from watermis.core.models import AuditEntry
from watermis.invoices import numbering
from watermis.invoices.models import InvoiceStock, NumberUse, NumberUseKind, StockState

from .conftest import give_stock


def test_stock_is_issued_and_journaled(manager, cashier, kinds):
    stock = give_stock(manager, cashier, kinds["water"], 1, 100)
    assert stock.next == 1 and stock.remaining == 100 and stock.state == StockState.ISSUED
    assert stock.zone_id == cashier.unit.zone_id and stock.issued_by == manager
    assert stock.format(7) == "00000007"
    assert AuditEntry.objects.filter(object_type="invoices.invoicestock", object_id=str(stock.pk))


def test_overlapping_ranges_of_a_kind_and_code_are_refused(manager, cashier, cashier2, kinds):
    give_stock(manager, cashier, kinds["water"], 1, 100)
    with pytest.raises(ValidationError, match="overlap") as caught:
        give_stock(manager, cashier2, kinds["water"], 100, 150)
    assert "first" in caught.value.message_dict
    with pytest.raises(ValidationError, match="overlap"):
        give_stock(manager, cashier2, kinds["water"], 1, 1)
    give_stock(manager, cashier2, kinds["water"], 101, 150)  # right after: fine
    give_stock(manager, cashier2, kinds["water"], 1, 100, code="B2026")  # another code
    give_stock(manager, cashier2, kinds["agency"], 1, 100)  # another kind


def test_stock_input_rules(manager, cashier, kinds):
    with pytest.raises(ValidationError) as caught:
        give_stock(manager, cashier, kinds["water"], 50, 10)
    assert "last" in caught.value.message_dict
    with pytest.raises(ValidationError, match="at most 8 digits"):
        give_stock(manager, cashier, kinds["water"], 1, 123456789)
    with pytest.raises(ValidationError, match="whole number"):
        give_stock(manager, cashier, kinds["water"], "x", 10)
    with pytest.raises(ValidationError, match="need no stock"):
        give_stock(manager, cashier, kinds["einvoice"], 1, 10)


def test_only_supervisors_issue_stock(cashier, cashier2, kinds):
    with pytest.raises(PermissionDenied):
        give_stock(cashier, cashier2, kinds["water"], 1, 10)


def test_supervisor_out_of_scope_is_refused(org, clerk_a, cashier, kinds):
    from tests.conftest import make_operator

    from watermis.org.roles import CASHIER, MANAGER

    zone_b_manager = make_operator(org, "manager_b", MANAGER, unit_key="unit_b")
    with pytest.raises(PermissionDenied):
        give_stock(zone_b_manager, cashier, kinds["water"], 1, 10)
    own = make_operator(org, "cashier_b", CASHIER, unit_key="unit_b")
    give_stock(zone_b_manager, own, kinds["water"], 1, 10)


def test_spoiled_form_uses_its_number_with_a_reason(manager, cashier, cashier2, kinds):
    stock = give_stock(manager, cashier, kinds["water"], 1, 3)
    with pytest.raises(ValidationError, match="what happened"):
        numbering.spoil_number(cashier, stock, " ")
    with pytest.raises(PermissionDenied, match="holding a stock"):
        numbering.spoil_number(cashier2, stock, "卡纸")
    use = numbering.spoil_number(cashier, stock, "打印机卡纸")
    assert use.use == NumberUseKind.SPOILED and use.number == "00000001"
    assert numbering.take_number(cashier, kinds["water"])[1] == 2
    stock.refresh_from_db()
    assert stock.next == 3  # the number taken outside a transaction is the caller's to record
    NumberUse.objects.create(
        stock=stock,
        sequence=2,
        number="00000002",
        use=NumberUseKind.SPOILED,
        reason="test",
        operator=cashier,
        at=use.at,
    )
    numbering.spoil_number(cashier, stock, "打错")
    stock.refresh_from_db()
    assert stock.state == StockState.EXHAUSTED and stock.remaining == 0
    assert numbering.stock_problems(stock) == []
    with pytest.raises(ValidationError, match="no number is left"):
        numbering.spoil_number(cashier, stock, "卡纸")
    with pytest.raises(ValidationError, match="no numbers of"):
        numbering.take_number(cashier, kinds["water"])


def test_gaps_are_found(manager, cashier, kinds):
    stock = give_stock(manager, cashier, kinds["water"], 1, 10)
    InvoiceStock.objects.filter(pk=stock.pk).update(next=3)  # taken, never recorded
    stock.refresh_from_db()
    problems = numbering.stock_problems(stock)
    assert problems and "00000001" in problems[0] and "00000002" in problems[0]


def test_returned_stock_keeps_used_numbers_and_frees_the_rest(manager, cashier, cashier2, kinds):
    stock = give_stock(manager, cashier, kinds["water"], 1, 100)
    numbering.spoil_number(cashier, stock, "卡纸")
    with pytest.raises(ValidationError, match="why"):
        numbering.return_stock(manager, stock, "")
    with pytest.raises(PermissionDenied):
        numbering.return_stock(cashier, stock, "调岗")
    numbering.return_stock(manager, stock, "调岗")
    stock.refresh_from_db()
    assert stock.state == StockState.RETURNED and stock.remaining == 0 and stock.held_until == 1
    with pytest.raises(ValidationError, match="only a stock in use"):
        numbering.return_stock(manager, stock, "again")
    with pytest.raises(ValidationError, match="overlap"):
        give_stock(manager, cashier2, kinds["water"], 1, 50)
    again = give_stock(manager, cashier2, kinds["water"], 2, 100)
    assert again.first == 2
    with pytest.raises(ValidationError, match="no numbers"):
        numbering.take_number(cashier, kinds["water"])


def test_number_uses_are_append_only(manager, cashier, kinds):
    from django.db import transaction

    stock = give_stock(manager, cashier, kinds["water"], 1, 10)
    use = numbering.spoil_number(cashier, stock, "卡纸")
    with pytest.raises(Exception, match="append-only"), transaction.atomic():
        NumberUse.objects.filter(pk=use.pk).update(reason="x")
    with pytest.raises(Exception, match="append-only"), transaction.atomic():
        NumberUse.objects.filter(pk=use.pk).delete()
