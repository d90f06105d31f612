from django.core.management.base import BaseCommand, CommandError

from watermis.demo import DEFAULT_CUSTOMERS, build_demo, demo_exists, demo_logins
from watermis.org.demo import DEMO_PASSWORD


class Command(BaseCommand):
    help = (
        "Build the demo water company (zones, units, staff, an operator for each role, "
        "tariffs, customers and meters)."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--seed", type=int, default=2026, help="random seed (same seed, same company)"
        )
        parser.add_argument("--staff-per-unit", type=int, default=8)
        parser.add_argument(
            "--customers",
            type=int,
            default=DEFAULT_CUSTOMERS,
            help=f"customer accounts to generate (default {DEFAULT_CUSTOMERS}; a million works)",
        )
        parser.add_argument(
            "--if-empty",
            action="store_true",
            help="do nothing (but print the logins) when a company exists",
        )

    def handle(self, *args, seed, staff_per_unit, customers, if_empty, **options):
        if customers < 0:
            raise CommandError("--customers cannot be negative.")
        if demo_exists():
            if not if_empty:
                raise CommandError(
                    "A company exists already: the demo loads only into an empty database."
                )
            self.stdout.write("The demo company is loaded already.")
        else:

            def progress(done, total):
                if total >= 50_000:
                    self.stdout.write(f"  {done}/{total} customers")

            built = build_demo(
                seed=seed, staff_per_unit=staff_per_unit, customers=customers, progress=progress
            )
            data = built["customer_data"]
            self.stdout.write(
                self.style.SUCCESS(
                    f"Demo company built: {len(built['zones'])} zones, {len(built['units'])} units, "
                    f"{len(built['employees'])} employees, {len(built['operators'])} operators, "
                    f"{data['customers']} customers with {data['meters']} meters "
                    f"in {len(data['books'])} reading books."
                )
            )
        self.stdout.write(f"Demo logins (password for all: {DEMO_PASSWORD}):")
        for username, role, zone in demo_logins():
            self.stdout.write(f"  {username:<10} {role:<6} zone {zone}")
