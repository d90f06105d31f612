"""Counter payments and late-fee waivers (F3.8, F3.9, F3.20, F1.2, F7.8, F8.1; issue 8).

The money lives in the ledger (``billing``): a counter payment is one ``payment``
credit, a waiver one ``waiver`` credit, a late fee charged at the counter one
``late_fee`` debit. These tables are the counter's record of them:

- :class:`CounterPayment`: who took how much from whom, when, how (cash, card,
  scan, cheque...), what was tendered and given back, the small change kept as
  credit, the ledger entry it posted; cross-zone payments (F1.2) keep the
  cashier's zone beside the customer's and are reported under both. A reversal
  is a linked ledger entry (``reversal_entry``) with who, when and why: the
  payment row stays.
- :class:`CounterPaymentLine`: each bill the payment was for, what was due on it and
  how the money went (late fee, principal, waived).
- :class:`LateFeeWaiver`: late fee waived on a bill, by whom, authorised by whom when
  above the operator's limit, why (F7.8).
- :class:`WaiverLimit`: the largest waiver an operator of a role may grant without a
  supervisor (the parameter ``counter.waiver_limit`` for roles without one).
"""

from django.conf import settings
from django.contrib.auth.models import Group
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from watermis.core.scoping import ScopedManager, ScopedQuerySet


class CounterMethod(models.TextChoices):
    """How the customer paid at the counter (the day-end totals are by method)."""

    CASH = "cash", _("Cash")
    CARD = "card", _("Bank card (POS)")
    WECHAT = "wechat", _("WeChat scan")
    ALIPAY = "alipay", _("Alipay scan")
    CHEQUE = "cheque", _("Cheque")
    TRANSFER = "transfer", _("Bank transfer")


class CounterPaymentQuerySet(ScopedQuerySet):
    def in_zones(self, zones):
        """A cross-zone payment is seen in the customer's zone and in the cashier's (F1.2)."""
        if zones is None:
            return self
        return self.filter(Q(zone__in=zones) | Q(cashier_zone__in=zones))


class CounterPayment(models.Model):
    """One payment taken at the counter: the ledger credit it posted and the cash around it.

    ``amount`` went to the chosen bills (late fees and principal), ``change_kept``
    (small change the customer left) was credited too: the ledger entry is their
    sum. ``tendered`` − ``amount`` − ``change_kept`` = ``change`` given back.
    ``due`` and ``late_fee`` are what the chosen bills came to at the time (late
    fees as of that day), ``waived`` the late fee waived with the payment.
    """

    entry = models.OneToOneField(
        "billing.LedgerEntry",
        verbose_name=_("ledger entry"),
        on_delete=models.PROTECT,
        related_name="counter_payment",
    )
    customer = models.ForeignKey(
        "customers.Customer",
        verbose_name=_("customer"),
        on_delete=models.PROTECT,
        related_name="counter_payments",
    )
    zone = models.ForeignKey(
        "org.Zone",
        verbose_name=_("customer's zone"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    cashier = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("cashier"),
        on_delete=models.PROTECT,
        related_name="counter_payments",
    )
    unit = models.ForeignKey(
        "org.BusinessUnit",
        verbose_name=_("cashier's unit"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    cashier_zone = models.ForeignKey(
        "org.Zone",
        verbose_name=_("cashier's zone"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    cross_zone = models.BooleanField(_("cross-zone"), default=False)
    paid_at = models.DateTimeField(_("paid at"))
    business_date = models.DateField(_("business date"))
    method = models.CharField(
        _("paid by"), max_length=10, choices=CounterMethod.choices, default=CounterMethod.CASH
    )
    due = models.DecimalField(_("due on the chosen bills"), max_digits=14, decimal_places=2)
    late_fee = models.DecimalField(_("late fee in it"), max_digits=14, decimal_places=2, default=0)
    waived = models.DecimalField(_("late fee waived"), max_digits=14, decimal_places=2, default=0)
    amount = models.DecimalField(_("paid on the bills"), max_digits=14, decimal_places=2)
    change_kept = models.DecimalField(
        _("change kept as credit"), max_digits=14, decimal_places=2, default=0
    )
    tendered = models.DecimalField(_("tendered"), max_digits=14, decimal_places=2)
    change = models.DecimalField(_("change given"), max_digits=14, decimal_places=2, default=0)
    note = models.CharField(_("note"), max_length=200, blank=True)
    invoice_note = models.CharField(
        _("about the invoice"),
        max_length=200,
        blank=True,
        help_text=_("Why no invoice was printed at the payment, when none was."),
    )
    invoice_printed = models.BooleanField(
        _("invoice printed"),
        default=False,
        help_text=_("Its invoice was printed once; further prints are copies."),
    )
    reversal_entry = models.OneToOneField(
        "billing.LedgerEntry",
        verbose_name=_("reversal entry"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="reversed_counter_payment",
    )
    reversed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("reversed by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    reversed_at = models.DateTimeField(_("reversed at"), null=True, blank=True)
    reversed_on = models.DateField(_("reversal business date"), null=True, blank=True)
    reverse_reason = models.CharField(_("reason for the reversal"), max_length=200, blank=True)

    objects = models.Manager.from_queryset(CounterPaymentQuerySet)()
    zone_scope = "zone"

    class Meta:
        verbose_name = _("counter payment")
        verbose_name_plural = _("counter payments")
        ordering = ["-paid_at", "-id"]
        indexes = [
            models.Index(fields=["cashier", "business_date"], name="payments_counter_cashier_idx"),
            models.Index(fields=["zone", "business_date"], name="payments_counter_zone_idx"),
            models.Index(
                fields=["cashier_zone", "business_date"], name="payments_counter_czone_idx"
            ),
            models.Index(fields=["reversed_on"], name="payments_counter_reversed_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(amount__gt=0) & Q(change_kept__gte=0) & Q(change__gte=0),
                name="payments_counter_amounts",
            ),
            models.CheckConstraint(
                condition=Q(reversal_entry__isnull=True)
                | (Q(reversed_at__isnull=False) & ~Q(reverse_reason="")),
                name="payments_counter_reversal_has_reason",
            ),
        ]
        permissions = [
            ("take_payment", _("Take payments at the counter (and reverse their own, same day)")),
            ("reverse_any_payment", _("Reverse any counter payment (supervisor)")),
            ("pay_other_zone", _("Take payments for customers of other zones")),
        ]

    def __str__(self):
        return f"{self.pk} {self.customer_id} {self.credit}"

    def get_absolute_url(self):
        return reverse("payments:payment_detail", args=[self.pk])

    @property
    def credit(self):
        """What the ledger entry credited: the amount paid and the change kept."""
        return self.amount + self.change_kept

    @property
    def is_reversed(self):
        return self.reversal_entry_id is not None


class CounterPaymentLine(models.Model):
    """One bill of a counter payment: what was due on it and where the money went."""

    payment = models.ForeignKey(CounterPayment, on_delete=models.PROTECT, related_name="lines")
    bill = models.ForeignKey(
        "billing.Bill", verbose_name=_("bill"), on_delete=models.PROTECT, related_name="+"
    )
    principal = models.DecimalField(_("principal due"), max_digits=14, decimal_places=2)
    late_fee = models.DecimalField(_("late fee due"), max_digits=14, decimal_places=2, default=0)
    late_fee_entry = models.OneToOneField(
        "billing.LedgerEntry",
        verbose_name=_("late fee charged"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    waived = models.DecimalField(_("waived"), max_digits=14, decimal_places=2, default=0)
    paid_fee = models.DecimalField(_("late fee paid"), max_digits=14, decimal_places=2, default=0)
    paid_principal = models.DecimalField(
        _("principal paid"), max_digits=14, decimal_places=2, default=0
    )

    class Meta:
        verbose_name = _("bill of a counter payment")
        verbose_name_plural = _("bills of counter payments")
        ordering = ["payment", "id"]

    def __str__(self):
        return f"{self.payment_id} {self.bill_id}"

    @property
    def left(self):
        """What stays open on the bill after the payment."""
        return self.principal + self.late_fee - self.waived - self.paid_fee - self.paid_principal


class LateFeeWaiver(models.Model):
    """Late fee waived on one bill at the counter (F7.8): a ``waiver`` credit settling the
    bill's late-fee debits. Above the operator's limit a supervisor (``authoriser``,
    holding ``authorise_waiver``) signed it on the counter screen."""

    bill = models.ForeignKey(
        "billing.Bill", verbose_name=_("bill"), on_delete=models.PROTECT, related_name="+"
    )
    customer = models.ForeignKey(
        "customers.Customer",
        verbose_name=_("customer"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    zone = models.ForeignKey(
        "org.Zone", verbose_name=_("zone"), on_delete=models.PROTECT, related_name="+"
    )
    amount = models.DecimalField(_("amount waived"), max_digits=14, decimal_places=2)
    entry = models.ForeignKey(
        "billing.LedgerEntry",
        verbose_name=_("ledger entry"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    payment = models.ForeignKey(
        CounterPayment,
        verbose_name=_("payment"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="waivers",
    )
    operator = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("waived by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    authoriser = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("authorised by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    limit = models.DecimalField(
        _("operator's limit"),
        max_digits=14,
        decimal_places=2,
        null=True,
        blank=True,
        help_text=_("The operator's waiver limit when it was granted (empty: no limit)."),
    )
    reason = models.CharField(_("reason"), max_length=200)
    at = models.DateTimeField(_("at"))
    business_date = models.DateField(_("business date"))

    objects = ScopedManager()
    zone_scope = "zone"

    class Meta:
        verbose_name = _("late-fee waiver")
        verbose_name_plural = _("late-fee waivers")
        ordering = ["-at", "-id"]
        indexes = [
            models.Index(fields=["zone", "business_date"], name="payments_waiver_zone_idx"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="payments_waiver_positive"),
            models.CheckConstraint(condition=~Q(reason=""), name="payments_waiver_has_reason"),
        ]
        permissions = [
            ("authorise_waiver", _("Authorise late-fee waivers above an operator's limit")),
        ]

    def __str__(self):
        return f"{self.bill_id} {self.amount}"

    @property
    def above_limit(self):
        return self.authoriser_id is not None


class WaiverLimit(models.Model):
    """The largest late fee an operator of ``role`` waives on one payment without a
    supervisor. An operator with several roles has the highest of their limits; without
    any, the parameter ``counter.waiver_limit``."""

    role = models.OneToOneField(
        Group, verbose_name=_("role"), on_delete=models.PROTECT, related_name="waiver_limit"
    )
    limit = models.DecimalField(
        _("waiver limit"),
        max_digits=14,
        decimal_places=2,
        help_text=_("Yuan per payment; 0: every waiver needs a supervisor."),
    )

    objects = ScopedManager()
    zone_scope = None

    class Meta:
        verbose_name = _("waiver limit")
        verbose_name_plural = _("waiver limits")
        ordering = ["role__name"]
        constraints = [
            models.CheckConstraint(condition=Q(limit__gte=0), name="payments_waiverlimit_positive")
        ]

    def __str__(self):
        return f"{self.role} {self.limit}"

    def get_absolute_url(self):
        return reverse("payments:waiverlimit_edit", args=[self.pk])
