import django_tables2 as tables
from django.utils.html import format_html_join
from django.utils.translation import gettext_lazy as _

from .models import AuditEntry


class AuditEntryTable(tables.Table):
    changes = tables.Column(_("Changes"), empty_values=(), orderable=False)

    class Meta:
        model = AuditEntry
        fields = (
            "at",
            "actor_name",
            "source",
            "action",
            "verb",
            "object_type",
            "object_id",
            "object_repr",
            "changes",
            "reason",
            "ip",
            "request_id",
        )

    def render_changes(self, record):
        return format_html_join(
            "",
            "<div><code>{}</code>: {} → {}</div>",
            (
                (name, "" if old is None else old, "" if new is None else new)
                for name, old, new in record.changes()[:12]
            ),
        )

    def value_changes(self, record):
        return "; ".join(f"{name}: {old} → {new}" for name, old, new in record.changes())
