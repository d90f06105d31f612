"""The audit journal (F7.7): services write it, it is append-only, the query page filters it."""

import pytest
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from watermis.core import journal
from watermis.core.models import AuditAction, AuditEntry
from watermis.org import services
from watermis.org.models import Zone, ZoneKind


def test_record_carries_context(org, admin):
    with journal.audit_context(actor=admin, source="test", request_id="req-1", ip="10.1.2.3"):
        zone = services.create_zone(
            admin, {"code": "NC", "name": "南城区", "kind": ZoneKind.URBAN, "sort_order": 5}
        )
    entry = journal.history(zone).get()
    assert entry.action == AuditAction.CREATE
    assert entry.actor == admin and entry.actor_name == "admin"
    assert entry.request_id == "req-1" and entry.ip == "10.1.2.3" and entry.source == "test"
    assert entry.zone_id == zone.pk
    assert entry.before is None and entry.after["name"] == "南城区"


def test_update_journals_before_and_after_only_when_changed(org, admin):
    zone = org["zone_a"]
    services.update_zone(admin, zone, {"name": "东城新区"})
    entry = journal.history(zone).filter(action=AuditAction.UPDATE).get()
    assert entry.changes() == [("name", "东城区", "东城新区")]
    services.update_zone(admin, zone, {"name": "东城新区"})  # no change: no new row
    assert journal.history(zone).filter(action=AuditAction.UPDATE).count() == 1


def test_failed_validation_writes_nothing(org, admin):
    before = AuditEntry.objects.count()
    with pytest.raises(Exception):  # noqa: B017 - ValidationError from full_clean
        services.create_zone(admin, {"code": "bad code!", "name": "X", "kind": ZoneKind.URBAN})
    assert AuditEntry.objects.count() == before
    assert not Zone.objects.filter(name="X").exists()


def test_bulk_path_journals(org):
    zones = Zone.objects.bulk_create(
        [Zone(code=f"Z{i}", name=f"分区{i}", kind=ZoneKind.TOWNSHIP) for i in range(5)]
    )
    journal.record_many(
        [journal.build_entry(z, AuditAction.CREATE, None, journal.snapshot(z)) for z in zones]
    )
    assert AuditEntry.objects.filter(object_type="org.zone", action="create").count() >= 5


def test_password_never_in_journal(org, admin, cashier_a):
    services.reset_password(admin, cashier_a, "NewPass2026", "forgotten")
    for entry in journal.history(cashier_a):
        assert "password" not in (entry.after or {})
        assert "password" not in (entry.before or {})
    assert journal.history(cashier_a).filter(verb="reset_password", reason="forgotten").exists()


def test_journal_rows_refuse_update_and_delete(org, admin):
    services.update_zone(admin, org["zone_a"], {"note": "x"})
    entry = AuditEntry.objects.latest("id")
    with pytest.raises(IntegrityError), transaction.atomic():
        AuditEntry.objects.filter(pk=entry.pk).update(reason="tampered")
    with pytest.raises(IntegrityError), transaction.atomic():
        AuditEntry.objects.filter(pk=entry.pk).delete()
    entry.refresh_from_db()
    assert entry.reason == ""


@pytest.mark.postgres
def test_postgres_trigger_refuses_raw_sql(org, admin):
    from django.db import connection

    services.update_zone(admin, org["zone_a"], {"note": "y"})
    for sql in ("UPDATE core_auditentry SET reason = 'x'", "DELETE FROM core_auditentry"):
        with (
            pytest.raises(IntegrityError, match="append-only"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(sql)


def test_journal_page_filters_combine_and_export(org, admin, login):
    services.update_zone(admin, org["zone_a"], {"note": "甲"})
    services.update_zone(admin, org["zone_b"], {"note": "乙"})
    client = login(admin)
    url = reverse("core:journal")
    page = client.get(url, {"object_type": "org.zone", "action": "update", "text": "乙"})
    assert page.status_code == 200
    rows = list(page.context["table"].page.object_list)
    assert len(rows) == 1 and rows[0].record.object_id == str(org["zone_b"].pk)
    export = client.get(url, {"object_type": "org.zone", "export": "xlsx"})
    assert export.status_code == 200
    assert export["Content-Type"].startswith("application/vnd.openxmlformats")


def test_journal_scoped_to_zones(org, admin, clerk_a, login):
    services.update_zone(admin, org["zone_a"], {"note": "A"})
    services.update_zone(admin, org["zone_b"], {"note": "B"})
    page = login(clerk_a).get(reverse("core:journal"), {"object_type": "org.zone"})
    ids = {row.record.object_id for row in page.context["table"].page.object_list}
    assert str(org["zone_a"].pk) in ids and str(org["zone_b"].pk) not in ids


def test_journal_by_zone_and_field_changed(org, admin, clerk_a, login):
    """The zone filter and the field changed narrow the journal and combine with the others:
    a field counts where its value changed (also from or to nothing), not where it stayed."""
    services.update_zone(admin, org["zone_a"], {"note": "甲"})
    services.update_zone(admin, org["zone_a"], {"name": "东城新区"})
    services.update_zone(admin, org["zone_b"], {"note": "乙"})
    client = login(admin)
    url = reverse("core:journal")

    def changes(params):
        page = client.get(url, {"object_type": "org.zone", "action": "update", **params})
        assert page.status_code == 200
        return sorted(
            (row.record.object_id, tuple(row.record.changed_fields()))
            for row in page.context["table"].page.object_list
        )

    zone_a, zone_b = str(org["zone_a"].pk), str(org["zone_b"].pk)
    assert changes({"zone": org["zone_a"].pk}) == [(zone_a, ("name",)), (zone_a, ("note",))]
    assert changes({"field": "note"}) == [(zone_a, ("note",)), (zone_b, ("note",))]
    assert changes({"field": "note", "zone": org["zone_b"].pk}) == [(zone_b, ("note",))]
    assert changes({"field": "name"}) == [(zone_a, ("name",))]
    assert changes({"field": "code"}) == []  # in every snapshot, never changed
    assert changes({"field": "no__such__field"}) == []
    # from nothing to a value counts; nothing before and after does not
    for pk, before, after in (("7", None, 5), ("8", None, None), ("9", 5, None)):
        AuditEntry.objects.create(
            at=timezone.now(),
            action=AuditAction.UPDATE,
            object_type="org.zone",
            object_id=pk,
            before={"manager": before},
            after={"manager": after},
        )
    assert [object_id for object_id, _f in changes({"field": "manager"})] == ["7", "9"]
    # a zone outside the operator's scope is no choice
    page = login(clerk_a).get(url, {"zone": org["zone_b"].pk})
    assert "zone" in page.context["filterset"].form.errors
