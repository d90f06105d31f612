"""Changing customers, meters, areas and books (M5, M6, F11.6, F11.7).

Every function runs in one transaction, checks the operator's permission and
zone scope, and journals what it changes (bulk paths with ``record_many``).
"""

import copy

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from pypinyin import Style, lazy_pinyin

from watermis.core import journal
from watermis.core.models import AuditAction
from watermis.core.money import has_places
from watermis.core.scoping import ensure_in_scope
from watermis.core.services import create_scoped, update_scoped

from .models import (
    AccountSequence,
    Area,
    Book,
    Customer,
    CustomerStatus,
    CustomerSurcharge,
    Meter,
    MeterEvent,
    MeterEventKind,
    MeterKind,
    MeterStatus,
    ValveState,
)

AREA_FIELDS = ["code", "name", "zone", "active"]
BOOK_FIELDS = ["code", "name", "area", "reader", "collector", "cycle", "reading_day", "active"]
CUSTOMER_FIELDS = [
    "name",
    "id_number",
    "phone",
    "phone2",
    "address",
    "book",
    "route_order",
    "category",
    "household_size",
    "low_income",
    "payment_method",
    "bank_name",
    "bank_account",
    "mandate_no",
    "mandate_signed_on",
    "note",
]
METER_FIELDS = [
    "number",
    "caliber",
    "brand",
    "model",
    "digits",
    "installed_on",
    "initial_reading",
    "tariff",
    "location",
    "remote_read",
    "remote_valve",
    "device_address",
    "parent",
    "master",
]
# Fields a batch update (F5.5) may set on many customers at once.
BATCH_FIELDS = ["book", "category", "payment_method", "household_size", "low_income"]


def name_initials(name):
    """Pinyin initials of a name for search: 张三丰 → zsf (other characters kept, lower case)."""
    return (
        "".join(lazy_pinyin(name or "", style=Style.FIRST_LETTER, errors="default"))
        .lower()
        .replace(" ", "")[:100]
    )


# --- areas and books -----------------------------------------------------------------


@transaction.atomic
def create_area(actor, data):
    return create_scoped(actor, Area, AREA_FIELDS, data)


@transaction.atomic
def update_area(actor, area, data):
    return update_scoped(actor, area, AREA_FIELDS, data)


def _check_book_staff(data):
    reader, collector = data.get("reader"), data.get("collector")
    if reader is not None and not reader.is_reader:
        raise ValidationError({"reader": _("%(name)s is not a meter reader.") % {"name": reader}})
    if collector is not None and not collector.is_collector:
        raise ValidationError(
            {"collector": _("%(name)s is not a collector.") % {"name": collector}}
        )


@transaction.atomic
def create_book(actor, data):
    _check_book_staff(data)
    return create_scoped(actor, Book, BOOK_FIELDS, data)


@transaction.atomic
def update_book(actor, book, data):
    _check_book_staff(data)
    return update_scoped(actor, book, BOOK_FIELDS, data)


# --- account numbers ---------------------------------------------------------------


def next_account_number(zone):
    """Take the zone's next account number under a row lock. Call inside a transaction.

    A number already used (by an imported legacy account, say) is skipped, so a
    number is never given twice; a number taken by a transaction that rolls back
    is taken again by the next one (the sequence row rolls back with it).
    """
    try:
        with transaction.atomic():
            AccountSequence.objects.get_or_create(zone=zone)
    except IntegrityError:  # another transaction created it first
        pass
    sequence = AccountSequence.objects.select_for_update().get(zone=zone)
    while True:
        number = sequence.pattern.format(zone=zone.code, seq=sequence.next_value)
        sequence.next_value += 1
        if not Customer.objects.filter(account_no=number).exists():
            break
    sequence.save(update_fields=["next_value"])
    return number


# --- customers (F5.1) ----------------------------------------------------------------


def _customer_from(data, customer=None):
    customer = customer or Customer()
    for name in CUSTOMER_FIELDS:
        if name in data:
            setattr(customer, name, data[name])
    customer.name_initials = name_initials(customer.name)
    if customer.book_id:
        customer.zone_id = customer.book.area.zone_id
    return customer


def _record_event(actor, **fields):
    """Append one meter event (install, replace, transfer, shutoff, restore) by ``actor``."""
    return MeterEvent.objects.create(recorded_by=journal.saved_operator(actor), **fields)


def _new_meter(actor, customer, data, zone):
    meter = Meter(kind=MeterKind.CUSTOMER, customer=customer, zone=zone)
    for name in METER_FIELDS:
        if name in data:
            setattr(meter, name, data[name])
    if meter.tariff_id is None and customer is not None:
        raise ValidationError({"tariff": _("Choose the tariff the meter is billed by.")})
    for linked in (meter.parent, meter.master):
        if linked is not None:
            ensure_in_scope(actor, linked, "view")
    _check_meter_links(meter)
    journal.create_object(meter, actor=actor)
    _record_event(
        actor,
        meter=meter,
        kind=MeterEventKind.INSTALL,
        on=meter.installed_on,
        zone=zone,
        new_initial_reading=meter.initial_reading,
        to_customer=customer,
    )
    return meter


def _check_meter_links(meter):
    if meter.parent_id:
        if meter.parent_id == meter.pk or meter.parent.parent_id:
            raise ValidationError(
                {"parent": _("A sub-meter's parent cannot itself be a sub-meter.")}
            )
        if meter.parent.kind != MeterKind.CUSTOMER:
            raise ValidationError({"parent": _("A master meter cannot be a parent meter.")})
    if meter.master_id and meter.master.kind == MeterKind.CUSTOMER:
        raise ValidationError({"master": _("Choose a district or plant master meter.")})
    if meter.initial_reading is not None and meter.initial_reading >= meter.rollover:
        raise ValidationError(
            {"initial_reading": _("The reading is larger than the dial can show.")}
        )


@transaction.atomic
def open_customer(actor, data, meter_data, today=None):
    """Open an account (F5.1) with its first meter, in one step; returns the customer."""
    customer = _customer_from(data)
    customer.opened_on = data.get("opened_on") or today or timezone.localdate()
    customer.status = CustomerStatus.ACTIVE
    if customer.book_id is None:
        raise ValidationError({"book": _("Choose the reading book.")})
    ensure_in_scope(actor, customer, "add")
    customer.account_no = next_account_number(customer.book.area.zone)
    if not customer.route_order:
        customer.route_order = end_of_route(customer.book)
    journal.create_object(customer, actor=actor)
    _new_meter(actor, customer, meter_data, customer.zone)
    return customer


def end_of_route(book, step=1):
    """The route position after the last account of a book (positions go in tens)."""
    last = (
        Customer.objects.filter(book=book)
        .order_by("-route_order")
        .values_list("route_order", flat=True)
        .first()
    )
    return (last or 0) + 10 * step


@transaction.atomic
def update_customer(actor, customer, data):
    customer = Customer.objects.select_for_update().get(pk=customer.pk)
    ensure_in_scope(actor, customer, "change")
    changes = {name: data[name] for name in CUSTOMER_FIELDS if name in data}
    if "name" in changes:
        changes["name_initials"] = name_initials(changes["name"])
    if "book" in changes:
        changes["zone"] = changes["book"].area.zone
    ensure_in_scope(actor, _customer_from(data, copy.copy(customer)), "change")
    return journal.update_object(customer, changes, actor=actor)


@transaction.atomic
def set_customer_status(actor, customer, status, on, reason):
    """Suspend, resume or close an account, with the date and a reason."""
    customer = Customer.objects.select_for_update().get(pk=customer.pk)
    ensure_in_scope(actor, customer, "change")
    if not (reason or "").strip():
        raise ValidationError({"reason": _("Give a reason.")})
    if customer.status == CustomerStatus.CLOSED:
        raise ValidationError({"status": _("A closed account cannot change status.")})
    changes = {"status": status}
    if status == CustomerStatus.SUSPENDED:
        changes["suspended_on"] = on
    elif status == CustomerStatus.CLOSED:
        changes["closed_on"] = on
        if customer.meters.filter(status=MeterStatus.ACTIVE).exists():
            raise ValidationError(
                {"status": _("Remove or transfer the account's meters before closing it.")}
            )
    elif status == CustomerStatus.ACTIVE:
        changes["suspended_on"] = None
    return journal.update_object(
        customer, changes, reason=reason, verb=f"status_{status}", actor=actor
    )


# --- meters (F5.2, F6.2–F6.5) ----------------------------------------------------------


@transaction.atomic
def add_meter(actor, customer, data):
    """Another meter for an existing customer (F5.2)."""
    customer = Customer.objects.select_for_update().get(pk=customer.pk)
    ensure_in_scope(actor, customer, "change")
    if customer.status == CustomerStatus.CLOSED:
        raise ValidationError({"customer": _("The account is closed.")})
    return _new_meter(actor, customer, data, customer.zone)


@transaction.atomic
def create_master_meter(actor, data, zone, kind=MeterKind.DISTRICT):
    """A district or plant-outlet meter: read for loss rates, never billed (F6.1)."""
    meter = Meter(kind=kind, zone=zone)
    for name in METER_FIELDS:
        if name in data:
            setattr(meter, name, data[name])
    ensure_in_scope(actor, meter, "add")
    _check_meter_links(meter)
    return journal.create_object(meter, actor=actor)


@transaction.atomic
def update_meter(actor, meter, data):
    meter = Meter.objects.select_for_update().get(pk=meter.pk)
    ensure_in_scope(actor, meter, "change")
    changes = {
        name: data[name]
        for name in METER_FIELDS
        if name in data and name not in ("initial_reading", "number")
    }
    proposed = copy.copy(meter)
    for name, value in changes.items():
        setattr(proposed, name, value)
    for name in ("parent", "master"):  # a newly chosen link must be a meter the actor sees
        linked = changes.get(name)
        if linked is not None and linked.pk != getattr(meter, f"{name}_id"):
            ensure_in_scope(actor, linked, "view")
    _check_meter_links(proposed)
    return journal.update_object(meter, changes, actor=actor)


def _active(meter, actor):
    meter = Meter.objects.select_for_update().get(pk=meter.pk)
    ensure_in_scope(actor, meter, "change")
    if meter.status != MeterStatus.ACTIVE:
        raise ValidationError({"meter": _("The meter is not in service.")})
    return meter


@transaction.atomic
def replace_meter(actor, old, new_data, old_final_reading, on, installer=None, reason=""):
    """Replace a meter (F6.3): the old one is retired with its final reading, the new one
    starts from its initial reading. Billing later uses old final − old previous +
    new current − new initial."""
    old = _active(old, actor)
    errors = {}
    if old_final_reading is None or old_final_reading < 0 or old_final_reading >= old.rollover:
        errors["old_final_reading"] = _("Enter the old meter's final reading as shown on its dial.")
    if on is None or on < old.installed_on:
        errors["on"] = _("The replacement date cannot be before the old meter was installed.")
    if errors:
        raise ValidationError(errors)
    data = {
        "caliber": old.caliber,
        "tariff": old.tariff,
        "location": old.location,
        "parent": old.parent,
        "master": old.master,
        **new_data,
        "installed_on": on,
    }
    new = _new_meter(actor, old.customer, data, old.zone)
    before = journal.snapshot(old)
    old.status, old.removed_on, old.final_reading = MeterStatus.REMOVED, on, old_final_reading
    old.save(update_fields=["status", "removed_on", "final_reading"])
    subs = list(Meter.objects.select_for_update().filter(parent=old).order_by("pk"))
    for sub in subs:  # the sub-meters now hang under the new meter; journaled like any change
        sub.parent = new
    Meter.objects.bulk_update(subs, ["parent"])
    journal.record_many(
        [
            journal.build_entry(
                sub,
                AuditAction.UPDATE,
                {"parent_id": old.pk},
                {"parent_id": new.pk},
                reason,
                "replace_parent",
                actor=actor,
            )
            for sub in subs
        ]
    )
    journal.record(
        old, AuditAction.UPDATE, before, journal.snapshot(old), reason, "replace", actor=actor
    )
    _record_event(
        actor,
        meter=old,
        kind=MeterEventKind.REPLACE,
        on=on,
        zone=old.zone,
        old_final_reading=old_final_reading,
        new_meter=new,
        new_initial_reading=new.initial_reading,
        from_customer=old.customer,
        to_customer=old.customer,
        installer=installer,
        reason=reason,
    )
    return new


@transaction.atomic
def transfer_meter(
    actor, meter, to_customer=None, new_customer=None, on=None, reason="", today=None
):
    """Move a meter to another customer (F6.5): an existing one, or a new account opened now."""
    meter = _active(meter, actor)
    if meter.kind != MeterKind.CUSTOMER:
        raise ValidationError({"meter": _("Only customer meters are transferred.")})
    if not (reason or "").strip():
        raise ValidationError({"reason": _("Give a reason.")})
    if to_customer is None:
        if new_customer is None:
            raise ValidationError(
                {"to_customer": _("Choose the customer, or give the new customer's details.")}
            )
        if new_customer.get("book") is None:
            raise ValidationError({"book": _("Choose the reading book.")})
        to_customer = _customer_from(new_customer)
        to_customer.route_order = end_of_route(to_customer.book)
        to_customer.opened_on = on or today or timezone.localdate()
        ensure_in_scope(actor, to_customer, "add")
        to_customer.account_no = next_account_number(to_customer.book.area.zone)
        journal.create_object(to_customer, actor=actor)
    else:
        to_customer = Customer.objects.select_for_update().get(pk=to_customer.pk)
        ensure_in_scope(actor, to_customer, "change")
        if to_customer.status == CustomerStatus.CLOSED:
            raise ValidationError({"to_customer": _("The account is closed.")})
    if to_customer.pk == meter.customer_id:
        raise ValidationError({"to_customer": _("The meter belongs to this customer already.")})
    from_customer = meter.customer
    journal.update_object(
        meter,
        {"customer": to_customer, "zone": to_customer.zone},
        reason=reason,
        verb="transfer",
        actor=actor,
    )
    _record_event(
        actor,
        meter=meter,
        kind=MeterEventKind.TRANSFER,
        on=on or today or timezone.localdate(),
        zone=to_customer.zone,
        from_customer=from_customer,
        to_customer=to_customer,
        reason=reason,
    )
    return meter


@transaction.atomic
def record_shutoff(actor, meter, on, installer, reason, restore=False):
    """Record that the supply of a meter was shut off, or restored (F6.4)."""
    meter = _active(meter, actor)
    if not (reason or "").strip():
        raise ValidationError({"reason": _("Give a reason.")})
    wanted = ValveState.OPEN if restore else ValveState.CLOSED
    if meter.valve_state == wanted:
        raise ValidationError(
            {
                "meter": _("The supply is open already.")
                if restore
                else _("The supply is shut off already.")
            }
        )
    journal.update_object(
        meter,
        {"valve_state": wanted},
        reason=reason,
        verb="restore" if restore else "shutoff",
        actor=actor,
    )
    return _record_event(
        actor,
        meter=meter,
        kind=MeterEventKind.RESTORE if restore else MeterEventKind.SHUTOFF,
        on=on,
        zone=meter.zone,
        installer=installer,
        reason=reason,
    )


# --- books: route order, reassignment, batch update (F5.3–F5.5) ----------------------------


def _journal_bulk(actor, changed, reason, verb):
    now = timezone.now()
    journal.record_many(
        [
            journal.build_entry(
                obj, AuditAction.UPDATE, before, after, reason, verb, at=now, actor=actor
            )
            for obj, before, after in changed
        ]
    )


@transaction.atomic
def set_route_order(actor, book, customer_ids):
    """Put a book's accounts in the reader's walking order (F5.3): the list gives the order."""
    book = Book.objects.select_for_update().get(pk=book.pk)
    ensure_in_scope(actor, book, "change")
    customers = {
        c.pk: c for c in Customer.objects.select_for_update().filter(book=book).order_by("pk")
    }
    if set(customer_ids) != set(customers) or len(customer_ids) != len(customers):
        raise ValidationError(
            {"order": _("The order must list every account of the book exactly once.")}
        )
    changed = []
    for position, pk in enumerate(customer_ids, start=1):
        customer = customers[pk]
        if customer.route_order != position * 10:
            changed.append(
                (customer, {"route_order": customer.route_order}, {"route_order": position * 10})
            )
            customer.route_order = position * 10
    Customer.objects.bulk_update([c for c, _b, _a in changed], ["route_order"], batch_size=1000)
    _journal_bulk(actor, changed, "", "route_order")
    return len(changed)


def batch_preview(customers, changes):
    """(customer, {field: (before, after)}) for each customer the changes would alter (F5.5)."""
    rows = []
    for customer in customers:
        diff = {}
        for name, value in changes.items():
            current = getattr(customer, name)
            if current != value:
                diff[name] = (current, value)
        if diff:
            rows.append((customer, diff))
    return rows


def _stored(obj, name):
    """A field's value as the journal stores it (the id for a foreign key)."""
    field = obj._meta.get_field(name)
    return journal.snapshot_value(field.value_from_object(obj))


@transaction.atomic
def batch_update(actor, customer_ids, changes, reason):
    """Set the chosen fields on many customers (F5.5; moving accounts between books is F5.4).

    Returns the number changed; one journal entry per changed customer.
    """
    unknown = set(changes) - set(BATCH_FIELDS)
    if unknown:
        raise ValidationError(
            {
                "fields": _("These fields cannot be batch-updated: %(f)s")
                % {"f": ", ".join(sorted(unknown))}
            }
        )
    if not changes:
        raise ValidationError({"fields": _("Choose at least one field to change.")})
    if not (reason or "").strip():
        raise ValidationError({"reason": _("Give a reason.")})
    if "book" in changes:
        ensure_in_scope(actor, changes["book"], "view")
    customers = list(
        Customer.objects.select_for_update().filter(pk__in=customer_ids).order_by("pk")
    )
    if len(customers) != len(set(customer_ids)):
        raise PermissionDenied(_("Some of the chosen accounts do not exist."))
    for customer in customers:
        ensure_in_scope(actor, customer, "change")
    changed = []
    previews = sorted(batch_preview(customers, changes), key=lambda row: row[0].account_no)
    next_position = end_of_route(changes["book"]) if "book" in changes else None
    for customer, diff in previews:
        if "book" in diff:  # a moved account joins the end of its new book's route, in its zone
            target = diff["book"][1]
            diff["zone"] = (customer.zone, target.area.zone)
            diff["route_order"] = (customer.route_order, next_position)
            next_position += 10
        before = {name: _stored(customer, name) for name in diff}
        for name, (_old, new) in diff.items():
            setattr(customer, name, new)
        changed.append((customer, before, {name: _stored(customer, name) for name in diff}))
    fields = sorted({name for _c, b, _a in changed for name in b})
    if changed:
        Customer.objects.bulk_update([c for c, _b, _a in changed], fields, batch_size=1000)
    _journal_bulk(actor, changed, reason, "batch_update")
    return len(changed)


@transaction.atomic
def move_customers(actor, customer_ids, to_book, reason):
    """Move accounts to another book (F5.4); they join the end of its route, in account order."""
    return batch_update(actor, customer_ids, {"book": to_book}, reason)


# --- surcharges on chosen customers (F11.5) -------------------------------------------

SURCHARGE_FIELDS = ["item", "kind", "amount", "starts_on", "ends_on", "reason"]


def _check_surcharge(surcharge):
    errors = {}
    surcharge.full_clean(exclude=["customer", "ends_on", "reason"])  # types and required fields
    amount = surcharge.amount
    if amount is not None and not has_places(amount, 2 if surcharge.kind == "fixed" else 4):
        errors["amount"] = (
            _("A fixed surcharge is an amount in yuan with at most 2 decimal places.")
            if surcharge.kind == "fixed"
            else _("A per-m³ surcharge has at most 4 decimal places.")
        )
    if surcharge.ends_on and surcharge.starts_on and surcharge.ends_on < surcharge.starts_on:
        errors["ends_on"] = _("The end date is before the start date.")
    if not (surcharge.reason or "").strip():
        errors["reason"] = _("Give a reason.")
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def add_customer_surcharge(actor, customer, data):
    """Charge one customer an extra fee from a date (F11.5)."""
    customer = Customer.objects.select_for_update().get(pk=customer.pk)
    surcharge = CustomerSurcharge(
        customer=customer, **{k: data[k] for k in SURCHARGE_FIELDS if k in data}
    )
    ensure_in_scope(actor, surcharge, "add")
    _check_surcharge(surcharge)
    return journal.create_object(surcharge, actor=actor)


@transaction.atomic
def end_customer_surcharge(actor, surcharge, ends_on, reason):
    """Stop a customer's surcharge from a date (kept for the bills already priced with it)."""
    surcharge = CustomerSurcharge.objects.select_for_update().get(pk=surcharge.pk)
    ensure_in_scope(actor, surcharge, "change")
    if surcharge.ends_on is not None and surcharge.ends_on <= ends_on:
        raise ValidationError({"ends_on": _("This surcharge ends earlier already.")})
    before = journal.snapshot(surcharge)
    surcharge.ends_on = ends_on
    _check_surcharge(surcharge)
    surcharge.save(update_fields=["ends_on"])
    journal.record(
        surcharge,
        AuditAction.UPDATE,
        before,
        journal.snapshot(surcharge),
        reason,
        "end_surcharge",
        actor=actor,
    )
    return surcharge
