"""Meter reading (M2): reading periods, readings, splits and monitored meters.

A reading period is one book's reading round for a billing month (or, with no
book, the month's round of a zone's master meters). Opening a period writes one
reading row per meter with the previous reading and the recent average filled
in; entering a reading fills in the current value, the volume and what the
checks found. Rows are never deleted; corrections are journaled.
"""

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from watermis.core.scoping import ScopedManager
from watermis.customers.models import Book, Customer, Meter
from watermis.org.models import Employee, Zone


class PeriodStatus(models.TextChoices):
    OPEN = "open", pgettext_lazy("period", "Open")
    CLOSED = "closed", pgettext_lazy("period", "Closed")


class ReadingPeriod(models.Model):
    """One book's reading round in a billing month; with no book, a zone's master meters'."""

    zone = models.ForeignKey(
        Zone, verbose_name=_("zone"), on_delete=models.PROTECT, related_name="reading_periods"
    )
    book = models.ForeignKey(
        Book,
        verbose_name=_("reading book"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="periods",
    )
    month = models.DateField(_("billing month"), db_index=True)
    planned_on = models.DateField(_("planned reading date"))
    status = models.CharField(
        _("status"), max_length=8, choices=PeriodStatus.choices, default=PeriodStatus.OPEN
    )
    opened_at = models.DateTimeField(_("opened at"), auto_now_add=True)
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("opened by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)

    objects = ScopedManager()
    zone_scope = "zone"

    class Meta:
        verbose_name = _("reading period")
        verbose_name_plural = _("reading periods")
        ordering = ["-month", "zone__sort_order", "book__code"]
        constraints = [
            models.UniqueConstraint(
                fields=["book", "month"],
                condition=models.Q(book__isnull=False),
                name="readings_period_book_month",
            ),
            models.UniqueConstraint(
                fields=["zone", "month"],
                condition=models.Q(book__isnull=True),
                name="readings_period_master_month",
            ),
        ]

    def __str__(self):
        what = self.book or _("master meters of %(zone)s") % {"zone": self.zone}
        return f"{self.month:%Y-%m} {what}"

    def get_absolute_url(self):
        return reverse("readings:period_detail", args=[self.pk])

    @property
    def is_master(self):
        return self.book_id is None


class ReadingSource(models.TextChoices):
    MANUAL = "manual", _("Typed in")
    HANDHELD = "handheld", _("Handheld file")
    PHONE = "phone", _("Phone app")
    REMOTE = "remote", _("Remote reading")


class StatusCode(models.TextChoices):
    """What the reader found at the meter (抄见状态)."""

    NORMAL = "normal", _("Normal")
    SAME = "same", _("Same as last time")
    NOBODY_HOME = "nobody_home", _("Nobody home")
    CLOSED_BUSINESS = "closed_business", _("Business closed")
    VALVE_SHUT = "valve_shut", _("Valve shut")
    NO_USE = "no_use", _("Not in use")
    STOPPED = "stopped", _("Meter stopped")
    NO_METER = "no_meter", _("Meter missing")
    REVERSE = "reverse", _("Running backwards")
    OBSCURED = "obscured", _("Dial unreadable")
    FAILED = "failed", _("Meter failed")
    SELF_RUNNING = "self_running", _("Running without use")
    ABNORMAL = "abnormal", _("Abnormal data")


class ReadingState(models.TextChoices):
    PENDING = "pending", _("Not read")
    ENTERED = "entered", _("Entered")
    HELD = "held", _("Held for confirmation")


class Anomaly(models.TextChoices):
    ZERO = "zero", _("Zero consumption")
    HIGH = "high", _("Above the usual band")
    LOW = "low", _("Below the usual band")
    SUPERVISOR = "supervisor", _("Far above average (supervisor)")
    ROLLOVER = "rollover", _("Dial rolled over")
    OVER_MAXIMUM = "over_maximum", _("Above the meter's physical maximum")


class Reading(models.Model):
    """One read of one meter in one period (``sequence`` 2 and 3 for monitored meters).

    ``previous`` is where the read starts (the last read's ``closing``, or the
    meter's initial reading); ``volume`` and ``closing`` come from
    :func:`watermis.readings.consumption.consumption`. A meter replaced in the
    period adds its remainder: ``old_final − old_previous``.
    """

    period = models.ForeignKey(
        ReadingPeriod,
        verbose_name=_("reading period"),
        on_delete=models.PROTECT,
        related_name="readings",
    )
    meter = models.ForeignKey(
        Meter, verbose_name=_("meter"), on_delete=models.PROTECT, related_name="readings"
    )
    customer = models.ForeignKey(
        Customer,
        verbose_name=_("customer"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="readings",
    )
    zone = models.ForeignKey(
        Zone, verbose_name=_("zone"), on_delete=models.PROTECT, related_name="+"
    )
    book = models.ForeignKey(
        Book,
        verbose_name=_("reading book"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    route_order = models.PositiveIntegerField(_("route order"), default=0)
    sequence = models.PositiveSmallIntegerField(_("read of the month"), default=1)

    previous = models.DecimalField(_("previous reading"), max_digits=12, decimal_places=2)
    previous_on = models.DateField(_("previous reading date"), null=True, blank=True)
    previous_estimated = models.BooleanField(_("previous reading estimated"), default=False)
    average = models.DecimalField(
        _("recent average"), max_digits=12, decimal_places=2, null=True, blank=True
    )
    replaced_meter = models.ForeignKey(
        Meter,
        verbose_name=_("replaced meter"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    old_previous = models.DecimalField(
        _("old meter previous reading"), max_digits=12, decimal_places=2, null=True, blank=True
    )
    old_final = models.DecimalField(
        _("old meter final reading"), max_digits=12, decimal_places=2, null=True, blank=True
    )

    current = models.DecimalField(
        _("current reading"),
        max_digits=12,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(0)],
    )
    read_on = models.DateField(_("read on"), null=True, blank=True)
    volume = models.DecimalField(
        _("consumption"), max_digits=12, decimal_places=2, null=True, blank=True
    )
    closing = models.DecimalField(
        _("carried reading"), max_digits=12, decimal_places=2, null=True, blank=True
    )
    status_code = models.CharField(
        _("meter status"), max_length=16, choices=StatusCode.choices, default=StatusCode.NORMAL
    )
    rolled_over = models.BooleanField(_("dial rolled over"), default=False)
    estimated = models.BooleanField(_("estimated"), default=False)
    minimum_exempt = models.BooleanField(_("no minimum volume"), default=False)
    source = models.CharField(
        _("entered by way of"),
        max_length=10,
        choices=ReadingSource.choices,
        default=ReadingSource.MANUAL,
    )
    state = models.CharField(
        _("state"), max_length=8, choices=ReadingState.choices, default=ReadingState.PENDING
    )
    anomaly = models.CharField(
        _("anomaly"), max_length=16, choices=Anomaly.choices, blank=True, db_index=True
    )
    reason = models.CharField(_("reason"), max_length=200, blank=True)
    note = models.CharField(_("note"), max_length=200, blank=True)
    reader = models.ForeignKey(
        Employee,
        verbose_name=_("meter reader"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("entered by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    entered_at = models.DateTimeField(_("entered at"), null=True, blank=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("approved by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    billed = models.BooleanField(_("billed"), default=False)

    objects = ScopedManager()
    zone_scope = "zone"

    class Meta:
        verbose_name = _("meter reading")
        verbose_name_plural = _("meter readings")
        ordering = ["period", "route_order", "meter_id", "sequence"]
        permissions = [("approve_reading", _("Approve readings far above average"))]
        constraints = [
            models.UniqueConstraint(
                fields=["period", "meter", "sequence"], name="readings_reading_once"
            ),
            models.CheckConstraint(
                condition=models.Q(sequence__gte=1, sequence__lte=3),
                name="readings_reading_sequence_1_3",
            ),
        ]
        indexes = [
            models.Index(fields=["period", "route_order"], name="readings_route_idx"),
            models.Index(fields=["meter", "read_on"], name="readings_meter_idx"),
        ]

    def __str__(self):
        return f"{self.period.month:%Y-%m} {self.meter.number}"

    def get_absolute_url(self):
        return reverse("readings:reading_detail", args=[self.pk])

    @property
    def is_read(self):
        return self.state != ReadingState.PENDING


class ReadingSplit(models.Model):
    """One billable part of a read's volume (F2.4): a period's volume billed as 2+ bills."""

    reading = models.ForeignKey(
        Reading, verbose_name=_("meter reading"), on_delete=models.PROTECT, related_name="splits"
    )
    part = models.PositiveSmallIntegerField(_("part"))
    volume = models.DecimalField(_("volume"), max_digits=12, decimal_places=2)
    note = models.CharField(_("note"), max_length=200, blank=True)
    active = models.BooleanField(_("active"), default=True)

    objects = ScopedManager()
    zone_scope = "reading__zone"

    class Meta:
        verbose_name = _("volume split")
        verbose_name_plural = _("volume splits")
        ordering = ["reading", "part"]

    def __str__(self):
        return f"{self.reading} #{self.part} {self.volume}"


class MonitoredMeter(models.Model):
    """A meter under watch (F2.5): read up to three times a month while ``until`` is open."""

    meter = models.ForeignKey(
        Meter, verbose_name=_("meter"), on_delete=models.PROTECT, related_name="monitoring"
    )
    zone = models.ForeignKey(
        Zone, verbose_name=_("zone"), on_delete=models.PROTECT, related_name="+"
    )
    since = models.DateField(_("from"))
    until = models.DateField(_("until"), null=True, blank=True)
    reason = models.CharField(_("reason"), max_length=200)
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("added by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )

    objects = ScopedManager()
    zone_scope = "zone"

    class Meta:
        verbose_name = _("monitored meter")
        verbose_name_plural = _("monitored meters")
        ordering = ["-since", "meter__number"]

    def __str__(self):
        return f"{self.meter} {self.since}"
