import django_tables2 as tables
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from .models import MinimumVolume, PriceItem, Tariff, TierMode, WaterCategory
from .templatetags.tariff_format import plain


def percent(rate):
    return f"{plain(rate * 100)}%"


class PriceItemTable(tables.Table):
    code = tables.Column(linkify=True)
    name = tables.Column(linkify=True)

    class Meta:
        model = PriceItem
        fields = (
            "code",
            "name",
            "revenue_kind",
            "collected_for",
            "tax_treatment",
            "tax_rate",
            "sort_order",
            "active",
        )

    def render_tax_rate(self, value):
        return percent(value)

    def value_tax_rate(self, value):
        return value


class WaterCategoryTable(tables.Table):
    code = tables.Column(linkify=True)
    name = tables.Column(linkify=True)
    tariff_count = tables.Column(
        _("Tariffs"), attrs={"th": {"class": "text-end"}, "td": {"class": "text-end"}}
    )

    class Meta:
        model = WaterCategory
        fields = ("code", "name", "kind", "tariff_count", "sort_order", "active")


def _version_link(pk, day):
    if day is None:
        return "—"
    return format_html(
        '<a href="{}">{}</a>', reverse("tariffs:version_detail", args=[pk]), f"{day:%Y-%m-%d}"
    )


class TariffTable(tables.Table):
    """Tariffs with the version in force today and the next one scheduled (annotated)."""

    code = tables.Column(linkify=True)
    name = tables.Column(linkify=True)
    current_from = tables.Column(_("In force since"), empty_values=())
    current_mode = tables.Column(_("Tiers"), empty_values=())
    next_from = tables.Column(_("Next version from"), empty_values=())

    class Meta:
        model = Tariff
        fields = (
            "code",
            "name",
            "category",
            "current_from",
            "current_mode",
            "next_from",
            "active",
            "note",
        )

    def render_current_from(self, record):
        return _version_link(record.current_id, record.current_from)

    def value_current_from(self, record):
        return record.current_from

    def render_current_mode(self, record):
        return TierMode(record.current_mode).label if record.current_mode else "—"

    def value_current_mode(self, record):
        return TierMode(record.current_mode).label if record.current_mode else ""

    def render_next_from(self, record):
        return _version_link(record.next_id, record.next_from)

    def value_next_from(self, record):
        return record.next_from


class MinimumVolumeTable(tables.Table):
    category = tables.Column(linkify=True)
    caliber = tables.Column(order_by=("caliber_order",))
    monthly_volume = tables.Column(attrs={"th": {"class": "text-end"}, "td": {"class": "text-end"}})
    edit = tables.Column(
        "",
        empty_values=(),
        orderable=False,
        exclude_from_export=True,
        attrs={"td": {"class": "text-end"}},
    )

    class Meta:
        model = MinimumVolume
        fields = ("category", "caliber", "monthly_volume", "edit")

    def before_render(self, request):
        if not request.user.has_perm("tariffs.change_minimumvolume"):
            self.columns.hide("edit")

    def render_monthly_volume(self, value):
        return plain(value)

    def value_monthly_volume(self, value):
        return value

    def render_edit(self, record):
        return format_html(
            '<a class="btn btn-sm btn-outline-primary py-0" href="{}">{}</a>',
            reverse("tariffs:minimum_edit", args=[record.pk]),
            _("Edit"),
        )
