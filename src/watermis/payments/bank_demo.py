"""The demo company's bank collection: two banks, one batch answered, one waiting.

- banks: 工商银行 (fixed-width GBK, totals record first; the demo customers paying by
  bank deduction all bank with 中国工商银行) and 建设银行 (CSV in UTF-8, totals last; no
  demo customer yet: the clerk may mandate one);
- 东城区 (DC): a batch of the unpaid bills of ICBC customers, generated and downloaded by
  the manager, its result imported (most deducted, some "insufficient balance");
- 西城区 (XC): a batch generated and downloaded, waiting for the bank's answer (its bills
  are at the bank: the counter refuses them; the clerk may import a result or cancel).

Everything goes through :mod:`.bank`, as an operator would (journaled, ledger posted).
"""

import datetime

from django.core.exceptions import ValidationError
from django.utils import timezone

from watermis.org.models import Operator, Zone

from . import bank

BANKS = [
    {
        "code": "ICBC",
        "name": "中国工商银行江城分行",
        "customer_bank_prefix": "中国工商银行",
        "merchant_no": "JCSW0001",
        "file_format": "fixed",
        "encoding": "gbk",
        "line_ending": "crlf",
        "summary": "header",
        "result_summary": "header",
        "success_codes": "0000",
        "active": True,
    },
    {
        "code": "CCB",
        "name": "中国建设银行江城支行",
        "customer_bank_prefix": "中国建设银行",
        "merchant_no": "CCB-JC-77",
        "file_format": "csv",
        "encoding": "utf-8",
        "line_ending": "lf",
        "delimiter": ",",
        "summary": "trailer",
        "result_summary": "none",
        "success_codes": "00",
        "active": True,
    },
]
FAILURES = [("3001", "余额不足"), ("3002", "账户已冻结"), ("3005", "户名不符")]


def _at(day, hour):
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour)))


def build(rng, today=None):
    """Create the banks and the two batches; returns counts."""
    today = today or timezone.localdate()
    manager = Operator.objects.get(username="manager")
    banks = [bank.create_bank(manager, dict(data)) for data in BANKS]
    icbc = banks[0]
    built = {"banks": len(banks), "batches": 0, "paid": 0, "failed": 0, "open": 0}
    zones = {z.code: z for z in Zone.objects.filter(code__in=["DC", "XC"])}
    answered = _batch(manager, zones.get("DC"), icbc, today)
    if answered is not None:
        lines = answered.lines.order_by("seq").values_list("seq", flat=True)
        outcomes = {
            seq: rng.choice(FAILURES) if rng.random() < 0.08 else ("0000", "交易成功")
            for seq in lines
        }
        data = bank.result_file(icbc, answered, outcomes)
        outcome = bank.import_result(
            manager,
            answered,
            data,
            f"{answered.number}-result.txt",
            business_date=today,
            now=_at(today, 15),
        )
        built["paid"], built["failed"] = outcome.result.paid, outcome.result.failed
        built["batches"] += 1
    waiting = _batch(manager, zones.get("XC"), icbc, today)
    if waiting is not None:
        built["open"] = waiting.line_count
        built["batches"] += 1
    return built


def _batch(manager, zone, icbc, today):
    """A generated and downloaded batch of the zone's ICBC bills, or None without bills."""
    if zone is None:
        return None
    try:
        (batch,) = bank.generate_batches(manager, zone, bank=icbc, today=today, now=_at(today, 9))
    except ValidationError:  # no unpaid bill of a mandated customer
        return None
    bank.export_file(manager, batch, now=_at(today, 10))
    return batch
