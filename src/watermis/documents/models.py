"""Document layouts (F11.8): how each kind of printed document is laid out on paper.

A layout places elements (texts, multi-line texts, tables, lines, boxes) on a
sheet of paper, in millimetres from the paper's top-left corner, so that a
pre-printed form can be overprinted (套打). Texts are templates over the kind's
field catalogue (:mod:`watermis.documents.catalogue`), rendered in a sandbox
(:mod:`watermis.documents.templating`). Elements flagged ``form`` are the
form's own printing (frame lines, captions): they print only when
``print_background`` is on, and always show in the preview.

One layout per kind is active: the one printed by default. Layouts are never
deleted; every change is journaled (:mod:`watermis.documents.services`).
"""

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from watermis.core.models import UnicodeJSONEncoder
from watermis.core.scoping import ScopedManager


class DocumentKind(models.TextChoices):
    WATER_INVOICE = "water_invoice", _("Water invoice")
    AGENCY_INVOICE = "agency_invoice", _("Agency-fee invoice")
    RECEIPT = "receipt", _("Receipt / payment-book line")
    PAYMENT_NOTICE = "payment_notice", _("Payment notice")
    ARREARS_NOTICE = "arrears_notice", _("Arrears notice")
    BANK_SLIP = "bank_slip", _("Bank collection slip")
    DEPOSIT_VOUCHER = "deposit_voucher", _("Prepaid deposit voucher")
    METER_CARD = "meter_card", _("Meter card")


def _mm(label, default, low, high, **kwargs):
    return models.DecimalField(
        label,
        max_digits=5,
        decimal_places=1,
        default=Decimal(default),
        validators=[MinValueValidator(Decimal(low)), MaxValueValidator(Decimal(high))],
        **kwargs,
    )


class DocumentLayout(models.Model):
    """The layout of one kind of document: paper, margins and the elements printed on it.

    ``elements`` is a list of dicts (docs/documents.md): ``type`` (text,
    multiline, table, line, box), ``x``/``y``/``w``/``h`` in mm, ``size`` (pt),
    ``bold``, ``align`` (L, C, R), ``form`` (part of the pre-printed form),
    ``template``; a table adds ``rows`` (the list it prints), ``row_height``,
    ``border`` and ``columns`` (``width``, ``align``, ``title``, ``template``);
    lines and boxes have ``stroke`` (mm). ``clean`` checks them all.
    """

    kind = models.CharField(_("document"), max_length=20, choices=DocumentKind.choices)
    name = models.CharField(_("name"), max_length=100)
    active = models.BooleanField(
        _("active"), default=False, help_text=_("Printed by default (one layout per document).")
    )
    paper_width = _mm(_("paper width (mm)"), "210", "30", "600")
    paper_height = _mm(_("paper height (mm)"), "297", "30", "1200")
    margin_top = _mm(_("top margin (mm)"), "0", "0", "100")
    margin_right = _mm(_("right margin (mm)"), "0", "0", "100")
    margin_bottom = _mm(_("bottom margin (mm)"), "0", "0", "100")
    margin_left = _mm(_("left margin (mm)"), "0", "0", "100")
    offset_x = _mm(
        _("shift right (mm)"),
        "0",
        "-30",
        "30",
        help_text=_("Printer calibration: moves everything right (negative: left)."),
    )
    offset_y = _mm(
        _("shift down (mm)"),
        "0",
        "-30",
        "30",
        help_text=_("Printer calibration: moves everything down (negative: up)."),
    )
    per_sheet = models.PositiveSmallIntegerField(
        _("documents per sheet"),
        default=1,
        validators=[MinValueValidator(1), MaxValueValidator(6)],
        help_text=_(
            "Documents printed one under another on one sheet (3 receipts of 99 mm on A4)."
        ),
    )
    copies = models.PositiveSmallIntegerField(
        _("copies"),
        default=1,
        validators=[MinValueValidator(1), MaxValueValidator(5)],
        help_text=_("Each document printed this many times in a row."),
    )
    print_background = models.BooleanField(
        _("print the form"),
        default=True,
        help_text=_(
            "Off for pre-printed forms (套打): only the data prints; the elements marked "
            '"form" show in the preview only.'
        ),
    )
    elements = models.JSONField(_("elements"), default=list, blank=True, encoder=UnicodeJSONEncoder)
    note = models.CharField(_("note"), max_length=200, blank=True)

    objects = ScopedManager()
    zone_scope = None

    class Meta:
        verbose_name = _("document layout")
        verbose_name_plural = _("document layouts")
        ordering = ["kind", "-active", "name", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["kind"],
                condition=Q(active=True),
                name="documents_one_active_layout_per_kind",
                violation_error_message=_("Only one layout of a document can be active."),
            ),
        ]
        permissions = [
            ("print_meter_cards", _("Print meter cards")),
            ("print_notices", _("Print payment and arrears notices")),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} · {self.name}"

    def get_absolute_url(self):
        return reverse("documents:layout_detail", args=[self.pk])

    def clean(self):
        """Refuses a layout that cannot print: each message names the element and the rule."""
        from .layout import LayoutSpec, validate

        super().clean()
        numbers = ("paper_width", "paper_height", "margin_top", "margin_right")
        numbers += ("margin_bottom", "margin_left", "offset_x", "offset_y", "per_sheet", "copies")
        if self.kind not in DocumentKind.values or any(getattr(self, n) is None for n in numbers):
            return  # the field errors say what is missing
        if not isinstance(self.elements, list):
            raise ValidationError({"elements": _("The elements must be a list.")})
        errors = {}
        for problem in validate(LayoutSpec.from_layout(self)):
            key = problem.field if problem.index is None and problem.field else "elements"
            errors.setdefault(key, []).append(problem.message)
        if errors:
            raise ValidationError(errors)
