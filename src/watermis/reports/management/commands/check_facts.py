"""Compare the reports' facts with the ledger; exit 1 and list the differences if any."""

from django.core.management.base import BaseCommand, CommandError

from watermis.reports import checks, facts


class Command(BaseCommand):
    help = "Check that the reports' facts equal the ledger's own sums (after a refresh)."

    def handle(self, *args, **options):
        facts.refresh()
        differences = checks.compare()
        for line in differences[:100]:
            self.stdout.write(line)
        if differences:
            raise CommandError(
                f"{len(differences)} differences between the facts and the ledger; "
                "rebuild them with: manage.py refresh_facts --rebuild"
            )
        self.stdout.write("facts agree with the ledger")
