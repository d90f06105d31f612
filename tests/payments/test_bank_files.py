"""Bank files byte for byte: fixed-width GBK and delimited UTF-8, and the layout rules."""

import pytest
from django.core.exceptions import ValidationError

from watermis.core.models import AuditEntry
from watermis.customers import services as customer_services
from watermis.payments import bank
from watermis.payments.bank_formats import Layout
from watermis.payments.models import Bank

from .bank_fixtures import *  # noqa: F403
from .bank_fixtures import NOW, D


def test_fixed_width_gbk_file_with_header(admin, bank_town, banks, bills, generate):
    (icbc,) = generate(bank=banks["icbc"])
    name, data = bank.export_file(admin, icbc)
    assert name == "ICBC20261124001.txt"
    # widths are GBK bytes: 张三 is 4 of the 8 bytes of the account name
    expected = (
        "HJCWATER01 000004000000011704\r\n"
        "000001张三    6222020000000001    2026080000003550\r\n"
        "000002张三    6222020000000001    2026090000004120\r\n"
        "000003李四    6222020000000002    2026090000002800\r\n"
        "000004钱七    6222020000000005    2026100000001234\r\n"
    ).encode("gbk")
    assert data == expected
    assert len(data.split(b"\r\n")[1]) == 6 + 8 + 20 + 6 + 10
    icbc.refresh_from_db()
    assert icbc.export_count == 1 and icbc.exported_by == admin and icbc.exported_at
    assert AuditEntry.objects.filter(object_id=str(icbc.pk), verb="export_bank_file").exists()


def test_csv_utf8_file_with_trailer(admin, bank_town, banks, bills, generate):
    (ccb,) = generate(bank=banks["ccb"])
    name, data = bank.export_file(admin, ccb)
    zhao = bank_town["zhao"].account_no
    assert name == "CCB20261124001.csv"
    assert (
        data
        == (f"CCB20261124001|1|{zhao}|赵六|6217000000000004|WT0004|66.60\nTOTAL|1|66.60\n").encode()
    )


def test_long_names_are_cut_on_a_whole_character_and_missing_characters_replaced(
    admin, bank_town, banks, bills, generate
):
    customer_services.update_customer(admin, bank_town["zhang"], {"name": "欧阳娜娜娜"})
    customer_services.update_customer(admin, bank_town["li"], {"name": "李𠮷"})  # 𠮷: not GBK
    (icbc,) = generate(bank=banks["icbc"])
    lines = bank.export_file(admin, icbc)[1].split(b"\r\n")
    assert lines[1][6:14] == "欧阳娜娜".encode("gbk")  # 10 bytes cut to 8
    assert lines[3][6:14] == "李".encode("gbk") + b"?     "
    # a 7-byte width cuts 欧阳娜娜 to three characters and pads one space
    banks["icbc"].detail_fields[1]["width"] = 7
    banks["icbc"].result_fields[1]["width"] = 7
    banks["icbc"].save()
    lines = bank.export_file(admin, icbc)[1].split(b"\r\n")
    assert lines[1][6:13] == "欧阳娜".encode("gbk") + b" "


def test_a_value_that_does_not_fit_is_refused_not_cut(admin, bank_town, banks, bills, generate):
    banks["icbc"].detail_fields[2]["width"] = 10
    banks["icbc"].save()
    (icbc,) = generate(bank=banks["icbc"])
    with pytest.raises(ValidationError, match="bank_account 6222020000000001 does not fit"):
        bank.export_file(admin, icbc)
    icbc.refresh_from_db()
    assert icbc.export_count == 0


def test_only_the_lines_still_at_the_bank_are_in_a_file_downloaded_again(
    admin, bank_town, banks, bills, generate
):
    (icbc,) = generate(bank=banks["icbc"])
    data = bank.result_file(banks["icbc"], icbc, {1: ("0000", ""), 3: ("3001", "余额不足")})
    bank.import_result(admin, icbc, data, "r.txt", now=NOW)
    _name, again = bank.export_file(admin, icbc)
    assert [line[:6] for line in again.split(b"\r\n")[1:-1]] == [b"000002", b"000004"]
    assert again.startswith(b"HJCWATER01 000002000000005354")


def test_result_file_as_the_bank_sends_it(admin, bank_town, banks, bills, generate):
    (icbc,) = generate(bank=banks["icbc"])
    data = bank.result_file(banks["icbc"], icbc, {2: ("3001", "余额不足"), 4: ("0000", "成功")})
    assert data == (
        "HJCWATER01 000002000000005354\r\n"
        "000002张三    6222020000000001    20260900000041203001余额不足            \r\n"
        "000004钱七    6222020000000005    20261000000012340000成功                \r\n"
    ).encode("gbk")


def test_layout_rules_name_the_field_and_the_rule(admin):
    base = {
        "code": "X",
        "name": "X",
        "customer_bank_prefix": "X",
        "file_format": "fixed",
        "encoding": "gbk",
        "line_ending": "crlf",
        "summary": "header",
        "result_summary": "none",
        "success_codes": "0",
        "active": True,
    }
    with pytest.raises(ValidationError) as caught:
        bank.create_bank(
            admin,
            {
                **base,
                "detail_fields": [
                    {"name": "seq"},
                    {"name": "colour", "width": 3},
                    {"name": "amount", "width": 10, "align": "middle", "pad": "00"},
                    {"name": "constant", "width": 2},
                ],
                "result_fields": [{"name": "seq", "width": 4}],
                "summary_fields": [{"name": "bank_account", "width": 4}],
            },
        )
    errors = caught.value.message_dict
    assert errors["detail_fields"] == [
        "Field 1 (seq): the width is a whole number of bytes from 1 to 200.",
        "Field 2 (colour): unknown field; use one of seq, batch, date, merchant, customer, "
        "customer_name, bank_account, account_name, mandate, month, bill, amount, "
        "amount_fen, constant.",
        "Field 3 (amount): align is left or right.",
        "Field 3 (amount): the pad is one ASCII character.",
        "Field 4 (constant): a constant needs its value.",
    ]
    assert errors["result_fields"] == ["A result record needs the result field."]
    assert errors["summary_fields"][0].startswith("Field 1 (bank_account): unknown field")
    with pytest.raises(ValidationError) as caught:
        bank.create_bank(admin, {**base, "detail_fields": [{"name": "seq", "width": 4}]})
    assert caught.value.message_dict["detail_fields"] == ["The bank needs the bank_account field."]
    assert not Bank.objects.exists()


def test_empty_layouts_take_the_preset_of_the_format(admin):
    made = bank.create_bank(
        admin,
        {
            "code": "BOC",
            "name": "中国银行",
            "customer_bank_prefix": "中国银行",
            "file_format": "csv",
            "encoding": "utf-8",
            "line_ending": "lf",
            "delimiter": ",",
            "summary": "none",
            "result_summary": "none",
            "success_codes": "0",
            "active": True,
        },
    )
    layout = Layout(made)
    assert [f.name for f in layout.detail][-1] == "amount" and not layout.fixed
    assert [f.name for f in layout.result][-2:] == ["result", "message"]


def test_amount_fields_align_right_with_zeros_by_default(admin, bank_town, banks, bills, generate):
    layout = Layout(banks["icbc"])
    amount = layout.detail[-1]
    assert (amount.align, amount.pad) == ("right", "0")
    assert layout.render(layout.summary, {"merchant": "M", "count": "3", "amount_fen": "1"}) == (
        b"HM         000003000000000001"
    )
    assert D("1") == D("1.00")
