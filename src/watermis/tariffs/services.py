"""Changing tariffs (F11.2–F11.5). Every change is validated, journaled and in one transaction.

A version already in force (``effective_from`` on or before today) is never
changed: a price change is a new version starting later. Only the first
version of a new tariff may start in the past (the go-live price list).
"""

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from watermis.core import journal
from watermis.core.models import AuditAction
from watermis.core.money import has_places
from watermis.core.scoping import ensure_in_scope
from watermis.core.services import create_scoped, update_scoped

from .models import (
    MinimumVolume,
    PriceItem,
    QuotaBracket,
    Surcharge,
    SurchargeKind,
    Tariff,
    TariffPrice,
    TariffTier,
    TariffVersion,
    TierMode,
    WaterCategory,
)
from .queries import version_snapshot

ITEM_FIELDS = [
    "code",
    "name",
    "revenue_kind",
    "collected_for",
    "tax_treatment",
    "tax_rate",
    "sort_order",
    "active",
]
CATEGORY_FIELDS = ["code", "name", "kind", "sort_order", "active"]
TARIFF_FIELDS = ["code", "name", "category", "note", "active"]
MINIMUM_FIELDS = ["category", "caliber", "monthly_volume"]
VERSION_FIELDS = [
    "effective_from",
    "tier_mode",
    "cycle_start_month",
    "base_household_size",
    "person_step",
    "widen_tiers",
    "quota_base_item",
    "quota_surcharge_item",
    "note",
]


@transaction.atomic
def create_price_item(actor, data):
    return create_scoped(actor, PriceItem, ITEM_FIELDS, data)


@transaction.atomic
def update_price_item(actor, item, data):
    return update_scoped(actor, item, ITEM_FIELDS, data)


@transaction.atomic
def create_category(actor, data):
    return create_scoped(actor, WaterCategory, CATEGORY_FIELDS, data)


@transaction.atomic
def update_category(actor, category, data):
    return update_scoped(actor, category, CATEGORY_FIELDS, data)


@transaction.atomic
def create_tariff(actor, data):
    return create_scoped(actor, Tariff, TARIFF_FIELDS, data)


@transaction.atomic
def update_tariff(actor, tariff, data):
    return update_scoped(actor, tariff, TARIFF_FIELDS, data)


@transaction.atomic
def create_minimum(actor, data):
    return create_scoped(actor, MinimumVolume, MINIMUM_FIELDS, data)


@transaction.atomic
def update_minimum(actor, minimum, data):
    return update_scoped(actor, minimum, MINIMUM_FIELDS, data)


# --- versions (F11.3) ---------------------------------------------------------


def validate_version(data):
    """Check a version's content; raises ValidationError naming the field and the rule.

    ``data``: the VERSION_FIELDS plus ``tiers`` (upper bounds, the last None; empty
    for no tiers), ``prices`` [(item, tier or None, unit price)], ``brackets``
    [(upper percent or None, multiple)] and ``surcharges`` [(item, kind, amount)].
    """
    errors = {}
    mode = data.get("tier_mode", TierMode.FLAT)
    tiers = list(data.get("tiers") or [])
    if mode == TierMode.FLAT:
        if tiers:
            errors["tiers"] = _("A tariff without tiers has no tier thresholds.")
    else:
        if len(tiers) < 2 or tiers[-1] is not None:
            errors["tiers"] = _("Give at least two tiers; the last tier has no upper limit.")
        else:
            bounded = tiers[:-1]
            if any(t is None for t in bounded):
                errors["tiers"] = _("Only the last tier may be open-ended.")
            elif any(t <= 0 for t in bounded) or any(
                b <= a for a, b in zip(bounded, bounded[1:], strict=False)
            ):
                errors["tiers"] = _("Tier limits must be positive and increasing.")
            elif not all(has_places(t, 2) for t in bounded):
                errors["tiers"] = _("Tier limits have at most 2 decimal places.")
    tier_count = len(tiers) if mode != TierMode.FLAT else 0
    widen = data.get("widen_tiers", "") or ""
    try:
        numbers = {int(n) for n in widen.replace("，", ",").split(",") if n.strip()}
    except ValueError:
        numbers = {-1}
    outside = mode == TierMode.FLAT or not numbers <= set(range(1, tier_count + 1))
    if numbers and outside and (mode != TierMode.FLAT or data.get("person_step")):
        errors["widen_tiers"] = _("Name tiers that exist, e.g. 1 or 1,2.")
    by_item = {}
    for item, tier, price in data.get("prices") or []:
        by_item.setdefault(item, []).append((tier, price))
        if price is None or price < 0 or not has_places(price, 4):
            errors["prices"] = _("Unit prices are zero or more, with at most 4 decimal places.")
    if not by_item:
        errors.setdefault("prices", _("Give the price of at least one item."))
    for item, entries in by_item.items():
        tier_numbers = sorted(t for t, _p in entries if t is not None)
        flat = [t for t, _p in entries if t is None]
        if flat and (tier_numbers or len(flat) > 1):
            errors["prices"] = _("%(item)s: give either one flat price or one price per tier.") % {
                "item": item
            }
        elif not flat and (mode == TierMode.FLAT or tier_numbers != list(range(1, tier_count + 1))):
            errors["prices"] = _("%(item)s: give one price for each of the %(n)s tiers.") % {
                "item": item,
                "n": tier_count,
            }
    brackets = list(data.get("brackets") or [])
    base, surcharge_item = data.get("quota_base_item"), data.get("quota_surcharge_item")
    if brackets:
        if base is None or base not in by_item:
            errors["quota_base_item"] = _(
                "Choose the item whose price the surcharge multiplies; it must be priced in this version."
            )
        if surcharge_item is None:
            errors["quota_surcharge_item"] = _("Choose the item the surcharge is billed as.")
        uppers = [u for u, _m in brackets]
        if uppers[-1] is not None or any(u is None for u in uppers[:-1]):
            errors["brackets"] = _("Only the last bracket is open-ended.")
        elif any(u <= 0 for u in uppers[:-1]) or any(
            b <= a for a, b in zip(uppers[:-1], uppers[1:-1], strict=False)
        ):
            errors["brackets"] = _("Bracket limits must be positive and increasing.")
        if any(m is None or m <= 0 for _u, m in brackets):
            errors["brackets"] = _("Each bracket's multiple must be above zero.")
    for _item, kind, amount in data.get("surcharges") or []:
        if amount is None or amount < 0 or not has_places(amount, 4):
            errors["surcharges"] = _(
                "Surcharge amounts are zero or more, with at most 4 decimal places."
            )
        elif kind == SurchargeKind.FIXED and not has_places(amount, 2):
            errors["surcharges"] = _(
                "A fixed surcharge is an amount in yuan with at most 2 decimal places."
            )
        elif kind not in SurchargeKind.values:
            errors["surcharges"] = _("Unknown surcharge kind.")
    if errors:
        raise ValidationError(errors)


def _write_children(version, data):
    tiers = [] if data.get("tier_mode") == TierMode.FLAT else list(data.get("tiers") or [])
    TariffTier.objects.bulk_create(
        [TariffTier(version=version, number=n, upper=u) for n, u in enumerate(tiers, start=1)]
    )
    TariffPrice.objects.bulk_create(
        [
            TariffPrice(version=version, item=i, tier=t, unit_price=p)
            for i, t, p in data.get("prices") or []
        ]
    )
    QuotaBracket.objects.bulk_create(
        [
            QuotaBracket(version=version, number=n, upper_percent=u, multiple=m)
            for n, (u, m) in enumerate(data.get("brackets") or [], start=1)
        ]
    )
    Surcharge.objects.bulk_create(
        [
            Surcharge(version=version, item=i, kind=k, amount=a)
            for i, k, a in data.get("surcharges") or []
        ]
    )


@transaction.atomic
def create_version(actor, tariff, data, today=None):
    """Add a version to a tariff, starting on ``data["effective_from"]``."""
    today = today or timezone.localdate()
    tariff = Tariff.objects.select_for_update().get(pk=tariff.pk)
    ensure_in_scope(actor, TariffVersion(tariff=tariff), "add")
    start = data.get("effective_from")
    latest = tariff.versions.order_by("-effective_from").first()
    if start is None:
        raise ValidationError({"effective_from": _("Give the date the prices take effect.")})
    if latest is not None:
        if start <= latest.effective_from:
            raise ValidationError(
                {
                    "effective_from": _("A new version must start after the latest one (%(date)s).")
                    % {"date": latest.effective_from.isoformat()}
                }
            )
        if start < today:
            raise ValidationError(
                {
                    "effective_from": _(
                        "A new version cannot start in the past: that would rewrite bills already priced."
                    )
                }
            )
    validate_version(data)
    version = TariffVersion(tariff=tariff, created_by=journal.saved_operator(actor))
    for name in VERSION_FIELDS:
        if name in data:
            setattr(version, name, data[name])
    version.full_clean()
    version.save(force_insert=True)
    version.refresh_from_db()  # the journal shows stored values (30 → "30.00")
    _write_children(version, data)
    journal.record(
        version,
        AuditAction.CREATE,
        None,
        version_snapshot(version),
        data.get("reason", ""),
        actor=actor,
    )
    return version


@transaction.atomic
def update_version(actor, version, data, today=None):
    """Change a version that is not yet in force (its children are replaced)."""
    today = today or timezone.localdate()
    version = TariffVersion.objects.select_for_update().get(pk=version.pk)
    ensure_in_scope(actor, version, "change")
    if version.effective_from <= today:
        raise PermissionDenied(
            _("This version is in force already: add a new version instead of changing it.")
        )
    start = data.get("effective_from", version.effective_from)
    if start is None or start <= today:
        raise ValidationError(
            {"effective_from": _("A version not yet in force must keep a future start date.")}
        )
    clash = version.tariff.versions.exclude(pk=version.pk).filter(effective_from__gte=start)
    if clash.exists():
        raise ValidationError(
            {"effective_from": _("Another version starts on or after this date.")}
        )
    validate_version(data)
    before = version_snapshot(version)
    for name in VERSION_FIELDS:
        if name in data:
            setattr(version, name, data[name])
    version.full_clean()
    version.save()
    version.refresh_from_db()
    for related in (version.tiers, version.prices, version.quota_brackets, version.surcharges):
        related.all().delete()
    _write_children(version, data)
    after = version_snapshot(version)
    if before != after:
        journal.record(
            version, AuditAction.UPDATE, before, after, data.get("reason", ""), actor=actor
        )
    return version


def version_data(version):
    """The editable content of a version in the form ``create_version`` takes (to copy it)."""
    data = {name: getattr(version, name) for name in VERSION_FIELDS}
    data["tiers"] = [t.upper for t in version.tiers.order_by("number")]
    data["prices"] = [(p.item, p.tier, p.unit_price) for p in version.prices.select_related("item")]
    data["brackets"] = [
        (b.upper_percent, b.multiple) for b in version.quota_brackets.order_by("number")
    ]
    data["surcharges"] = [
        (s.item, s.kind, s.amount) for s in version.surcharges.select_related("item")
    ]
    return data
