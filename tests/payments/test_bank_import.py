"""Importing the bank's result file: paid lines posted once, failed lines released, bad files
refused whole; cancelling a batch."""

import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from watermis.billing import ledger
from watermis.billing.bills import with_status
from watermis.billing.models import Bill, BillStatus, EntryKind, LedgerEntry
from watermis.core.models import AuditEntry
from watermis.payments import bank
from watermis.payments.bank import BankFileRefused
from watermis.payments.bank_queries import bills_at_bank
from watermis.payments.models import BankBatchLine, BankResult, BatchState, LineState

from .bank_fixtures import *  # noqa: F403
from .bank_fixtures import NOW, TODAY, D

ALL_PAID_BUT_LI = {1: ("0000", ""), 2: ("0000", ""), 3: ("3001", "余额不足"), 4: ("0000", "")}


def status(bill):
    return with_status(Bill.objects.filter(pk=bill.pk)).get().status


@pytest.fixture
def icbc_batch(bank_town, banks, bills, generate):
    (batch,) = generate(bank=banks["icbc"])
    return batch


def test_paid_lines_post_to_the_ledger_and_failed_lines_release_their_bills(
    admin, bank_town, banks, bills, icbc_batch
):
    data = bank.result_file(banks["icbc"], icbc_batch, ALL_PAID_BUT_LI)
    outcome = bank.import_result(admin, icbc_batch, data, "ICBC-result.txt", now=NOW)
    result = outcome.result
    assert (result.rows, result.paid, result.failed, result.repeated) == (4, 3, 1, 0)
    assert (result.paid_amount, result.failed_amount) == (D("89.04"), D("28.00"))
    assert result.imported_by == admin and result.business_date == TODAY
    assert outcome.posted_in_bulk == 3 and outcome.posted_singly == []
    for key in ("zhang_aug", "zhang_sep", "qian_oct"):
        assert status(bills[key]) == BillStatus.PAID, key
    assert status(bills["li_sep"]) == BillStatus.UNPAID
    assert bills_at_bank([b.pk for b in bills.values()]) == set()  # 李四 back at the counter
    lines = {line.seq: line for line in icbc_batch.lines.all()}
    assert [lines[s].state for s in (1, 2, 3, 4)] == ["paid", "paid", "failed", "paid"]
    assert lines[3].result_code == "3001" and lines[3].result_message == "余额不足"
    assert lines[3].entry_id is None and lines[1].result_id == result.pk
    payment = LedgerEntry.objects.get(pk=lines[1].entry_id)
    assert payment.kind == EntryKind.PAYMENT and payment.channel == "bank"
    assert payment.amount == D("35.50") and payment.business_date == TODAY
    assert payment.reason == "Bank deduction, batch ICBC20261124001"
    assert payment.external_key == "ICBC20261124001/1"  # posted in bulk, keyed as singly
    assert payment.allocations_out.get().debit_id == bills["zhang_aug"].entry_id
    assert LedgerEntry.objects.get(pk=lines[4].entry_id).external_key == "ICBC20261124001/4"
    assert ledger.balance_of(bank_town["zhang"].pk) == D("0.00")
    assert ledger.balance_of(bank_town["li"].pk) == D("-28.00")
    icbc_batch.refresh_from_db()
    assert icbc_batch.state == BatchState.DONE
    assert (icbc_batch.paid_count, icbc_batch.paid_amount) == (3, D("89.04"))
    assert (icbc_batch.failed_count, icbc_batch.failed_amount) == (1, D("28.00"))
    journal = AuditEntry.objects.get(object_id=str(icbc_batch.pk), verb="import_bank_result")
    assert journal.actor == admin and "ICBC-result.txt" in journal.reason
    assert "3 paid 89.04, 1 failed 28.00" in journal.reason


def test_the_same_file_twice_posts_nothing_the_second_time(admin, banks, bills, icbc_batch):
    data = bank.result_file(banks["icbc"], icbc_batch, ALL_PAID_BUT_LI)
    bank.import_result(admin, icbc_batch, data, "r.txt", now=NOW)
    entries = LedgerEntry.objects.count()
    again = bank.import_result(admin, icbc_batch, data, "r.txt", now=NOW)
    assert again.nothing_new and again.result.repeated == 4
    assert (again.result.paid, again.result.failed) == (0, 0)
    assert LedgerEntry.objects.count() == entries
    assert BankResult.objects.filter(batch=icbc_batch).count() == 2


def test_a_success_file_then_a_failure_file(admin, banks, bills, icbc_batch):
    success = bank.result_file(
        banks["icbc"], icbc_batch, {1: ("0000", ""), 2: ("0000", ""), 4: ("0000", "")}
    )
    bank.import_result(admin, icbc_batch, success, "success.txt", now=NOW)
    icbc_batch.refresh_from_db()
    assert icbc_batch.state == BatchState.PARTLY and icbc_batch.open_count == 1
    assert bills_at_bank([bills["li_sep"].pk]) == {bills["li_sep"].pk}
    with pytest.raises(ValidationError, match="result has been imported"):
        bank.cancel_batch(admin, icbc_batch, "太晚了")
    failure = bank.result_file(banks["icbc"], icbc_batch, {3: ("3002", "账户冻结")})
    bank.import_result(admin, icbc_batch, failure, "failure.txt", now=NOW)
    icbc_batch.refresh_from_db()
    assert icbc_batch.state == BatchState.DONE and icbc_batch.open_count == 0
    assert bills_at_bank([bills["li_sep"].pk]) == set()


def test_a_file_contradicting_an_earlier_import_is_refused(admin, banks, bills, icbc_batch):
    bank.import_result(
        admin,
        icbc_batch,
        bank.result_file(banks["icbc"], icbc_batch, ALL_PAID_BUT_LI),
        "a",
        now=NOW,
    )
    flipped = bank.result_file(banks["icbc"], icbc_batch, {1: ("3001", "余额不足")})
    with pytest.raises(BankFileRefused) as caught:
        bank.import_result(admin, icbc_batch, flipped, "b", now=NOW)
    assert [(e.line, e.field, e.message) for e in caught.value.errors] == [
        (2, "result", "Imported before as Paid; this file says Failed.")
    ]


def test_a_malformed_file_is_refused_whole_with_every_line_numbered(
    admin, banks, bills, icbc_batch
):
    good = bank.result_file(banks["icbc"], icbc_batch, ALL_PAID_BUT_LI).split(b"\r\n")
    lines = [
        b"HJCWATER01 000007000000011704",  # 1: counts 7 records, the file has 6
        good[1],  # 2: fine
        good[2][:-3],  # 3: too short
        good[2],  # 4: fine (seq 2)
        good[4].replace(b"0000001234", b"0000001235"),  # 5: amount differs
        good[1],  # 6: repeats seq 1
        b"",  # 7: blank, skipped
        good[3].replace(b"000003", b"000009"),  # 8: no line 9
    ]
    data = b"\r\n".join(lines) + b"\r\n"
    with pytest.raises(BankFileRefused) as caught:
        bank.import_result(admin, icbc_batch, data, "bad.txt", now=NOW)
    assert [(e.line, e.field, e.message) for e in caught.value.errors] == [
        (1, "count", "The totals record counts 7 records; the file has 6."),
        (3, "", "The record has 71 bytes; the layout has 74."),
        (5, "amount_fen", "The bank says 12.35; the batch sent 12.34."),
        (6, "seq", "Repeats line 2 of this file."),
        (8, "seq", "Batch ICBC20261124001 has no line 9."),
    ]
    # nothing written
    assert not BankResult.objects.exists()
    assert set(BankBatchLine.objects.values_list("state", flat=True)) == {LineState.SENT}
    assert not LedgerEntry.objects.filter(kind=EntryKind.PAYMENT).exists()


def test_digits_accounts_result_codes_and_totals_are_checked(admin, banks, bills, icbc_batch):
    good = bank.result_file(
        banks["icbc"], icbc_batch, {1: ("0000", ""), 2: ("0000", ""), 3: ("0000", "")}
    )
    header, one, two, three = good.split(b"\r\n")[:4]
    data = b"\r\n".join(
        [
            header,
            one[:14] + b"6222020000000009    " + one[34:],
            two[:50] + b"    " + two[54:],
            three[:40] + b"00000028x0" + three[50:],
        ]
    )
    with pytest.raises(BankFileRefused) as caught:
        bank.import_result(admin, icbc_batch, data, "bad.txt", now=NOW)
    assert [(e.line, e.field, e.message) for e in caught.value.errors] == [
        (2, "bank_account", "The batch sent account 6222020000000001."),
        (3, "result", "The bank's result code is missing."),
        (4, "amount_fen", "Digits only."),
    ]
    # every record read: the totals record's amount is checked too
    wrong_total = b"\r\n".join([header.replace(b"10470", b"10471"), one, two, three])
    with pytest.raises(BankFileRefused) as caught:
        bank.import_result(admin, icbc_batch, wrong_total, "bad.txt", now=NOW)
    assert [(e.line, e.field, e.message) for e in caught.value.errors] == [
        (1, "amount_fen", "The totals record says 104.71; the records add up to 104.70."),
    ]


def test_a_delimited_result_file(admin, bank_town, banks, bills, generate):
    (ccb,) = generate(bank=banks["ccb"])
    data = "CCB20261124001|1|66.60|00|成功\n".encode()
    outcome = bank.import_result(admin, ccb, data, "ccb.csv", now=NOW)
    assert outcome.result.paid == 1 and status(bills["zhao_sep"]) == BillStatus.PAID
    wrong = b"CCB20261124009|1|66.60|00|\nCCB20261124001|1|66.60\n"
    with pytest.raises(BankFileRefused) as caught:
        bank.import_result(admin, ccb, wrong, "ccb.csv", now=NOW)
    assert [(e.line, e.field) for e in caught.value.errors] == [(1, "batch"), (2, "")]
    assert caught.value.errors[1].message == "The record has 3 fields; the layout has 5."


def test_a_bill_paid_another_way_meanwhile_still_takes_the_banks_money(
    admin, bank_town, banks, bills, icbc_batch
):
    """The bank deducted: the money is posted even if the bill is no longer open as sent
    (here a payment settled part of it): once, by its own key, the rest as credit."""
    zhang = bank_town["zhang"]
    ledger.post_entry(None, zhang, EntryKind.PAYMENT, D("50.00"), business_date=TODAY)
    # the payment settled the August bill (35.50) and 14.50 of September's
    data = bank.result_file(banks["icbc"], icbc_batch, ALL_PAID_BUT_LI)
    outcome = bank.import_result(admin, icbc_batch, data, "r.txt", now=NOW)
    assert outcome.posted_in_bulk == 1 and outcome.posted_singly == [1, 2]
    singly = LedgerEntry.objects.get(external_key="ICBC20261124001/1")
    assert singly.channel == "bank" and singly.posted_by == admin
    assert ledger.balance_of(zhang.pk) == D("50.00")  # the payment is credit again
    assert status(bills["zhang_sep"]) == BillStatus.PAID
    again = bank.import_result(admin, icbc_batch, data, "r.txt", now=NOW)
    assert again.nothing_new and ledger.balance_of(zhang.pk) == D("50.00")


def test_importing_needs_the_permission_and_the_zone(
    admin, banks, bills, icbc_batch, clerk_a, clerk_b, cashier_a
):
    data = bank.result_file(banks["icbc"], icbc_batch, ALL_PAID_BUT_LI)
    for operator in (clerk_b, cashier_a):
        with pytest.raises(PermissionDenied):
            bank.import_result(operator, icbc_batch, data, "r.txt", now=NOW)
    with pytest.raises(ValidationError) as caught:
        bank.import_result(
            clerk_a,
            icbc_batch,
            data,
            "r.txt",
            business_date=TODAY + datetime.timedelta(days=1),
            now=NOW,
        )
    assert "business_date" in caught.value.error_dict
    assert bank.import_result(clerk_a, icbc_batch, data, "r.txt", now=NOW).result.paid == 3


def test_cancelling_releases_every_bill_and_is_journaled(
    admin, bank_town, banks, bills, icbc_batch, clerk_a
):
    with pytest.raises(ValidationError) as caught:
        bank.cancel_batch(clerk_a, icbc_batch, "  ")
    assert "reason" in caught.value.error_dict
    assert bank.cancel_batch(clerk_a, icbc_batch, "银行系统升级，下月再扣") == 4
    icbc_batch.refresh_from_db()
    assert icbc_batch.state == BatchState.CANCELLED and icbc_batch.cancelled_by == clerk_a
    assert icbc_batch.cancel_reason == "银行系统升级，下月再扣" and icbc_batch.open_count == 0
    assert set(icbc_batch.lines.values_list("state", flat=True)) == {LineState.RELEASED}
    assert bills_at_bank([b.pk for b in bills.values()]) == set()
    journal = AuditEntry.objects.get(object_id=str(icbc_batch.pk), verb="cancel_bank_batch")
    assert journal.reason == "银行系统升级，下月再扣" and journal.actor == clerk_a
    assert journal.before["state"] == "open" and journal.after["state"] == "cancelled"
    data = bank.result_file(banks["icbc"], icbc_batch, ALL_PAID_BUT_LI)
    with pytest.raises(ValidationError, match="cancelled"):
        bank.import_result(admin, icbc_batch, data, "r.txt", now=NOW)
    with pytest.raises(ValidationError, match="cancelled"):
        bank.export_file(admin, icbc_batch)
    with pytest.raises(ValidationError, match="cancelled already"):
        bank.cancel_batch(admin, icbc_batch, "again")
    # the bills can go into a new batch
    (again,) = bank.generate_batches(
        admin, bank_town["zone_a"], bank=banks["icbc"], today=TODAY, now=NOW
    )
    assert again.line_count == 4 and again.number == "ICBC20261124002"


def test_cancelling_needs_the_permission(banks, bills, icbc_batch, cashier_a, clerk_b):
    for operator in (cashier_a, clerk_b):
        with pytest.raises(PermissionDenied):
            bank.cancel_batch(operator, icbc_batch, "no")
    assert icbc_batch.lines.filter(state=LineState.SENT).count() == 4


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_imports_of_one_file_at_once_post_it_once(org, admin, bank_town, banks, bills):
    """The batch row lock: the second import waits, then finds every line answered."""
    import threading

    from django.db import connection
    from django.utils import translation

    (batch,) = bank.generate_batches(
        admin, bank_town["zone_a"], bank=banks["icbc"], today=TODAY, now=NOW
    )
    data = bank.result_file(banks["icbc"], batch, ALL_PAID_BUT_LI)
    outcomes, failures = [], []
    barrier = threading.Barrier(2)

    def run():
        try:
            with translation.override("en"):
                barrier.wait()
                outcomes.append(bank.import_result(admin, batch, data, "r.txt", now=NOW))
        except Exception as exc:  # noqa: BLE001 - reported below
            failures.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    assert sorted(o.result.paid for o in outcomes) == [0, 3]
    assert LedgerEntry.objects.filter(kind=EntryKind.PAYMENT, channel="bank").count() == 3
