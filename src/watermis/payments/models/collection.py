"""Walking collection (走收): what collectors bring back (F3.2–F3.5).

A collector prints walking-collection invoices for the books assigned to them (the
invoices app, origin "collection"), walks the route and comes back with money and the
invoices the customers paid, the invoices nobody paid, and perhaps handwritten tickets.
A clerk registers it all here:

- :class:`Remittance` / :class:`RemittanceLine`: the paid invoices and manual tickets,
  each line a payment posted to the customer's ledger (channel ``collector``);
- returned invoices are voided through the invoices app (F3.3);
- :class:`InspectionTransfer`: bills handed to inspection-collection (转入稽收, F3.4),
  no longer counted against the collector.
"""

from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from watermis.core.scoping import ScopedManager


class Remittance(models.Model):
    """One registration of money a collector brought back (回款登记)."""

    collector = models.ForeignKey(
        "org.Operator",
        verbose_name=_("collector"),
        on_delete=models.PROTECT,
        related_name="remittances",
    )
    zone = models.ForeignKey("org.Zone", verbose_name=_("zone"), on_delete=models.PROTECT)
    registered_by = models.ForeignKey(
        "org.Operator",
        verbose_name=_("registered by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    registered_at = models.DateTimeField(_("registered at"))
    business_date = models.DateField(_("business date"))
    count = models.PositiveIntegerField(_("payments"))
    amount = models.DecimalField(_("amount"), max_digits=14, decimal_places=2)
    note = models.CharField(_("note"), max_length=200, blank=True)

    objects = ScopedManager()
    zone_scope = "zone"

    class Meta:
        verbose_name = _("remittance")
        verbose_name_plural = _("remittances")
        ordering = ["-registered_at", "-id"]
        indexes = [
            models.Index(fields=["collector", "business_date"], name="payments_remit_coll_idx")
        ]
        permissions = [
            (
                "register_remittance",
                _("Register what collectors bring back (paid, returned, transferred)"),
            )
        ]

    def __str__(self):
        return f"{self.collector} {self.business_date} ¥{self.amount}"

    def get_absolute_url(self):
        return reverse("payments:remittance_detail", args=[self.pk])


class RemittanceLine(models.Model):
    """One payment of a remittance: a walking-collection invoice the customer paid, or a
    handwritten ticket (手工票); the ledger entry it posted."""

    remittance = models.ForeignKey(
        Remittance, on_delete=models.PROTECT, related_name="lines", verbose_name=_("remittance")
    )
    collector = models.ForeignKey(
        "org.Operator", verbose_name=_("collector"), on_delete=models.PROTECT, related_name="+"
    )
    customer = models.ForeignKey(
        "customers.Customer", verbose_name=_("customer"), on_delete=models.PROTECT
    )
    invoice = models.ForeignKey(
        "invoices.Invoice",
        verbose_name=_("invoice"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="remittance_lines",
    )
    ticket = models.CharField(_("manual ticket number"), max_length=30, blank=True)
    amount = models.DecimalField(_("amount"), max_digits=14, decimal_places=2)
    entry = models.ForeignKey(
        "billing.LedgerEntry",
        verbose_name=_("ledger entry"),
        on_delete=models.PROTECT,
        related_name="+",
    )

    class Meta:
        verbose_name = _("remittance line")
        verbose_name_plural = _("remittance lines")
        constraints = [
            models.UniqueConstraint(
                fields=["invoice"],
                condition=Q(invoice__isnull=False),
                name="payments_remit_invoice_once",
            ),
            models.UniqueConstraint(
                fields=["collector", "ticket"],
                condition=~Q(ticket=""),
                name="payments_remit_ticket_once",
            ),
            models.CheckConstraint(
                condition=Q(invoice__isnull=False, ticket="")
                | Q(invoice__isnull=True) & ~Q(ticket=""),
                name="payments_remit_invoice_or_ticket",
            ),
            models.CheckConstraint(condition=Q(amount__gt=0), name="payments_remit_amount_pos"),
        ]

    def __str__(self):
        return self.ticket or str(self.invoice)


class InspectionTransfer(models.Model):
    """A bill handed from walking collection to inspection-collection (转入稽收, F3.4)."""

    bill = models.OneToOneField(
        "billing.Bill",
        verbose_name=_("bill"),
        on_delete=models.PROTECT,
        related_name="inspection_transfer",
    )
    zone = models.ForeignKey("org.Zone", verbose_name=_("zone"), on_delete=models.PROTECT)
    collector = models.ForeignKey(
        "org.Operator",
        verbose_name=_("collector"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    invoice = models.ForeignKey(
        "invoices.Invoice",
        verbose_name=_("invoice"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    transferred_by = models.ForeignKey(
        "org.Operator", verbose_name=_("transferred by"), on_delete=models.PROTECT, related_name="+"
    )
    transferred_at = models.DateTimeField(_("transferred at"))
    reason = models.CharField(_("reason"), max_length=200)

    objects = ScopedManager()
    zone_scope = "zone"

    class Meta:
        verbose_name = _("transfer to inspection")
        verbose_name_plural = _("transfers to inspection")
        ordering = ["-transferred_at", "-id"]

    def __str__(self):
        return f"#{self.bill_id}"
