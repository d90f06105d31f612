"""The statistical report pages (M8): choose months, grouping and filters; read the table;
print it (PDF) or take it to Excel. Every page brings the facts up to date first."""

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext
from django.views.generic import TemplateView

from watermis.core.charts import LINE, TABLE, Axis, Series, chart_spec, export_rows
from watermis.core.export import xlsx_response
from watermis.core.scoping import visible_zone_ids
from watermis.core.views import PermissionMixin
from watermis.documents.report_pdf import render_table
from watermis.documents.views import pdf_response
from watermis.org.queries import company_name

from . import facts, queries
from .forms import ReportForm

PERMISSION = "reports.view_reports"


def cell_text(value, kind):
    """A figure as printed: money and volumes with two decimals and thousands separators."""
    if value is None:
        return "—" if kind == queries.RATE else ""
    if kind in (queries.MONEY, queries.VOLUME):
        return f"{value:,.2f}"
    if kind == queries.RATE:
        return f"{value:.1f}"
    return str(value)


class ReportView(PermissionMixin, TemplateView):
    """One report: ``build(selection)`` makes its :class:`~watermis.reports.queries.Table`."""

    permission_required = PERMISSION
    template_name = "reports/report.html"
    title = ""
    description = ""
    build = None
    export_name = "report"
    months = 1  # the months shown before the operator chooses

    def selection(self, form):
        data = form.cleaned_data
        return queries.Selection(
            month_from=data["month_from"],
            month_to=data["month_to"],
            zones=visible_zone_ids(self.request.user),
            group_by=data["group_by"] or "zone",
            filters={
                name: getattr(data.get(name), "pk", None)
                for name in queries.FILTERS
                if data.get(name) is not None
            },
        )

    def get(self, request, *args, **kwargs):
        user = request.user
        params = request.GET.copy()
        params.pop("export", None)
        if params:
            form = ReportForm(params, user=user)
        else:
            form = ReportForm(ReportForm.initial_for(self.months), user=user)
        table = None
        if form.is_valid():
            facts.refresh()
            table = type(self).build(self.selection(form))
            export = request.GET.get("export")
            if export == "xlsx":
                return self.excel(table)
            if export == "pdf":
                return self.pdf(table, form)
        return self.render_to_response(
            self.get_context_data(
                title=self.title,
                description=self.description,
                form=form,
                table=table,
                rows=[self.formatted(table, row) for row in table.rows] if table else [],
                total=self.formatted(table, table.total) if table else None,
                as_of=facts.as_of(),
                printed_at=timezone.localtime(),
            )
        )

    def formatted(self, table, row):
        return [(cell_text(row.get(c.key), c.type), c.type != queries.TEXT) for c in table.columns]

    def subtitle(self, form):
        data = form.cleaned_data
        months = f"{data['month_from']:%Y-%m} – {data['month_to']:%Y-%m}"
        group = dict(form.fields["group_by"].choices)[data["group_by"] or "zone"]
        parts = [months, _("by %(group)s") % {"group": group}]
        for name in queries.FILTERS:
            if data.get(name) is not None:
                parts.append(f"{form.fields[name].label}: {data[name]}")
        return " · ".join(str(p) for p in parts)

    def excel(self, table):
        rows = [table.cells(row) for row in table.rows]
        rows.append(table.cells(table.total))
        return xlsx_response(self.export_name, str(self.title), table.header(), rows)

    def pdf(self, table, form):
        rows = [[text for text, _num in self.formatted(table, row)] for row in table.rows]
        total = [text for text, _num in self.formatted(table, table.total)]
        data = render_table(
            str(self.title),
            self.subtitle(form),
            [str(h) for h in table.header()],
            rows,
            total,
            numeric=[c.type != queries.TEXT for c in table.columns],
            company=company_name(),
            operator=getattr(self.request.user, "name", "") or self.request.user.get_username(),
        )
        stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
        return pdf_response(data, f"{self.export_name}-{stamp}.pdf", inline=True)


class StatisticsView(ReportView):
    title = gettext_lazy("Billing and collection statistics")
    description = gettext_lazy(
        "Bills of the billing months and what has settled them until now; payments received "
        "in the months. On every row billed + late fees = paid + waived + written off + "
        "red-credited + outstanding. Collection rate = paid ÷ (billed + late fees − waived − "
        "red-credited)."
    )
    build = staticmethod(queries.statistics)
    export_name = "billing-statistics"


class RevenueByItemView(ReportView):
    title = gettext_lazy("Revenue by price item")
    description = gettext_lazy(
        "What the bills of the billing months charged for each price item (water, sewage "
        "treatment, resource fee…), less cancelled bills, with red bills; and how much of it "
        "has been paid: a payment of a book's bills of one tariff and month is split over their "
        "items in proportion to what each item billed."
    )
    build = staticmethod(queries.revenue_by_item)
    export_name = "revenue-by-item"


class SurchargesView(ReportView):
    title = gettext_lazy("Surcharges")
    description = gettext_lazy(
        "Over-quota surcharges and extra fees charged on top of the water price, by item: "
        "billed in the billing months and paid until now."
    )
    build = staticmethod(queries.surcharges)
    export_name = "surcharges"


class WaiversView(ReportView):
    title = gettext_lazy("Late-fee waivers")
    description = gettext_lazy(
        "Late fees waived in the business months, how many waivers were reversed, and the net."
    )
    build = staticmethod(queries.waivers)
    export_name = "waivers"


class BadDebtsView(ReportView):
    title = gettext_lazy("Bad debts written off")
    description = gettext_lazy(
        "Bills written off as bad debts in the business months (approved write-offs), "
        "reversals, and the net."
    )
    build = staticmethod(queries.bad_debts)
    export_name = "bad-debts"


class LateFeesView(ReportView):
    title = gettext_lazy("Late fees charged")
    description = gettext_lazy("Late fees charged in the business months, reversals and the net.")
    build = staticmethod(queries.late_fees_charged)
    export_name = "late-fees"


# --- M9 analysis charts ---------------------------------------------------------------------


class ChartView(ReportView):
    """Charts of the facts (M9) with their figures as tables; ``charts(selection)`` returns
    [(id, spec)]; Excel exports the first chart's table."""

    template_name = "reports/charts.html"
    months = 12

    def charts(self, selection):
        raise NotImplementedError

    def get(self, request, *args, **kwargs):
        user = request.user
        params = request.GET.copy()
        params.pop("export", None)
        form = ReportForm(params or ReportForm.initial_for(self.months), user=user)
        charts = []
        if form.is_valid():
            facts.refresh()
            charts = self.charts(self.selection(form))
            if request.GET.get("export") == "xlsx":
                return xlsx_response(self.export_name, str(self.title), *export_rows(charts[0][1]))
        return self.render_to_response(
            self.get_context_data(
                title=self.title,
                description=self.description,
                form=form,
                charts=charts,
                as_of=facts.as_of(),
            )
        )


def _months(selection):
    return f"{selection.month_from:%Y-%m} – {selection.month_to:%Y-%m}"


class ComparisonChartView(ChartView):
    """F9.1: one period, compared across zones, areas, books, readers, categories or tariffs."""

    title = gettext_lazy("Same-period comparison")
    description = gettext_lazy(
        "Volume and amount billed in the billing months, side by side for each group chosen "
        "(zones, readers, tariffs…), with what has been paid and the collection rate."
    )
    export_name = "comparison"
    months = 1

    def charts(self, selection):
        if selection.group_by == "month":
            selection.group_by = "zone"
        rows = queries.statistics(selection).rows
        group = str(queries.GROUPS[selection.group_by][0])
        spec = chart_spec(
            rows,
            title=_("%(what)s by %(group)s, %(months)s")
            % {"what": _("Volume and amount billed"), "group": group, "months": _months(selection)},
            category="group",
            category_label=group,
            series=[
                Series("volume", _("Volume"), "m³", places=2),
                Series("billed", pgettext("report", "Billed"), _("yuan"), axis=1, money=True),
                Series("paid", pgettext("report", "Paid"), _("yuan"), type=TABLE, money=True),
                Series("rate", _("Collection rate %"), "%", type=TABLE),
            ],
            axes=[Axis("m³"), Axis(_("yuan"))],
            zoom=len(rows) > 20,
            height=360,
        )
        return [("comparison-chart", spec)]


class TrendChartView(ChartView):
    """F9.2: the months of a zone (or the company) against the same months a year before."""

    title = gettext_lazy("Historical trend")
    description = gettext_lazy(
        "Month by month volume and amount billed in the zone chosen (or the whole company), "
        "against the same month a year before, with the change in per cent."
    )
    export_name = "trend"
    months = 24

    def charts(self, selection):
        rows = queries.trend(selection)
        period = _months(selection)
        volume = chart_spec(
            rows,
            title=_("Volume billed, %(months)s, against a year before") % {"months": period},
            category="month",
            category_label=_("Month"),
            series=[
                Series("volume", _("Volume"), "m³", places=2),
                Series("volume_last_year", _("A year before"), "m³", type=LINE, places=2),
                Series("volume_change", _("Change %"), "%", type=TABLE),
            ],
            axes=[Axis("m³")],
            zoom=len(rows) > 24,
        )
        amount = chart_spec(
            rows,
            title=_("Amount billed, %(months)s, against a year before") % {"months": period},
            category="month",
            category_label=_("Month"),
            series=[
                Series("billed", pgettext("report", "Billed"), _("yuan"), money=True),
                Series("billed_last_year", _("A year before"), _("yuan"), type=LINE, money=True),
                Series("billed_change", _("Change %"), "%", type=TABLE),
            ],
            axes=[Axis(_("yuan"))],
            zoom=len(rows) > 24,
        )
        return [("trend-volume", volume), ("trend-amount", amount)]


class CollectionChartView(ChartView):
    """Collection rate and arrears by billing month, and the arrears by age."""

    title = gettext_lazy("Collection and arrears ageing")
    description = gettext_lazy(
        "For the bills of each billing month: what was billed, what is still owed and the "
        "collection rate so far; and everything still owed, by how old its billing month is."
    )
    export_name = "collection"
    months = 12

    def charts(self, selection):
        selection.group_by = "month"
        rows = queries.statistics(selection).rows
        rate = chart_spec(
            rows,
            title=_("Collection rate by billing month, %(months)s")
            % {"months": _months(selection)},
            category="group",
            category_label=_("Billing month"),
            series=[
                Series("billed", pgettext("report", "Billed"), _("yuan"), money=True),
                Series("outstanding", pgettext("report", "Outstanding"), _("yuan"), money=True),
                Series("rate", _("Collection rate %"), "%", type=LINE, axis=1),
            ],
            axes=[Axis(_("yuan")), Axis("%", min=0, max=100)],
        )
        today = timezone.localdate().replace(day=1)
        buckets = [
            {"age": str(label), "amount": amount, "share": share}
            for label, amount, share in queries.ageing(selection, today)
        ]
        ageing = chart_spec(
            buckets,
            title=_("Arrears by age of the billing month, on %(day)s")
            % {"day": timezone.localdate().strftime("%Y-%m-%d")},
            category="age",
            category_label=_("Age"),
            series=[
                Series("amount", pgettext("report", "Outstanding"), _("yuan"), money=True),
                Series("share", _("Share %"), "%", type=TABLE),
            ],
            axes=[Axis(_("yuan"))],
            height=260,
        )
        return [("collection-rate", rate), ("arrears-ageing", ageing)]
