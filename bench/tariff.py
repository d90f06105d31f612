"""Tariff calculator speed: bills priced per second on one core.

A residential tariff with cumulative 3-tier water fee, flat resource fee and
flat sewage fee (the Beijing layout); bills of varied volume, cycle position and
household size, each priced through ``price_bill`` from ``BillFacts`` to lines.
No database: the calculator is pure.
"""

import datetime
import random
import sys
import time
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

from _common import arguments, machine  # noqa: E402

from watermis.tariffs.calculator import CYCLIC, BillFacts, ItemPrice, TariffSpec, price_bill  # noqa: E402

args = arguments(200_000, __doc__)
spec = TariffSpec(
    effective_from=datetime.date(2020, 1, 1),
    items=(
        ItemPrice("water", "水费", (20700, 40700, 60700)),
        ItemPrice("resource", "水资源税", (15700,)),
        ItemPrice("sewage", "污水处理费", (13600,)),
    ),
    tier_mode=CYCLIC,
    tier_uppers=(18000, 26000, None),
    base_household_size=4,
    person_step=3000,
)
rng = random.Random(1)
start, end = datetime.date(2026, 3, 31), datetime.date(2026, 4, 30)
bills = [
    BillFacts(
        start,
        end,
        Decimal(rng.randint(0, 6000)).scaleb(-2)
        if rng.random() < 0.1
        else Decimal(rng.randint(0, 60)),
        Decimal(rng.randint(0, 300)),
        rng.choice((0, 3, 4, 5, 6)),
    )
    for _ in range(args.size)
]
versions = [spec]
price_bill(versions, bills[0])
begin = time.process_time()
total = 0
for facts in bills:
    total += price_bill(versions, facts).total_fen
elapsed = time.process_time() - begin
print(f"{args.size} bills, {total / 100:.2f} yuan in {elapsed:.2f} s CPU, {machine()}")
print(f"tariff: {args.size / elapsed:.0f} bills/s")
