import django_tables2 as tables
from django.utils.html import format_html_join
from django.utils.translation import gettext_lazy as _

from .models import AuditEntry


class AuditEntryTable(tables.Table):
    actor_name = tables.Column(empty_values=(), attrs={"td": {"class": "text-nowrap"}})
    at = tables.DateTimeColumn(format="Y-m-d H:i:s", attrs={"td": {"class": "text-nowrap"}})
    action = tables.Column(attrs={"td": {"class": "text-nowrap"}})
    object_type = tables.Column(attrs={"td": {"class": "text-nowrap"}})
    changes = tables.Column(_("Changes"), empty_values=(), orderable=False)
    source = tables.Column(visible=False)
    ip = tables.Column(visible=False)
    request_id = tables.Column(visible=False)

    class Meta:
        model = AuditEntry
        fields = (
            "at",
            "actor_name",
            "action",
            "object_type",
            "object_repr",
            "changes",
            "reason",
            "source",
            "ip",
            "request_id",
        )

    def render_actor_name(self, record):
        return record.actor_name or f"({record.source})"

    def value_actor_name(self, record):
        return self.render_actor_name(record)

    def render_action(self, record):
        label = record.get_action_display()
        return f"{label} · {record.verb}" if record.verb else label

    def value_action(self, record):
        return self.render_action(record)

    def render_object_type(self, record):
        return record.object_type_label()

    def value_object_type(self, record):
        return record.object_type_label()

    def render_changes(self, record):
        return format_html_join(
            "",
            '<div class="small"><span class="text-body-secondary">{}</span>: {}{}</div>',
            (
                (name, f"{old} → " if old != "" else "", new)
                for name, old, new in record.described_changes()[:12]
            ),
        )

    def value_changes(self, record):
        return "; ".join(
            f"{name}: {old} → {new}" if old != "" else f"{name}: {new}"
            for name, old, new in record.described_changes()
        )
