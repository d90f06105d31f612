"""The template language of layouts: the filters (大写金额 above all) and the sandbox."""

import datetime
import re
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from watermis.documents.templating import (
    LayoutTemplateError,
    cny_upper,
    compile_template,
    format_date,
    format_month,
    money,
    number,
    pad,
    render_template,
    template_fields,
    truncate,
)

D = Decimal


def render(source, **context):
    return render_template(compile_template(source), context)


# --- 大写金额 ---------------------------------------------------------------------------------

KNOWN = [
    # the People's Bank of China examples for writing amounts, and the edges
    ("0", "零元整"),
    ("0.00", "零元整"),
    ("1", "壹元整"),
    ("10", "壹拾元整"),
    ("15", "壹拾伍元整"),
    ("100", "壹佰元整"),
    ("123.45", "壹佰贰拾叁元肆角伍分"),
    ("1409.50", "壹仟肆佰零玖元伍角"),
    ("6007.14", "陆仟零柒元壹角肆分"),
    ("1680.32", "壹仟陆佰捌拾元叁角贰分"),
    ("107000.53", "壹拾万零柒仟元伍角叁分"),
    ("16409.02", "壹万陆仟肆佰零玖元零贰分"),
    ("325.04", "叁佰贰拾伍元零肆分"),
    ("0.5", "伍角"),
    ("0.05", "伍分"),
    ("0.25", "贰角伍分"),
    ("10.5", "壹拾元伍角"),
    ("100005", "壹拾万零伍元整"),
    ("1005000", "壹佰万零伍仟元整"),
    ("10000", "壹万元整"),
    ("100000000", "壹亿元整"),
    ("100010000", "壹亿零壹万元整"),
    ("1000000001", "壹拾亿零壹元整"),
    ("99999999999.99", "玖佰玖拾玖亿玖仟玖佰玖拾玖万玖仟玖佰玖拾玖元玖角玖分"),
    ("-100", "负壹佰元整"),
    ("-0.01", "负壹分"),
    ("153.45", "壹佰伍拾叁元肆角伍分"),
    ("2.005", "贰元零壹分"),  # half up to the fen first
    ("2.004", "贰元整"),
]


@pytest.mark.parametrize("amount,words", KNOWN)
def test_known_amounts(amount, words):
    assert cny_upper(amount) == words
    assert cny_upper(D(amount)) == words


def test_empty_and_other_types():
    assert cny_upper(None) == "" and cny_upper("") == ""
    assert cny_upper(12) == "壹拾贰元整"
    assert cny_upper(12.5) == "壹拾贰元伍角"
    assert cny_upper("1,234.00") == "壹仟贰佰叁拾肆元整"
    with pytest.raises(ValueError, match="too large"):
        cny_upper(D("1000000000000"))
    with pytest.raises(ValueError, match="not a number"):
        cny_upper("abc")


DIGIT_VALUE = {c: i for i, c in enumerate("零壹贰叁肆伍陆柒捌玖")}
PLACE_VALUE = {"拾": 10, "佰": 100, "仟": 1000}


def read_back(words):
    """An independent reader of capital numerals: the amount in fen."""
    sign = -1 if words.startswith("负") else 1
    words = words.removeprefix("负")
    if words == "零元整":
        return 0
    yuan_part, _, fraction = words.partition("元") if "元" in words else ("", "", words)
    total = section = digit = 0
    for char in yuan_part:
        if char in DIGIT_VALUE:
            digit = DIGIT_VALUE[char]
        elif char in PLACE_VALUE:
            section += digit * PLACE_VALUE[char]
            digit = 0
        elif char == "万":
            total += (section + digit) * 10_000
            section = digit = 0
        elif char == "亿":
            total = (total + section + digit) * 100_000_000
            section = digit = 0
        else:
            raise AssertionError(char)
    yuan = total + section + digit
    fen = 0
    match = re.fullmatch(r"(?:零)?(?:(.)角)?(?:(.)分)?(整)?", fraction)
    assert match, fraction
    if match.group(1):
        fen += DIGIT_VALUE[match.group(1)] * 10
    if match.group(2):
        fen += DIGIT_VALUE[match.group(2)]
    return sign * (yuan * 100 + fen)


AMOUNTS = st.integers(min_value=-99_999_999_999_99, max_value=99_999_999_999_99)


@given(AMOUNTS)
def test_reads_back_to_the_same_amount(fen):
    amount = D(fen).scaleb(-2)
    assert read_back(cny_upper(amount)) == fen


@given(AMOUNTS)
def test_writing_rules(fen):
    words = cny_upper(D(fen).scaleb(-2))
    body = words.removeprefix("负")
    assert "零零" not in body  # one 零 for a run of zeros
    assert not body.startswith("零") or body == "零元整"
    assert not body.startswith("拾")  # 壹拾, never a bare 拾
    assert body.endswith(("整", "角", "分"))
    yuan, cents = divmod(abs(fen), 100)
    # 整 exactly when there is no 角 and no 分 (and always for 0)
    assert body.endswith("整") == (cents == 0)
    # 零 after 元 when 角 is zero and 分 is not
    if yuan and cents and cents < 10:
        assert "元零" in body
    assert ("负" in words) == (fen < 0)
    assert set(body) <= set("零壹贰叁肆伍陆柒捌玖拾佰仟万亿元角分整")


# --- other filters ----------------------------------------------------------------------------


def test_money_and_number():
    assert money(D("1234567.555")) == "1,234,567.56"
    assert money("0") == "0.00" and money(None) == ""
    assert money(D("-12.345"), grouping=False) == "-12.35"
    assert number(D("12.345")) == "12.35"
    assert number(D("1271.00"), 0) == "1271"
    assert number(D("1234.5"), 1, grouping=True) == "1,234.5"
    assert render("{{ v|money }} {{ v|number(0) }}", v=D("1520.5")) == "1,520.50 1521"


def test_dates():
    day = datetime.date(2026, 3, 5)
    assert format_date(day) == "2026-03-05"
    assert format_date(day, "cn") == "2026年3月5日"
    assert format_date(day, "cn0") == "2026年03月05日"
    assert format_date(day, "%m/%d") == "03/05"
    assert format_date("2026-03-05") == "2026-03-05"
    assert format_month(day) == "2026-03" and format_month(day, "cn") == "2026年3月"
    assert format_date(None) == ""
    with pytest.raises(ValueError, match="unknown date format"):
        format_date(day, "chinese")
    with pytest.raises(ValueError, match="not a date"):
        format_date("yesterday")


def test_pad_and_truncate():
    assert pad("123", 8, "0", right=True) == "00000123"
    assert pad("ab", 4) == "ab  "
    assert pad("toolong", 3) == "toolong"
    assert truncate("东城区人民路128号", 5) == "东城区人…"
    assert truncate("短", 5) == "短"
    assert render('{{ s|truncate(4, "") }}', s="abcdef") == "abcd"


def test_none_prints_as_nothing():
    assert render("[{{ v }}]", v=None) == "[]"


# --- the sandbox ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "source",
    [
        "{{ ''.__class__.__mro__ }}",
        "{{ ''.__class__.__mro__[1].__subclasses__() }}",
        "{{ customer.__class__ }}",
        "{{ customer._secret }}",
        "{{ customer['_secret'] }}",
        "{{ (1).__class__.__base__ }}",
        "{{ customer.name.__len__ }}",
        "{{ lipsum.__globals__ }}",
        "{{ cycler.__init__.__globals__ }}",
        "{{ range(10) }}",
        "{{ self.__init__ }}",
        "{{ bills.append(1) }}",
        "{{ 'x' * 100000 }}",
        "{{ [1] * 1000000 }}",
        "{{ 9 ** 999999 }}",
    ],
)
def test_escapes_are_refused(source):
    context = {"customer": {"name": "张三", "_secret": "x"}, "bills": [1]}
    with pytest.raises(LayoutTemplateError):
        render(source, **context)


def test_a_dict_shows_its_keys_only():
    customer = {"name": "张三"}
    with pytest.raises(LayoutTemplateError, match='unknown field "items"'):
        render("{{ customer.items }}", customer=customer)
    assert render("{{ data.items }}", data={"items": "键"}) == "键"


def test_no_include_or_import():
    with pytest.raises(LayoutTemplateError):
        render('{% include "base.html" %}')
    with pytest.raises(LayoutTemplateError):
        render('{% import "x" as y %}{{ y }}')


def test_undefined_field_names_the_field_and_line():
    with pytest.raises(LayoutTemplateError) as error:
        render("{{ customer.name }}\n{{ customer.nme }}", customer={"name": "张三"})
    assert 'unknown field "nme"' in str(error.value)
    assert error.value.lineno == 2


def test_syntax_error_names_the_line():
    with pytest.raises(LayoutTemplateError) as error:
        compile_template("ok\n{{ customer.name }\n")
    assert error.value.lineno == 2
    assert "syntax error" in str(error.value)
    with pytest.raises(LayoutTemplateError, match="No filter named"):
        compile_template("{{ v|shell }}")


def test_fields_a_template_reads():
    source = (
        "{{ customer.name }}{% for b in bills %}{{ b.amount }}{% endfor %}"
        '{{ bills[0].month|month("cn") }}{{ totals["total"]|cny_upper }}{% set x = 1 %}{{ x }}'
    )
    paths = [path for path, _line in template_fields(source)]
    assert paths == [
        ("customer", "name"),
        ("bills",),
        ("bills", 0, "month"),
        ("totals", "total"),
    ]
