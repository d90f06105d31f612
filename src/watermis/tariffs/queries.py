"""Reading tariffs: calculator specs built from the tables, version snapshots, minimum volumes."""

from decimal import Decimal

from django.db.models import Prefetch

from watermis.core.money import to_centi, to_price_units

from . import calculator
from .models import MinimumVolume, TariffPrice, TariffVersion

VERSION_PREFETCH = (
    "tiers",
    Prefetch(
        "prices",
        queryset=TariffPrice.objects.select_related("item").order_by(
            "item__sort_order", "item__code", "tier"
        ),
    ),
    "quota_brackets",
    "surcharges__item",
    "quota_base_item",
    "quota_surcharge_item",
)


def versions_of(tariff):
    """A tariff's versions, oldest first, with everything the calculator needs."""
    return list(
        TariffVersion.objects.filter(tariff=tariff)
        .order_by("effective_from")
        .prefetch_related(*VERSION_PREFETCH)
    )


def spec_from_version(version) -> calculator.TariffSpec:
    """The calculator's view of one version (prefetch with ``VERSION_PREFETCH``)."""
    items, order = {}, []
    for price in version.prices.all():
        if price.item_id not in items:
            items[price.item_id] = (price.item, {})
            order.append(price.item_id)
        items[price.item_id][1][price.tier] = to_price_units(price.unit_price)
    item_prices = []
    for item_id in order:
        item, by_tier = items[item_id]
        flat = None in by_tier
        prices = (by_tier[None],) if flat else tuple(by_tier[n] for n in sorted(by_tier))
        item_prices.append(calculator.ItemPrice(item.code, item.name, prices))
    tiers = sorted(version.tiers.all(), key=lambda t: t.number)
    quota_item = version.quota_surcharge_item
    return calculator.TariffSpec(
        effective_from=version.effective_from,
        items=tuple(item_prices),
        tier_mode=version.tier_mode,
        tier_uppers=tuple(None if t.upper is None else to_centi(t.upper) for t in tiers),
        cycle_start_month=version.cycle_start_month,
        base_household_size=version.base_household_size,
        person_step=to_centi(version.person_step),
        widen_tiers=version.widened_tier_numbers(),
        quota_base_code=version.quota_base_item.code if version.quota_base_item_id else None,
        quota_item=(quota_item.code, quota_item.name) if quota_item else None,
        brackets=tuple(
            calculator.Bracket(b.upper_percent, b.multiple)
            for b in sorted(version.quota_brackets.all(), key=lambda b: b.number)
        ),
        fees=tuple(
            calculator.Fee(s.item.code, s.item.name, s.kind, to_price_units(s.amount))
            for s in version.surcharges.all()
        ),
    )


def tariff_specs(tariff):
    """Calculator specs of every version of a tariff, oldest first."""
    return [spec_from_version(v) for v in versions_of(tariff)]


def version_snapshot(version):
    """A JSON-safe description of a whole version (for the journal and the comparison page)."""
    return {
        "effective_from": version.effective_from.isoformat(),
        "tier_mode": version.tier_mode,
        "cycle_start_month": version.cycle_start_month,
        "base_household_size": version.base_household_size,
        "person_step": str(version.person_step),
        "widen_tiers": version.widen_tiers,
        "tiers": [
            None if t.upper is None else str(t.upper) for t in version.tiers.order_by("number")
        ],
        "prices": [
            [p.item.code, p.tier, str(p.unit_price)]
            for p in version.prices.select_related("item").order_by(
                "item__sort_order", "item__code", "tier"
            )
        ],
        "quota_base_item": version.quota_base_item.code if version.quota_base_item_id else None,
        "quota_surcharge_item": version.quota_surcharge_item.code
        if version.quota_surcharge_item_id
        else None,
        "brackets": [
            [None if b.upper_percent is None else str(b.upper_percent), str(b.multiple)]
            for b in version.quota_brackets.order_by("number")
        ],
        "surcharges": [
            [s.item.code, s.kind, str(s.amount)] for s in version.surcharges.select_related("item")
        ],
        "note": version.note,
    }


def price_grid(version):
    """Rows for display: (item, [price per tier] or [flat price]) in item order."""
    rows, index = [], {}
    for price in version.prices.all():
        if price.item_id not in index:
            index[price.item_id] = len(rows)
            rows.append((price.item, {}))
        rows[index[price.item_id]][1][price.tier] = price.unit_price
    tier_count = version.tiers.count()
    grid = []
    for item, by_tier in rows:
        if None in by_tier:
            grid.append((item, True, [by_tier[None]] * max(tier_count, 1)))
        else:
            grid.append((item, False, [by_tier.get(n) for n in range(1, tier_count + 1)]))
    return grid


def minimum_volume(category_id, caliber, months=1) -> Decimal:
    """The minimum billable volume of a meter of this caliber and category for ``months`` months."""
    monthly = (
        MinimumVolume.objects.filter(category_id=category_id, caliber=caliber)
        .values_list("monthly_volume", flat=True)
        .first()
    )
    return (monthly or Decimal(0)) * months
