"""Tariff pages (F11.2–F11.5): price items, water-use categories, tariffs and their
effective-dated versions, minimum volumes, and the tariff preview a cashier uses to
explain a bill. Data changes only through ``services``; prices come from ``calculator``.
"""

import datetime
from decimal import Decimal

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Case, Count, IntegerField, OuterRef, Q, Subquery, Value, When
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.generic import TemplateView

from watermis.core.money import from_centi
from watermis.core.views import (
    ObjectDetailView,
    ObjectEditView,
    ObjectListView,
    PermissionMixin,
    ScopedViewMixin,
)

from . import calculator, queries, services
from .filtersets import (
    MinimumVolumeFilterSet,
    PriceItemFilterSet,
    TariffFilterSet,
    WaterCategoryFilterSet,
)
from .forms import (
    MinimumVolumeForm,
    PreviewForm,
    PriceItemForm,
    TariffForm,
    TariffVersionForm,
    WaterCategoryForm,
    default_period,
    version_initial,
)
from .models import (
    Caliber,
    MinimumVolume,
    PriceItem,
    SurchargeKind,
    Tariff,
    TariffVersion,
    TierMode,
    WaterCategory,
)
from .tables import (
    MinimumVolumeTable,
    PriceItemTable,
    TariffTable,
    WaterCategoryTable,
    percent,
)
from .templatetags.tariff_format import plain

# --- shared helpers -------------------------------------------------------------------


def with_versions(queryset, today):
    """Tariffs annotated with the version in force ``today`` and the next one scheduled."""
    versions = TariffVersion.objects.filter(tariff=OuterRef("pk"))
    current = versions.filter(effective_from__lte=today).order_by("-effective_from")
    upcoming = versions.filter(effective_from__gt=today).order_by("effective_from")
    return queryset.annotate(
        current_id=Subquery(current.values("pk")[:1]),
        current_from=Subquery(current.values("effective_from")[:1]),
        current_mode=Subquery(current.values("tier_mode")[:1]),
        next_id=Subquery(upcoming.values("pk")[:1]),
        next_from=Subquery(upcoming.values("effective_from")[:1]),
    )


def by_caliber(queryset):
    """Minimum volumes in caliber order (DN15, DN20 ... DN100, not as text: DN100, DN15)."""
    order = Case(
        *[When(caliber=value, then=Value(n)) for n, value in enumerate(Caliber.values)],
        default=Value(len(Caliber.values)),
        output_field=IntegerField(),
    )
    return queryset.annotate(caliber_order=order).order_by(
        "category__sort_order", "category__code", "caliber_order"
    )


def version_in_force(versions, today):
    """The version in force on ``today`` among ``versions`` (oldest first), or None."""
    found = None
    for version in versions:
        if version.effective_from <= today:
            found = version
    return found


def version_status(version, current, today):
    if current is not None and version.pk == current.pk:
        return "current", _("In force")
    if version.effective_from > today:
        return "scheduled", _("Scheduled")
    return "past", _("Superseded")


def tier_ranges(uppers):
    """Labels of the tiers' m³ ranges from their upper limits: "0–180", "180–260", "> 260"."""
    labels, lower = [], Decimal(0)
    for upper in uppers:
        if upper is None:
            labels.append(f"> {plain(lower)}")
        else:
            upper = Decimal(upper)
            labels.append(f"{plain(lower)}–{plain(upper)}")
            lower = upper
    return labels


def tier_unit(version):
    if version.tier_mode == TierMode.CYCLIC:
        return _("m³ per 12-month cycle from month %(month)s") % {
            "month": version.cycle_start_month
        }
    if version.tier_mode == TierMode.MONTHLY:
        return _("m³ per month")
    return ""


def household_rule(version):
    """How tier thresholds follow household size, in one sentence (None without tiers)."""
    if version.tier_mode == TierMode.FLAT:
        return None
    if not version.person_step:
        return _("The same thresholds for every household size.")
    return _(
        "Thresholds as shown for households of up to %(base)s people; each further person adds "
        "%(step)s m³ to tier %(tiers)s."
    ) % {
        "base": version.base_household_size,
        "step": plain(version.person_step),
        "tiers": version.widen_tiers,
    }


def bracket_rows(brackets):
    """(number, label "20%–30% over plan", multiple) from (upper percent, multiple) pairs."""
    rows, lower = [], Decimal(0)
    for number, (upper, multiple) in enumerate(brackets, start=1):
        if upper is None:
            label = _("more than %(low)s%% over plan") % {"low": plain(lower)}
        else:
            label = _("%(low)s%%–%(high)s%% over plan") % {
                "low": plain(lower),
                "high": plain(upper),
            }
            lower = Decimal(upper)
        rows.append((number, label, Decimal(multiple)))
    return rows


def price_table(version):
    """Everything the price table of one version shows (prefetch with ``VERSION_PREFETCH``)."""
    tiers = sorted(version.tiers.all(), key=lambda t: t.number)
    columns = max(len(tiers), 1)
    rows = [
        {"item": item, "flat": flat, "prices": prices}
        for item, flat, prices in queries.price_grid(version)
    ]
    totals = None
    if len(rows) > 1 and all(p is not None for row in rows for p in row["prices"]):
        totals = [sum(row["prices"][i] for row in rows) for i in range(columns)]
    brackets = sorted(version.quota_brackets.all(), key=lambda b: b.number)
    return {
        "version": version,
        "tiered": bool(tiers),
        "tiers": list(
            zip(range(1, len(tiers) + 1), tier_ranges([t.upper for t in tiers]), strict=True)
        ),
        "columns": columns,
        "unit": tier_unit(version),
        "household_rule": household_rule(version),
        "rows": rows,
        "totals": totals,
        "brackets": bracket_rows([(b.upper_percent, b.multiple) for b in brackets]),
        "quota_base_item": version.quota_base_item,
        "quota_surcharge_item": version.quota_surcharge_item,
        "surcharges": list(version.surcharges.all()),
    }


# --- price items (F11.2) ----------------------------------------------------------------


class PriceItemListView(ObjectListView):
    model = PriceItem
    table_class = PriceItemTable
    filterset_class = PriceItemFilterSet
    create_url = "tariffs:item_add"
    export_name = "price-items"


class PriceItemDetailView(ObjectDetailView):
    model = PriceItem
    edit_url = "tariffs:item_edit"

    def get_fields(self, obj):
        tax_rate = PriceItem._meta.get_field("tax_rate").verbose_name
        return [
            (label, percent(value) if label == tax_rate else value)
            for label, value in super().get_fields(obj)
        ]


class PriceItemEditView(ObjectEditView):
    model = PriceItem
    form_class = PriceItemForm
    create_service = services.create_price_item
    update_service = services.update_price_item


# --- water-use categories ------------------------------------------------------------------


class WaterCategoryListView(ObjectListView):
    model = WaterCategory
    table_class = WaterCategoryTable
    filterset_class = WaterCategoryFilterSet
    create_url = "tariffs:category_add"
    export_name = "water-use-categories"

    def get_queryset(self):
        return super().get_queryset().annotate(tariff_count=Count("tariffs"))


class WaterCategoryDetailView(ObjectDetailView):
    """A category with its tariffs and its minimum volumes by caliber."""

    model = WaterCategory
    edit_url = "tariffs:category_edit"
    template_name = "tariffs/category_detail.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        category, user = context["object"], self.request.user
        tariffs = list(
            with_versions(
                Tariff.objects.restrict(user).filter(category=category), timezone.localdate()
            )
        )
        for tariff in tariffs:
            tariff.current_mode_label = (
                TierMode(tariff.current_mode).label if tariff.current_mode else ""
            )
        context.update(
            tariffs=tariffs,
            minimums=by_caliber(MinimumVolume.objects.restrict(user).filter(category=category)),
            can_add_tariff=user.has_perm("tariffs.add_tariff"),
            can_add_minimum=user.has_perm("tariffs.add_minimumvolume"),
            can_change_minimum=user.has_perm("tariffs.change_minimumvolume"),
            show_minimums=user.has_perm("tariffs.view_minimumvolume"),
        )
        return context


class WaterCategoryEditView(ObjectEditView):
    model = WaterCategory
    form_class = WaterCategoryForm
    create_service = services.create_category
    update_service = services.update_category


# --- minimum volumes by caliber (F11.4) ------------------------------------------------------


class MinimumVolumeListView(ObjectListView):
    model = MinimumVolume
    table_class = MinimumVolumeTable
    filterset_class = MinimumVolumeFilterSet
    create_url = "tariffs:minimum_add"
    export_name = "minimum-volumes"

    def get_queryset(self):
        return by_caliber(super().get_queryset().select_related("category"))


class MinimumVolumeEditView(ObjectEditView):
    model = MinimumVolume
    form_class = MinimumVolumeForm
    create_service = services.create_minimum
    update_service = services.update_minimum
    success_url = "tariffs:minimum_list"

    def get_form(self, obj, data=None):
        initial = {}
        if obj is None and self.request.GET.get("category", "").isdigit():
            initial["category"] = self.request.GET["category"]
        return self.form_class(data, instance=obj, initial=initial, user=self.request.user)


# --- tariffs and versions (F11.3, F11.5) ---------------------------------------------------


class TariffListView(ObjectListView):
    model = Tariff
    table_class = TariffTable
    filterset_class = TariffFilterSet
    create_url = "tariffs:tariff_add"
    export_name = "tariffs"

    def get_queryset(self):
        queryset = super().get_queryset().select_related("category")
        return with_versions(queryset, timezone.localdate())


class TariffEditView(ObjectEditView):
    model = Tariff
    form_class = TariffForm
    create_service = services.create_tariff
    update_service = services.update_tariff


class TariffDetailView(ObjectDetailView):
    """A tariff, every version (the one in force highlighted) and one version's price table."""

    model = Tariff
    edit_url = "tariffs:tariff_edit"
    template_name = "tariffs/tariff_detail.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        tariff, user = context["object"], self.request.user
        today = timezone.localdate()
        versions = queries.versions_of(tariff)
        current = version_in_force(versions, today)
        by_pk = {v.pk: v for v in versions}
        chosen = self.request.GET.get("version", "")
        selected = by_pk.get(int(chosen)) if chosen.isdigit() else None
        if selected is None:
            selected = current or (versions[0] if versions else None)
        rows = []
        for version in reversed(versions):
            code, label = version_status(version, current, today)
            rows.append({"version": version, "status": code, "status_label": label})
        compare_href = None
        if len(versions) > 1 and selected is not None:
            index = versions.index(selected)
            other = versions[index - 1] if index > 0 else versions[1]
            a, b = sorted([other, selected], key=lambda v: v.effective_from)
            compare_href = (
                f"{reverse('tariffs:tariff_compare', args=[tariff.pk])}?a={a.pk}&b={b.pk}"
            )
        context.update(
            versions=rows,
            current=current,
            selected=selected,
            selected_status=version_status(selected, current, today) if selected else None,
            table=price_table(selected) if selected else None,
            can_add_version=user.has_perm("tariffs.add_tariffversion"),
            can_change_selected=bool(
                selected
                and selected.effective_from > today
                and user.has_perm("tariffs.change_tariffversion")
            ),
            compare_href=compare_href,
        )
        return context


class TariffVersionDetailView(ObjectDetailView):
    """One version: its settings, its price table and its journal."""

    model = TariffVersion
    edit_url = "tariffs:version_edit"
    template_name = "tariffs/version_detail.html"

    def get_object(self):
        queryset = self.get_queryset().select_related("tariff", "created_by")
        return get_object_or_404(
            queryset.prefetch_related(*queries.VERSION_PREFETCH), pk=self.kwargs["pk"]
        )

    def get_fields(self, obj):
        cyclic = obj.tier_mode == TierMode.CYCLIC
        tiered = obj.tier_mode != TierMode.FLAT
        rows = [
            (_("Tariff"), obj.tariff),
            (_("Effective from"), obj.effective_from),
            (_("Tiers"), obj.get_tier_mode_display()),
        ]
        if cyclic:
            rows.append((_("Cycle starts in month"), obj.cycle_start_month))
        if tiered:
            rows.append((_("Household size"), household_rule(obj)))
        rows += [
            (_("Note"), obj.note),
            (_("Created by"), obj.created_by),
            (_("Created at"), obj.created_at),
        ]
        return rows

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        version, user = context["object"], self.request.user
        today = timezone.localdate()
        versions = list(version.tariff.versions.order_by("effective_from"))
        current = version_in_force(versions, today)
        entries = context.pop("history")
        context.update(
            title=str(version),
            can_change=version.effective_from > today
            and user.has_perm("tariffs.change_tariffversion"),
            status=version_status(version, current, today),
            table=price_table(version),
            history=None,
            version_history=describe_history(entries) if entries is not None else None,
        )
        return context


def _next_month(day):
    return (day.replace(day=1) + datetime.timedelta(days=32)).replace(day=1)


def suggested_start(latest, today):
    """Prices change on the first of a month: the next one after today and the latest version."""
    start = _next_month(today)
    if latest is not None and start <= latest.effective_from:
        start = _next_month(latest.effective_from)
    return start


def add_version_errors(form, exc):
    """A service's ValidationError beside the field or section it names (others at the top)."""
    if not hasattr(exc, "error_dict"):
        form.add_error(None, exc)
        return
    for name, errors in exc.error_dict.items():
        if name in form.SECTIONS:
            form.add_section_error(name, ValidationError(errors).messages)
        elif name in form.fields:
            form.add_error(name, errors)
        else:
            form.add_error(None, errors)


def add_early_section_errors(form):
    """With field errors, still check the sections whose fields are all valid, so a person
    sees e.g. decreasing tier limits and a mistyped price in one round, not two."""
    try:
        services.validate_version(form.service_data())
    except ValidationError as exc:
        for name, errors in exc.error_dict.items():
            if name not in form.SECTIONS:
                continue
            fields = form.section_field_names(name)
            if name == "prices":  # how many prices an item needs depends on the tiers
                fields = [*fields, *form.section_field_names("tiers")]
            if not any(field in form.errors for field in fields):
                form.add_section_error(name, ValidationError(errors).messages)


class TariffVersionEditView(ScopedViewMixin, TemplateView):
    """Add a version to a tariff (prefilled from the latest one), or change a future version."""

    model = TariffVersion
    template_name = "tariffs/version_form.html"

    def dispatch(self, request, *args, **kwargs):
        self.action = "change" if "pk" in kwargs else "add"
        return super().dispatch(request, *args, **kwargs)

    def load(self):
        """(tariff, version being changed or None, version to prefill from or None)."""
        if "pk" in self.kwargs:
            version = get_object_or_404(
                self.get_queryset().select_related("tariff"), pk=self.kwargs["pk"]
            )
            return version.tariff, version, version
        tariff = get_object_or_404(
            Tariff.objects.restrict(self.request.user), pk=self.kwargs["tariff_pk"]
        )
        return tariff, None, tariff.versions.order_by("-effective_from").first()

    def items(self, source):
        """Price items offered in the grid: the active ones and those of the source version."""
        queryset = PriceItem.objects.restrict(self.request.user)
        if source is not None:
            return queryset.filter(Q(active=True) | Q(pk__in=source.prices.values("item")))
        return queryset.filter(active=True)

    def refuse_if_in_force(self, version):
        if version is not None and version.effective_from <= timezone.localdate():
            messages.error(
                self.request,
                _("This version is in force already: add a new version instead of changing it."),
            )
            return redirect(version)
        return None

    def render_form(self, form, tariff, version, source):
        if version is None:
            title = _("New version of %(tariff)s") % {"tariff": tariff}
        else:
            title = _("Change version %(version)s") % {"version": version}
        cancel = version.get_absolute_url() if version else tariff.get_absolute_url()
        context = self.get_context_data(
            form=form, tariff=tariff, version=version, source=source, title=title, cancel=cancel
        )
        return self.render_to_response(context)

    def get(self, request, *args, **kwargs):
        tariff, version, source = self.load()
        refused = self.refuse_if_in_force(version)
        if refused:
            return refused
        initial = version_initial(services.version_data(source)) if source else {}
        if version is None:
            initial["effective_from"] = suggested_start(source, timezone.localdate())
        else:
            initial["effective_from"] = version.effective_from
        form = TariffVersionForm(initial=initial, items=self.items(source), user=request.user)
        return self.render_form(form, tariff, version, source)

    def post(self, request, *args, **kwargs):
        tariff, version, source = self.load()
        refused = self.refuse_if_in_force(version)
        if refused:
            return refused
        form = TariffVersionForm(request.POST, items=self.items(source), user=request.user)
        if not form.is_valid():
            add_early_section_errors(form)
        else:
            data = form.service_data()
            try:
                if version is None:
                    saved = services.create_version(request.user, tariff, data)
                else:
                    saved = services.update_version(request.user, version, data)
            except ValidationError as exc:
                add_version_errors(form, exc)
            except PermissionDenied as exc:
                if version is not None:
                    messages.error(request, str(exc))
                    return redirect(version)
                form.add_error(None, str(exc))
            else:
                messages.success(request, _("Saved: %(name)s") % {"name": saved})
                return HttpResponseRedirect(
                    f"{tariff.get_absolute_url()}?version={saved.pk}#prices"
                )
        return self.render_form(form, tariff, version, source)


# --- comparing two versions ------------------------------------------------------------------


def _tier_label(tier):
    return _("tier %(n)s") % {"n": tier} if tier else _("flat")


def version_facts(version):
    """[(section, key, label, value)] of everything a version sets, for the comparison."""
    data = services.version_data(version)
    facts = [
        ("general", "effective_from", _("Effective from"), f"{version.effective_from:%Y-%m-%d}"),
        ("general", "tier_mode", _("Tiers"), version.get_tier_mode_display()),
    ]
    if version.tier_mode == TierMode.CYCLIC:
        facts.append(
            ("general", "cycle", _("Cycle starts in month"), str(version.cycle_start_month))
        )
    if version.tier_mode != TierMode.FLAT:
        facts += [
            ("general", "base", _("Base household size"), str(version.base_household_size)),
            ("general", "step", _("Extra volume per extra person"), plain(version.person_step)),
            ("general", "widen", _("Tiers widened per person"), version.widen_tiers),
        ]
    for n, label in enumerate(tier_ranges(data["tiers"]), start=1):
        facts.append(("tiers", ("tier", n), _("Tier %(n)s") % {"n": n}, f"{label} m³"))
    prices = sorted(data["prices"], key=lambda p: (p[0].sort_order, p[0].code, p[1] or 0))
    for item, tier, price in prices:
        facts.append(
            ("prices", ("price", item.pk, tier), f"{item} · {_tier_label(tier)}", plain(price, 2))
        )
    if data["brackets"]:
        facts.append(
            ("quota", "base", _("Quota surcharge base item"), str(version.quota_base_item or "—"))
        )
        facts.append(("quota", "item", _("Billed as"), str(version.quota_surcharge_item or "—")))
    for number, label, multiple in bracket_rows(data["brackets"]):
        facts.append(("quota", ("bracket", number), label, f"× {plain(multiple)}"))
    for item, kind, amount in data["surcharges"]:
        facts.append(
            (
                "surcharges",
                ("surcharge", item.pk, kind),
                f"{item} · {SurchargeKind(kind).label}",
                plain(amount, 2),
            )
        )
    facts.append(("general", "note", _("Note"), version.note))
    return facts


COMPARE_SECTIONS = [
    ("general", gettext_lazy("Version")),
    ("tiers", gettext_lazy("Tier limits")),
    ("prices", gettext_lazy("Unit prices (yuan/m³)")),
    ("quota", gettext_lazy("Over-plan surcharge")),
    ("surcharges", gettext_lazy("Surcharges")),
]


def compare_rows(a, b):
    """[(section label, [(label, value a, value b, differs)])] for two versions."""
    facts_a, facts_b = version_facts(a), version_facts(b)
    values_a = {key: value for _s, key, _l, value in facts_a}
    values_b = {key: value for _s, key, _l, value in facts_b}
    sections = []
    for section, title in COMPARE_SECTIONS:
        rows, seen = [], set()
        for sec, key, label, _v in [*facts_a, *facts_b]:
            if sec != section or key in seen:
                continue
            seen.add(key)
            va, vb = values_a.get(key, ""), values_b.get(key, "")
            rows.append((label, va, vb, key != "effective_from" and va != vb))
        if rows:
            sections.append((title, rows))
    return sections


class TariffCompareView(ScopedViewMixin, TemplateView):
    """Two versions of a tariff side by side, each difference highlighted."""

    model = Tariff
    template_name = "tariffs/compare.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        tariff = get_object_or_404(self.get_queryset(), pk=self.kwargs["pk"])
        versions = list(tariff.versions.order_by("effective_from"))
        by_pk = {str(v.pk): v for v in versions}
        today = timezone.localdate()
        b = by_pk.get(self.request.GET.get("b", ""))
        if b is None and versions:
            b = version_in_force(versions, today) or versions[-1]
        a = by_pk.get(self.request.GET.get("a", ""))
        if a is None and b is not None:
            index = versions.index(b)
            a = versions[index - 1] if index > 0 else (versions[1] if len(versions) > 1 else b)
        sections = compare_rows(a, b) if a and b else []
        context.update(
            tariff=tariff,
            title=_("Compare versions of %(tariff)s") % {"tariff": tariff},
            versions=versions,
            a=a,
            b=b,
            sections=sections,
            differences=sum(1 for _t, rows in sections for row in rows if row[3]),
        )
        return context


# --- the version journal, as a person reads it -------------------------------------------------------


def _fmt_snapshot(key, value, names):
    if value in (None, "", []):
        return ""
    if key == "tier_mode":
        return TierMode(value).label
    if key == "tiers":
        return " / ".join(tier_ranges(value))
    if key in ("quota_base_item", "quota_surcharge_item"):
        return names.get(value, value)
    if key == "brackets":
        return "; ".join(f"{label} × {plain(m)}" for _n, label, m in bracket_rows(value))
    if key == "surcharges":
        return "; ".join(
            f"{names.get(code, code)} {SurchargeKind(kind).label} {plain(amount, 2)}"
            for code, kind, amount in value
        )
    if key == "prices":
        by_item = {}
        for code, _tier, price in value:
            by_item.setdefault(code, []).append(plain(price, 2))
        return "; ".join(f"{names.get(c, c)} {' / '.join(p)}" for c, p in by_item.items())
    if key == "person_step":
        return plain(value)
    return str(value)


SNAPSHOT_LABELS = [
    ("effective_from", gettext_lazy("Effective from")),
    ("tier_mode", gettext_lazy("Tiers")),
    ("cycle_start_month", gettext_lazy("Cycle starts in month")),
    ("base_household_size", gettext_lazy("Base household size")),
    ("person_step", gettext_lazy("Extra volume per extra person")),
    ("widen_tiers", gettext_lazy("Tiers widened per person")),
    ("tiers", gettext_lazy("Tier limits")),
    ("prices", gettext_lazy("Unit prices")),
    ("quota_base_item", gettext_lazy("Quota surcharge base item")),
    ("quota_surcharge_item", gettext_lazy("Quota surcharge billed as")),
    ("brackets", gettext_lazy("Over-plan brackets")),
    ("surcharges", gettext_lazy("Surcharges")),
    ("note", gettext_lazy("Note")),
]


def describe_entry(entry, names):
    """(label, before, after) of a version journal entry; prices compared price by price."""
    before, after = entry.before or {}, entry.after or {}
    rows = []
    for key, label in SNAPSHOT_LABELS:
        old, new = before.get(key), after.get(key)
        if old == new:
            continue
        if key == "prices" and before:
            old_prices = {(c, t): p for c, t, p in old or []}
            new_prices = {(c, t): p for c, t, p in new or []}
            for code, tier in dict.fromkeys([*old_prices, *new_prices]):
                o, n = old_prices.get((code, tier)), new_prices.get((code, tier))
                if o != n:
                    rows.append(
                        (
                            f"{names.get(code, code)} · {_tier_label(tier)}",
                            plain(o, 2) if o else "—",
                            plain(n, 2) if n else "—",
                        )
                    )
            continue
        old_text, new_text = _fmt_snapshot(key, old, names), _fmt_snapshot(key, new, names)
        if old_text != new_text:  # "30" and "30.00" are the same to a person
            rows.append((label, old_text, new_text))
    return rows


def describe_history(entries):
    entries = list(entries)
    names = dict(PriceItem.objects.values_list("code", "name"))
    return [(entry, describe_entry(entry, names)) for entry in entries]


# --- the tariff preview: the cashier's explanation of a bill --------------------------------------


def _line_tier_label(line, spec, facts, months, single_version):
    if line.kind == calculator.QUOTA:
        bracket = (
            spec.brackets[line.tier - 1] if line.tier and line.tier <= len(spec.brackets) else None
        )
        if bracket is None:
            return _("Over plan")
        lower = spec.brackets[line.tier - 2].upper_percent if line.tier > 1 else Decimal(0)
        if bracket.upper_percent is None:
            text = _("more than %(low)s%% over plan") % {"low": plain(lower)}
        else:
            text = _("%(low)s%%–%(high)s%% over plan") % {
                "low": plain(lower),
                "high": plain(bracket.upper_percent),
            }
        return _("Bracket %(n)s: %(range)s, × %(multiple)s") % {
            "n": line.tier,
            "range": text,
            "multiple": plain(bracket.multiple),
        }
    if line.kind == calculator.FEE:
        return _("Surcharge per bill") if line.volume_centi == 0 else _("Surcharge per m³")
    if line.tier is None:
        return _("Flat price")
    if facts.no_tiers:
        return _("Tier 1 price (no tiers for this household)")
    uppers = [None if u is None else from_centi(u) for u in spec.uppers_for(facts.household_size)]
    if spec.tier_mode == calculator.MONTHLY and single_version:
        uppers = [None if u is None else u * months for u in uppers]
        unit = _("m³ in %(months)s month(s)") % {"months": months}
    elif spec.tier_mode == calculator.MONTHLY:
        unit = _("m³ per month")
    else:
        unit = _("m³ in the cycle")
    ranges = tier_ranges(uppers)
    label = ranges[line.tier - 1] if line.tier <= len(ranges) else ""
    return _("Tier %(n)s (%(range)s %(unit)s)") % {"n": line.tier, "range": label, "unit": unit}


def explain_bill(result, specs, facts, months):
    """Groups of bill lines by item, with tier labels and subtotals, for the preview page."""
    by_start = {spec.effective_from: spec for spec in specs}
    starts = sorted({line.effective_from for line in result.lines})
    single = len(starts) == 1
    groups, index = [], {}
    for line in result.lines:
        key = (line.item_code, line.kind)
        if key not in index:
            index[key] = len(groups)
            groups.append({"name": line.item_name, "kind": line.kind, "lines": [], "amount": 0})
        group = groups[index[key]]
        group["lines"].append(
            {
                "tier": _line_tier_label(
                    line, by_start[line.effective_from], facts, months, single
                ),
                "volume": line.volume if line.volume_centi else None,
                "unit_price": line.unit_price,
                "amount": line.amount,
                "effective_from": line.effective_from,
            }
        )
        group["amount"] += line.amount
    return {"groups": groups, "starts": starts, "several_versions": not single}


class TariffPreviewView(PermissionMixin, TemplateView):
    """Price a bill with a tariff and explain every line (nothing is saved)."""

    permission_required = "tariffs.view_tariff"
    template_name = "tariffs/preview.html"

    def get(self, request, *args, **kwargs):
        if "volume" in request.GET:
            form = PreviewForm(request.GET, user=request.user)
        else:
            start, end = default_period()
            initial = {"period_start": start, "period_end": end}
            if request.GET.get("tariff", "").isdigit():
                initial["tariff"] = request.GET["tariff"]
            form = PreviewForm(initial=initial, user=request.user)
        bill = self.price(form) if form.is_bound and form.is_valid() else None
        return self.render_to_response(
            self.get_context_data(form=form, bill=bill, title=_("Tariff preview"))
        )

    def price(self, form):
        data = form.cleaned_data
        tariff = data["tariff"]
        specs = queries.tariff_specs(tariff)
        if not specs:
            form.add_error("tariff", _("This tariff has no version yet."))
            return None
        start, end = data["period_start"], data["period_end"]
        days = (end - start).days
        months = max(1, round(days / 30))
        minimum = Decimal(0)
        if data.get("caliber"):
            minimum = queries.minimum_volume(tariff.category_id, data["caliber"], months)
        facts = calculator.BillFacts(
            period_start=start,
            period_end=end,
            volume=data["volume"],
            cycle_to_date=data.get("cycle_to_date") or Decimal(0),
            household_size=data.get("household_size") or 0,
            months=months,
            no_tiers=bool(data.get("low_income")),
            minimum=minimum,
            quota=data.get("planned_volume"),
        )
        try:
            result = calculator.price_bill(specs, facts)
        except (calculator.TariffError, ValueError) as exc:
            form.add_error(None, _("This bill cannot be priced: %(reason)s") % {"reason": exc})
            return None
        explained = explain_bill(result, specs, facts, months)
        versions = {v.effective_from: v for v in queries.versions_of(tariff)}
        return {
            **explained,
            "tariff": tariff,
            "result": result,
            "facts": facts,
            "days": days,
            "months": months,
            "minimum": minimum,
            "caliber": data.get("caliber"),
            "raised_to_minimum": result.billed_volume > facts.volume,
            "versions": [versions[s] for s in explained["starts"] if s in versions],
            "cyclic": specs[-1].tier_mode == calculator.CYCLIC,
        }
