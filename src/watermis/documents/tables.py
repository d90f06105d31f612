import django_tables2 as tables
from django.utils.translation import gettext_lazy as _

from .models import DocumentLayout


class DocumentLayoutTable(tables.Table):
    name = tables.Column(linkify=True)
    paper = tables.Column(
        _("Paper (mm)"), empty_values=(), order_by=("paper_width", "paper_height")
    )
    element_count = tables.Column(_("Elements"), empty_values=(), orderable=False)

    class Meta:
        model = DocumentLayout
        fields = ("kind", "name", "active", "paper", "per_sheet", "print_background", "note")
        sequence = (
            "kind",
            "name",
            "active",
            "paper",
            "per_sheet",
            "print_background",
            "element_count",
            "note",
        )

    def render_paper(self, record):
        return f"{record.paper_width.normalize():f} × {record.paper_height.normalize():f}"

    def value_paper(self, record):
        return self.render_paper(record)

    def render_element_count(self, record):
        return len(record.elements or [])

    def value_element_count(self, record):
        return len(record.elements or [])
