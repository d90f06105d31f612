"""The demo company's bank collection: two banks, 东城区's batch answered, 西城区's waiting."""

import datetime

from django.urls import reverse

from watermis.billing.verify import verify_books
from watermis.demo import build_demo
from watermis.org.models import Operator
from watermis.payments.bank_queries import bills_at_bank
from watermis.payments.models import Bank, BankBatch, BatchState, LineState


def test_demo_banks_and_batches(db, client, settings):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    built = build_demo(seed=3, customers=600, today=datetime.date(2026, 11, 24))
    assert built["bank_data"]["banks"] == 2 and Bank.objects.count() == 2
    done = BankBatch.objects.get(zone__code="DC")
    waiting = BankBatch.objects.get(zone__code="XC")
    assert done.state == BatchState.DONE and done.paid_count > 0
    assert done.paid_count + done.failed_count == done.line_count
    assert done.export_count == 1 and done.results.count() == 1
    assert waiting.state == BatchState.OPEN and waiting.export_count == 1
    sent = list(waiting.lines.values_list("bill_id", flat=True))
    assert bills_at_bank(sent) == set(sent)
    failed = done.lines.filter(state=LineState.FAILED).values_list("bill_id", flat=True)
    assert not bills_at_bank(failed)
    assert verify_books() == []
    client.force_login(Operator.objects.get(username="clerk"))  # 东城区
    listing = client.get(reverse("payments:batch_list")).content.decode()
    assert done.number in listing and waiting.number not in listing
    assert client.get(done.get_absolute_url()).status_code == 200
    assert client.get(waiting.get_absolute_url()).status_code == 404
