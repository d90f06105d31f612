"""Bring the reports' facts up to date with the ledger (run it from cron every few minutes;
report pages also do it before they read)."""

import time

from django.core.management.base import BaseCommand

from watermis.reports import facts


class Command(BaseCommand):
    help = "Add the ledger rows posted since the last refresh to the reports' facts."

    def add_arguments(self, parser):
        parser.add_argument(
            "--rebuild", action="store_true", help="empty the facts and sum the whole ledger again"
        )

    def handle(self, *args, rebuild=False, **options):
        started = time.perf_counter()
        if rebuild:
            facts.rebuild()
            self.stdout.write(f"facts rebuilt in {time.perf_counter() - started:.1f} s")
        else:
            added = facts.refresh()
            what = "brought up to date" if added else "already up to date"
            self.stdout.write(f"facts {what} ({time.perf_counter() - started:.1f} s)")
