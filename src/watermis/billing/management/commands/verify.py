"""``manage.py verify``: prove the books (exit status 1 when anything does not add up)."""

from django.core.management.base import BaseCommand, CommandError

from watermis.billing.verify import verify_books


class Command(BaseCommand):
    help = "Check that every account's balance equals its entries and every allocation fits."

    def handle(self, *args, **options):
        problems = verify_books()
        for problem in problems:
            self.stderr.write(problem)
        if problems:
            raise CommandError(f"the books do not add up: {len(problems)} problem(s)")
        self.stdout.write(self.style.SUCCESS("The books add up."))
