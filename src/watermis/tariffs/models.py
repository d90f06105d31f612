"""Tariffs (F11.2–F11.5): price items, water-use categories, effective-dated tariff versions
with tiers, quota surcharges and extra fees, and minimum volumes by meter caliber.

A version is a complete price list from its ``effective_from`` date until the
next version of the same tariff starts. Versions already in force are never
changed: a price change is a new version (see ``services``).
"""

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from watermis.core.scoping import ScopedManager
from watermis.core.validators import code_validator


class RevenueKind(models.TextChoices):
    OWN = "own", _("Company revenue")
    AGENCY = "agency", _("Collected for another body")


class TaxTreatment(models.TextChoices):
    VAT = "vat", _("VAT, general method")
    VAT_SIMPLE = "vat_simple", _("VAT, simple method")
    EXEMPT = "exempt", _("VAT exempt")
    NON_TAXABLE = "non_taxable", _("Not taxable (government fee or fund)")


class PriceItem(models.Model):
    """A billable component of the water price (F11.2): water fee, sewage fee, resource tax..."""

    code = models.CharField(_("code"), max_length=20, unique=True, validators=[code_validator])
    name = models.CharField(_("name"), max_length=50, unique=True)
    revenue_kind = models.CharField(
        _("revenue"), max_length=10, choices=RevenueKind.choices, default=RevenueKind.OWN
    )
    collected_for = models.CharField(_("collected for"), max_length=100, blank=True)
    tax_treatment = models.CharField(
        _("tax treatment"), max_length=12, choices=TaxTreatment.choices, default=TaxTreatment.VAT
    )
    tax_rate = models.DecimalField(
        _("tax rate"),
        max_digits=5,
        decimal_places=4,
        default=0,
        validators=[MinValueValidator(0)],
        help_text=_("e.g. 0.09 for 9%, 0.03 for the simple method, 0 when not taxable"),
    )
    sort_order = models.PositiveIntegerField(_("sort order"), default=0)
    active = models.BooleanField(_("active"), default=True)

    objects = ScopedManager()
    zone_scope = None

    class Meta:
        verbose_name = _("price item")
        verbose_name_plural = _("price items")
        ordering = ["sort_order", "code"]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("tariffs:item_detail", args=[self.pk])

    @property
    def is_agency(self):
        """Agency items (代收) are invoiced separately from the water invoice."""
        return self.revenue_kind == RevenueKind.AGENCY


class CategoryKind(models.TextChoices):
    RESIDENTIAL = "residential", _("Residential")
    NON_RESIDENTIAL = "non_residential", _("Non-residential")
    SPECIAL = "special", _("Special industry")
    SHARED = "shared", _("Shared-meter households")
    OTHER = "other", _("Other")


class WaterCategory(models.Model):
    """A water-use category (用水类别): what a customer's meter is billed as."""

    code = models.CharField(_("code"), max_length=20, unique=True, validators=[code_validator])
    name = models.CharField(_("name"), max_length=50, unique=True)
    kind = models.CharField(_("kind"), max_length=16, choices=CategoryKind.choices)
    sort_order = models.PositiveIntegerField(_("sort order"), default=0)
    active = models.BooleanField(_("active"), default=True)

    objects = ScopedManager()
    zone_scope = None

    class Meta:
        verbose_name = _("water-use category")
        verbose_name_plural = _("water-use categories")
        ordering = ["sort_order", "code"]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("tariffs:category_detail", args=[self.pk])


class Tariff(models.Model):
    """A tariff of a water-use category; its prices live in effective-dated versions (F11.3)."""

    code = models.CharField(_("code"), max_length=20, unique=True, validators=[code_validator])
    name = models.CharField(_("name"), max_length=50, unique=True)
    category = models.ForeignKey(
        WaterCategory,
        verbose_name=_("water-use category"),
        on_delete=models.PROTECT,
        related_name="tariffs",
    )
    note = models.CharField(_("note"), max_length=200, blank=True)
    active = models.BooleanField(_("active"), default=True)

    objects = ScopedManager()
    zone_scope = None

    class Meta:
        verbose_name = _("tariff")
        verbose_name_plural = _("tariffs")
        ordering = ["category__sort_order", "code"]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("tariffs:tariff_detail", args=[self.pk])


class TierMode(models.TextChoices):
    FLAT = "flat", _("No tiers")
    MONTHLY = "monthly", _("Monthly tiers")
    CYCLIC = "cyclic", _("Cumulative tiers over a 12-month cycle")


class TariffVersion(models.Model):
    """The complete price list of a tariff from ``effective_from`` until the next version."""

    tariff = models.ForeignKey(
        Tariff, verbose_name=_("tariff"), on_delete=models.PROTECT, related_name="versions"
    )
    effective_from = models.DateField(_("effective from"))
    tier_mode = models.CharField(
        _("tiers"), max_length=10, choices=TierMode.choices, default=TierMode.FLAT
    )
    cycle_start_month = models.PositiveSmallIntegerField(
        _("cycle starts in month"),
        default=1,
        validators=[MinValueValidator(1)],
        help_text=_("For cumulative tiers: the month the 12-month tier cycle begins."),
    )
    base_household_size = models.PositiveSmallIntegerField(
        _("base household size"),
        default=4,
        help_text=_("Tier thresholds apply as set up to this many people."),
    )
    person_step = models.DecimalField(
        _("extra volume per extra person"),
        max_digits=8,
        decimal_places=2,
        default=0,
        validators=[MinValueValidator(0)],
        help_text=_(
            "m³ added to the widened tiers for each person above the base size (per month or per cycle)."
        ),
    )
    widen_tiers = models.CharField(
        _("tiers widened per person"),
        max_length=20,
        blank=True,
        default="1",
        help_text=_("Tier numbers, comma separated, e.g. 1 or 1,2"),
    )
    quota_base_item = models.ForeignKey(
        PriceItem,
        verbose_name=_("quota surcharge base item"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_("Over-quota surcharges are multiples of this item's price."),
    )
    quota_surcharge_item = models.ForeignKey(
        PriceItem,
        verbose_name=_("quota surcharge billed as"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    note = models.CharField(_("note"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )

    objects = ScopedManager()
    zone_scope = None

    class Meta:
        verbose_name = _("tariff version")
        verbose_name_plural = _("tariff versions")
        ordering = ["tariff", "-effective_from"]
        constraints = [
            models.UniqueConstraint(
                fields=["tariff", "effective_from"], name="tariffs_version_unique_start"
            ),
            models.CheckConstraint(
                condition=models.Q(cycle_start_month__gte=1, cycle_start_month__lte=12),
                name="tariffs_version_cycle_month",
            ),
        ]

    def __str__(self):
        return f"{self.tariff} {self.effective_from:%Y-%m-%d}"

    def get_absolute_url(self):
        return reverse("tariffs:version_detail", args=[self.pk])

    def widened_tier_numbers(self):
        return frozenset(
            int(n) for n in self.widen_tiers.replace("，", ",").split(",") if n.strip()
        )


class TariffTier(models.Model):
    """A tier of a version: volumes up to ``upper`` m³ (no upper: everything above)."""

    version = models.ForeignKey(TariffVersion, on_delete=models.CASCADE, related_name="tiers")
    number = models.PositiveSmallIntegerField(_("tier"))
    upper = models.DecimalField(
        _("up to (m³)"), max_digits=10, decimal_places=2, null=True, blank=True
    )

    class Meta:
        ordering = ["version", "number"]
        constraints = [
            models.UniqueConstraint(fields=["version", "number"], name="tariffs_tier_unique"),
        ]

    def __str__(self):
        return f"{self.number}: ≤ {self.upper}" if self.upper is not None else f"{self.number}: >"


class TariffPrice(models.Model):
    """The unit price of one item in a version: flat (``tier`` empty) or for one tier."""

    version = models.ForeignKey(TariffVersion, on_delete=models.CASCADE, related_name="prices")
    item = models.ForeignKey(
        PriceItem, verbose_name=_("price item"), on_delete=models.PROTECT, related_name="+"
    )
    tier = models.PositiveSmallIntegerField(_("tier"), null=True, blank=True)
    unit_price = models.DecimalField(
        _("unit price"), max_digits=10, decimal_places=4, validators=[MinValueValidator(0)]
    )

    class Meta:
        ordering = ["version", "item__sort_order", "tier"]
        constraints = [
            models.UniqueConstraint(
                fields=["version", "item", "tier"], name="tariffs_price_unique"
            ),
        ]

    def __str__(self):
        return f"{self.item} {self.tier or ''} {self.unit_price}"


class QuotaBracket(models.Model):
    """Over-quota surcharge (超计划累进加价): volume up to ``upper_percent`` over plan pays
    ``multiple`` × the base item's price extra (no upper: everything beyond)."""

    version = models.ForeignKey(
        TariffVersion, on_delete=models.CASCADE, related_name="quota_brackets"
    )
    number = models.PositiveSmallIntegerField(_("bracket"))
    upper_percent = models.DecimalField(
        _("limit: percent over plan"), max_digits=7, decimal_places=2, null=True, blank=True
    )
    multiple = models.DecimalField(_("times the base price"), max_digits=6, decimal_places=2)

    class Meta:
        ordering = ["version", "number"]
        constraints = [
            models.UniqueConstraint(fields=["version", "number"], name="tariffs_bracket_unique"),
        ]

    def __str__(self):
        return f"{self.number}: ≤ {self.upper_percent}% × {self.multiple}"


class SurchargeKind(models.TextChoices):
    PER_M3 = "per_m3", _("Per m³")
    FIXED = "fixed", _("Fixed per bill")


class Surcharge(models.Model):
    """An extra fee of a version (F11.5): per m³ or fixed per bill, billed as ``item``."""

    version = models.ForeignKey(TariffVersion, on_delete=models.CASCADE, related_name="surcharges")
    item = models.ForeignKey(
        PriceItem, verbose_name=_("price item"), on_delete=models.PROTECT, related_name="+"
    )
    kind = models.CharField(_("kind"), max_length=8, choices=SurchargeKind.choices)
    amount = models.DecimalField(
        _("amount"), max_digits=10, decimal_places=4, validators=[MinValueValidator(0)]
    )

    class Meta:
        ordering = ["version", "item__sort_order"]

    def __str__(self):
        return f"{self.item} {self.get_kind_display()} {self.amount}"


class Caliber(models.TextChoices):
    DN15 = "DN15", "DN15"
    DN20 = "DN20", "DN20"
    DN25 = "DN25", "DN25"
    DN32 = "DN32", "DN32"
    DN40 = "DN40", "DN40"
    DN50 = "DN50", "DN50"
    DN80 = "DN80", "DN80"
    DN100 = "DN100", "DN100"
    DN150 = "DN150", "DN150"
    DN200 = "DN200", "DN200"
    DN300 = "DN300", "DN300"


class MinimumVolume(models.Model):
    """The minimum billable volume per month of a meter caliber in a category (F11.4)."""

    category = models.ForeignKey(
        WaterCategory,
        verbose_name=_("water-use category"),
        on_delete=models.PROTECT,
        related_name="minimums",
    )
    caliber = models.CharField(_("caliber"), max_length=6, choices=Caliber.choices)
    monthly_volume = models.DecimalField(
        _("minimum m³ per month"),
        max_digits=10,
        decimal_places=2,
        validators=[MinValueValidator(0)],
    )

    objects = ScopedManager()
    zone_scope = None

    class Meta:
        verbose_name = _("minimum volume")
        verbose_name_plural = _("minimum volumes")
        ordering = ["category__sort_order", "caliber"]
        constraints = [
            models.UniqueConstraint(fields=["category", "caliber"], name="tariffs_minimum_unique"),
        ]

    def __str__(self):
        return f"{self.category} {self.caliber}: {self.monthly_volume} m³"

    def get_absolute_url(self):
        return reverse("tariffs:minimum_list")
