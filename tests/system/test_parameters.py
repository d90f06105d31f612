"""Parameters (F12.4): typed, validated, journaled, read through one function."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from watermis.core.models import AuditEntry
from watermis.system.params import SPECS, get_param
from watermis.system.services import set_parameter


def test_defaults_are_valid():
    for spec in SPECS:
        assert spec.parse(spec.format(spec.default)) == spec.default


def test_set_and_read(org, admin):
    assert get_param("late_fee.daily_rate") == Decimal("0.003")
    set_parameter(admin, "late_fee.daily_rate", "0.005", "new city regulation")
    assert get_param("late_fee.daily_rate") == Decimal("0.005")
    entry = AuditEntry.objects.get(object_type="system.parameter", verb="set_parameter")
    assert entry.before["value"] == "0.003" and entry.after["value"] == "0.005"
    assert entry.reason == "new city regulation" and entry.actor == admin


@pytest.mark.parametrize(
    "key,value",
    [
        ("late_fee.daily_rate", "abc"),
        ("late_fee.daily_rate", "-1"),
        ("late_fee.daily_rate", "NaN"),
        ("late_fee.grace_days", "1.5"),
        ("late_fee.grace_days", "999"),
        ("late_fee.rounding", "floor"),
        ("late_fee.cap_principal", "maybe"),
    ],
)
def test_bad_values_refused_with_field(org, admin, key, value):
    with pytest.raises(ValidationError) as exc:
        set_parameter(admin, key, value, "reason")
    assert "value" in exc.value.message_dict
    assert not AuditEntry.objects.filter(object_type="system.parameter").exists()


def test_reason_required(org, admin):
    with pytest.raises(ValidationError) as exc:
        set_parameter(admin, "late_fee.grace_days", "10", "  ")
    assert "reason" in exc.value.message_dict


def test_page_edit_and_errors(org, admin, manager, login):
    url = reverse("system:parameter_edit", args=["counter.waiver_limit"])
    assert login(manager).get(url).status_code == 403
    client = login(admin)
    bad = client.post(url, {"value": "x", "reason": "r"})
    assert "value" in bad.context["form"].errors
    assert client.post(url, {"value": "20.00", "reason": "policy"}).status_code == 302
    assert get_param("counter.waiver_limit") == Decimal("20.00")
    page = client.get(reverse("system:parameter_list"))
    assert page.status_code == 200 and "20.00" in page.content.decode()


def test_unknown_parameter_is_404(org, admin, login):
    assert login(admin).get(reverse("system:parameter_edit", args=["no.such"])).status_code == 404
