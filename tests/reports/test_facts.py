"""The facts take every ledger row exactly once, even rows committed after a refresh that
ran past their ids, and forget ids that were never committed."""

import datetime
import threading

import pytest
from django.db import connections, transaction
from django.utils import timezone

from watermis.billing.models import LedgerEntry
from watermis.reports import checks, facts
from watermis.reports.models import EntryFact, FactSource

from .conftest import MONTHS, make_bill


def last_id(model):
    return model.objects.order_by("-pk").values_list("pk", flat=True).first() or 0


def test_a_refresh_sums_new_rows_once(town, db):
    customer = town["customers"][0]
    make_bill(customer, MONTHS[0], "10", items=town)
    assert facts.refresh() is True
    assert checks.compare() == []
    assert facts.refresh() is False  # nothing new: nothing added twice
    assert checks.compare() == []
    make_bill(customer, MONTHS[1], "12", items=town)
    assert facts.refresh() is True
    assert checks.compare() == []
    assert FactSource.objects.get(name=facts.ENTRY).last_id == last_id(LedgerEntry)


def test_a_refresh_that_finds_its_gaps_still_empty_sums_nothing(town, db, monkeypatch):
    # another transaction is running (as other test workers' are on a shared server):
    # the gaps are kept, read again, and found empty, which is nothing new
    monkeypatch.setattr(facts, "_writers_in_flight", lambda cursor: True)
    customer = town["customers"][0]
    make_bill(customer, MONTHS[0], "10", items=town)
    facts.refresh()
    top = last_id(LedgerEntry)
    FactSource.objects.filter(name=facts.ENTRY).update(
        last_id=top + 50, gaps=[[top + 1, top + 50, timezone.now().isoformat()]]
    )
    assert facts.refresh() is False
    assert FactSource.objects.get(name=facts.ENTRY).gaps != []
    make_bill(customer, MONTHS[1], "12", items=town)  # its entries' ids fall in the gap
    assert top < last_id(LedgerEntry) <= top + 50
    assert facts.refresh() is True
    assert checks.compare() == []


def test_rows_hidden_at_a_refresh_are_summed_by_the_next(town, db):
    customer = town["customers"][0]
    make_bill(customer, MONTHS[0], "10", items=town)
    facts.refresh()
    before = last_id(LedgerEntry)
    make_bill(customer, MONTHS[1], "12", items=town)
    # as if the last refresh had read past the new entry while its transaction was running
    now = timezone.now()
    FactSource.objects.filter(name=facts.ENTRY).update(
        last_id=last_id(LedgerEntry), gaps=[[before + 1, last_id(LedgerEntry), now.isoformat()]]
    )
    assert checks.compare() != []
    facts.refresh()
    assert checks.compare() == []
    assert FactSource.objects.get(name=facts.ENTRY).gaps == []


def test_ids_never_committed_are_forgotten_after_a_day(town, db, monkeypatch):
    monkeypatch.setattr(facts, "_writers_in_flight", lambda cursor: True)
    make_bill(town["customers"][0], MONTHS[0], "10", items=town)
    top = last_id(LedgerEntry)
    now = timezone.now()
    old = (now - datetime.timedelta(hours=facts.GAP_HOURS + 1)).isoformat()
    FactSource.objects.update_or_create(
        name=facts.ENTRY,
        defaults={
            "last_id": top,
            "gaps": [
                [top, top, now.isoformat()],  # exists: filled
                [top + 50, top + 52, old],  # empty for more than a day: rolled back
                [top + 60, top + 60, now.isoformat()],  # empty, recent: kept
            ],
        },
    )
    facts.refresh(now=now)
    gaps = FactSource.objects.get(name=facts.ENTRY).gaps
    assert gaps == [[top + 60, top + 60, now.isoformat()]]


def test_rebuild_gives_the_same_facts(town, db):
    customer = town["customers"][1]
    for month in MONTHS:
        make_bill(customer, month, "9", items=town)
    facts.refresh()
    first = sorted(EntryFact.objects.values_list("period", "kind", "amount", "bills"))
    facts.rebuild()
    assert sorted(EntryFact.objects.values_list("period", "kind", "amount", "bills")) == first
    assert checks.compare() == []


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_transaction_committing_after_a_refresh_is_summed(town):
    """PostgreSQL: entry n is written by a transaction still open when entry n + 1 commits
    and the facts are refreshed; once it commits, the next refresh sums it."""
    first, second = town["customers"][:2]
    facts.refresh()
    written, release = threading.Event(), threading.Event()
    errors, slow = [], []

    def slow_bill():
        try:
            with transaction.atomic():
                slow.append(make_bill(first, MONTHS[0], "10", items=town).entry_id)
                written.set()
                release.wait(20)
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
            written.set()
        finally:
            connections.close_all()

    thread = threading.Thread(target=slow_bill)
    thread.start()
    assert written.wait(20)
    make_bill(second, MONTHS[0], "20", items=town)
    facts.refresh()
    assert in_gaps(slow[0])  # not visible yet: waited for
    release.set()
    thread.join()
    assert errors == []
    facts.refresh()
    assert checks.compare() == []
    assert not in_gaps(slow[0])


def in_gaps(entry_id):
    gaps = FactSource.objects.get(name=facts.ENTRY).gaps
    return any(lo <= entry_id <= hi for lo, hi, _seen in gaps)


def test_commands_refresh_and_check(town, db, capsys):
    from django.core.management import call_command
    from django.core.management.base import CommandError

    make_bill(town["customers"][0], MONTHS[0], "10", items=town)
    call_command("refresh_facts")
    call_command("check_facts")
    assert "facts agree with the ledger" in capsys.readouterr().out
    EntryFact.objects.update(amount=1)  # a fact gone wrong is found, and rebuilt
    with pytest.raises(CommandError):
        call_command("check_facts")
    call_command("refresh_facts", "--rebuild")
    call_command("check_facts")


def test_no_gap_is_kept_when_no_other_writer_was_running(town, db, monkeypatch):
    """Ids below the last one seen can only come from a transaction running at the refresh:
    with none, the holes (rolled-back ids, imported data) are not waited for."""
    make_bill(town["customers"][0], MONTHS[0], "10", items=town)
    top = last_id(LedgerEntry)
    now = timezone.now().isoformat()
    FactSource.objects.update_or_create(
        name=facts.ENTRY, defaults={"last_id": top, "gaps": [[top + 60, top + 60, now]]}
    )
    monkeypatch.setattr(facts, "_writers_in_flight", lambda cursor: False)
    facts.refresh()
    assert FactSource.objects.get(name=facts.ENTRY).gaps == []
    monkeypatch.setattr(facts, "_writers_in_flight", lambda cursor: True)
    FactSource.objects.filter(name=facts.ENTRY).update(gaps=[[top + 60, top + 60, now]])
    facts.refresh()
    assert FactSource.objects.get(name=facts.ENTRY).gaps == [[top + 60, top + 60, now]]
