from django.core.management.base import BaseCommand

from watermis.core.journal import audit_context
from watermis.documents.services import ensure_default_layouts


class Command(BaseCommand):
    help = (
        "Store the built-in layout of every document that has no layout yet (active), so the "
        "administrator can edit it. Safe to run again: existing layouts are left alone."
    )

    def handle(self, *args, **options):
        with audit_context(source="command:create_default_layouts"):
            created = ensure_default_layouts()
        for layout in created:
            self.stdout.write(f"created: {layout}")
        self.stdout.write(self.style.SUCCESS(f"{len(created)} layout(s) created."))
