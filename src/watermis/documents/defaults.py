"""The built-in default layout of every document kind.

A new installation prints with these until the administrator saves layouts of
its own (``manage.py create_default_layouts`` and the demo store them as
editable layouts). Each is drawn for plain paper with the form's frame and
captions flagged ``form``, so switching "print the form" off turns it into an
overprint layout for a pre-printed form of the same design (套打):

- water and agency-fee invoices: 241 × 93 mm continuous forms (9.5 × 3.66 in);
- receipts, bank collection slips, deposit vouchers: 210 × 99 mm (3 on A4);
- payment and arrears notices: A4;
- meter cards: 148 × 105 mm (A6 landscape).

Texts are Chinese: the documents are printed for the company's customers.
"""

from django.utils.translation import gettext_lazy as _

from .models import DocumentKind

# --- element builders (positions and sizes in mm, fonts in pt) -----------------------------


def text(x, y, w, h, template, size=9, align="L", bold=False, form=False):
    return {
        "type": "text",
        "x": x,
        "y": y,
        "w": w,
        "h": h,
        "size": size,
        "bold": bold,
        "align": align,
        "form": form,
        "template": template,
    }


def caption(x, y, w, h, words, size=9, align="L", bold=False):
    """A caption of the form (printed only with the form)."""
    return text(x, y, w, h, words, size=size, align=align, bold=bold, form=True)


def para(x, y, w, h, template, size=10, align="L", form=False):
    return {
        "type": "multiline",
        "x": x,
        "y": y,
        "w": w,
        "h": h,
        "size": size,
        "bold": False,
        "align": align,
        "form": form,
        "template": template,
    }


def line(x, y, w=0, h=0, stroke=0.2):
    return {"type": "line", "x": x, "y": y, "w": w, "h": h, "stroke": stroke, "form": True}


def box(x, y, w, h, stroke=0.3):
    return {"type": "box", "x": x, "y": y, "w": w, "h": h, "stroke": stroke, "form": True}


def column(width, title, template, align="L"):
    return {"width": width, "align": align, "title": title, "template": template}


def table(x, y, h, rows, columns, size=9, row_height=None, border=True):
    element = {
        "type": "table",
        "x": x,
        "y": y,
        "w": round(sum(c["width"] for c in columns), 2),
        "h": h,
        "size": size,
        "bold": False,
        "align": "L",
        "form": False,
        "rows": rows,
        "border": border,
        "columns": columns,
    }
    if row_height:
        element["row_height"] = row_height
    return element


def pair(x, y, label_w, value_w, h, words, template, size=9, align="L", bold=False):
    """A caption and its value side by side."""
    return [
        caption(x, y, label_w, h, words, size=size),
        text(x + label_w, y, value_w, h, template, size=size, align=align, bold=bold),
    ]


def grid_row(x, y, h, cells, size=9):
    """A row of boxed cells: (width, caption, template); a caption of None is a value only."""
    out = []
    left = x
    for width, words, template, label_w in cells:
        out.append(box(left, y, width, h, stroke=0.2))
        if words:
            out.append(caption(left + 1, y, label_w, h, words, size=size))
            out.append(text(left + 1 + label_w, y, width - label_w - 2, h, template, size=size))
        else:
            out.append(text(left + 1, y, width - 2, h, template, size=size))
        left += width
    return out


def paper(width, height, margins=(0, 0, 0, 0), per_sheet=1):
    top, right, bottom, left = margins
    return {
        "paper_width": width,
        "paper_height": height,
        "margin_top": top,
        "margin_right": right,
        "margin_bottom": bottom,
        "margin_left": left,
        "offset_x": 0,
        "offset_y": 0,
        "per_sheet": per_sheet,
        "copies": 1,
        "print_background": True,
    }


MONEY = "{{ %s|money }}"
TODAY = '{{ printed_on|date("cn") }}'


# --- the layouts ---------------------------------------------------------------------------


def water_invoice():
    elements = [
        caption(45, 3, 130, 8, "{{ company.name }} 水费专用发票", size=15, align="C", bold=True),
        caption(180, 4, 12, 6, "No.", size=10),
        text(192, 4, 44, 6, "{{ invoice.number }}", size=12, bold=True),
        *pair(5, 12, 18, 40, 5, "开票日期：", '{{ invoice.issued_on|date("cn") }}'),
        *pair(68, 12, 12, 30, 5, "户号：", "{{ customer.account_no }}", bold=True),
        *pair(112, 12, 12, 50, 5, "户名：", "{{ customer.name }}"),
        *pair(176, 12, 18, 42, 5, "用水类别：", "{{ customer.category }}"),
        *pair(5, 17.5, 12, 150, 5, "地址：", "{{ customer.address }}"),
        *pair(176, 17.5, 18, 42, 5, "抄表册：", "{{ customer.book_code }}"),
        box(5, 23, 231, 62),
        table(
            5,
            23,
            35,
            "bills",
            [
                column(17, "月份", "{{ row.month|month }}", "C"),
                column(27, "表号", "{{ row.meter_number }}"),
                column(19, "上期读数", "{{ row.previous|number(0) }}", "R"),
                column(19, "本期读数", "{{ row.current|number(0) }}", "R"),
                column(16, "水量(m³)", "{{ row.volume|number(0) }}", "R"),
                column(22, "金额(元)", "{{ row.amount|money }}", "R"),
            ],
            row_height=5,
        ),
        table(
            127,
            23,
            35,
            "lines",
            [
                column(26, "收费项目", "{{ row.item }}"),
                column(18, "阶梯", "{{ row.tier }}", "C"),
                column(18, "水量(m³)", "{{ row.volume|number(0) }}", "R"),
                column(20, "单价(元)", "{{ row.unit_price|number(2) }}", "R"),
                column(27, "金额(元)", "{{ row.amount|money }}", "R"),
            ],
            row_height=5,
        ),
        line(5, 65, 231),
        *pair(
            7,
            59.5,
            36,
            120,
            5.5,
            "合计金额（大写）：",
            "{{ totals.total|cny_upper }}",
            size=10,
            bold=True,
        ),
        *pair(170, 59.5, 18, 46, 5.5, "（小写）¥", "{{ totals.total|money }}", size=10, bold=True),
        *pair(7, 66, 22, 25, 5, "其中滞纳金：", MONEY % "totals.late_fee"),
        *pair(56, 66, 18, 30, 5, "缴费方式：", "{{ payment.method }}"),
        *pair(106, 66, 12, 25, 5, "实收：", MONEY % "payment.received"),
        *pair(145, 66, 12, 20, 5, "找零：", MONEY % "payment.change"),
        *pair(180, 66, 20, 34, 5, "预存余额：", MONEY % "payment.balance"),
        line(5, 72, 231),
        *pair(7, 73, 12, 150, 5, "备注：", "{{ invoice.remark }}"),
        *pair(7, 79, 20, 80, 5, "收款单位：", "{{ company.name }}"),
        *pair(115, 79, 16, 40, 5, "开票人：", "{{ invoice.operator }}"),
        *pair(175, 79, 16, 40, 5, "打印日期：", TODAY),
        caption(
            5,
            86,
            231,
            4.5,
            "服务热线：{{ company.service_hotline }}　地址：{{ company.address }}　本发票手写无效，涂改无效",
            size=7.5,
            align="C",
        ),
    ]
    return paper(241, 93, (2, 3, 2, 3)), elements


def agency_invoice():
    elements = [
        caption(45, 3, 130, 8, "{{ company.name }} 代收费专用发票", size=15, align="C", bold=True),
        caption(180, 4, 12, 6, "No.", size=10),
        text(192, 4, 44, 6, "{{ invoice.number }}", size=12, bold=True),
        *pair(5, 12, 18, 40, 5, "开票日期：", '{{ invoice.issued_on|date("cn") }}'),
        *pair(68, 12, 12, 30, 5, "户号：", "{{ customer.account_no }}", bold=True),
        *pair(112, 12, 12, 60, 5, "户名：", "{{ customer.name }}"),
        *pair(5, 17.5, 12, 150, 5, "地址：", "{{ customer.address }}"),
        box(5, 23, 231, 56),
        table(
            5,
            23,
            35,
            "lines",
            [
                column(20, "月份", "{{ row.month|month }}", "C"),
                column(36, "收费项目", "{{ row.item }}"),
                column(80, "代收单位", "{{ row.collected_for }}"),
                column(28, "水量(m³)", "{{ row.volume|number(0) }}", "R"),
                column(28, "单价(元)", "{{ row.unit_price|number(2) }}", "R"),
                column(39, "金额(元)", "{{ row.amount|money }}", "R"),
            ],
            row_height=5,
        ),
        *pair(
            7,
            59.5,
            36,
            120,
            5.5,
            "合计金额（大写）：",
            "{{ totals.total|cny_upper }}",
            size=10,
            bold=True,
        ),
        *pair(170, 59.5, 18, 46, 5.5, "（小写）¥", "{{ totals.total|money }}", size=10, bold=True),
        line(5, 65, 231),
        *pair(7, 66, 12, 150, 5, "备注：", "{{ invoice.remark }}"),
        caption(7, 72, 220, 5, "以上费用由本公司代为收取，收入全额缴入代收单位。", size=8),
        *pair(7, 80, 20, 80, 5, "收款单位：", "{{ company.name }}"),
        *pair(115, 80, 16, 40, 5, "开票人：", "{{ invoice.operator }}"),
        *pair(175, 80, 16, 40, 5, "打印日期：", TODAY),
        caption(
            5,
            86,
            231,
            4.5,
            "服务热线：{{ company.service_hotline }}　地址：{{ company.address }}　本发票手写无效，涂改无效",
            size=7.5,
            align="C",
        ),
    ]
    return paper(241, 93, (2, 3, 2, 3)), elements


def receipt():
    elements = [
        caption(8, 5, 194, 8, "{{ company.name }} 水费收据", size=14, align="C", bold=True),
        caption(150, 14, 10, 5, "No.", size=9),
        text(160, 14, 42, 5, "{{ receipt.number }}", size=10, bold=True),
        *pair(8, 14, 18, 40, 5, "收款日期：", '{{ receipt.issued_on|date("cn") }}'),
        *pair(8, 20, 12, 34, 5, "户号：", "{{ customer.account_no }}", bold=True),
        *pair(56, 20, 12, 40, 5, "户名：", "{{ customer.name }}"),
        *pair(112, 20, 18, 72, 5, "用水类别：", "{{ customer.category }}"),
        *pair(8, 25.5, 12, 180, 5, "地址：", "{{ customer.address }}"),
        table(
            8,
            32,
            30,
            "bills",
            [
                column(24, "月份", "{{ row.month|month }}", "C"),
                column(36, "表号", "{{ row.meter_number }}"),
                column(30, "上期读数", "{{ row.previous|number(0) }}", "R"),
                column(30, "本期读数", "{{ row.current|number(0) }}", "R"),
                column(30, "水量(m³)", "{{ row.volume|number(0) }}", "R"),
                column(44, "金额(元)", "{{ row.amount|money }}", "R"),
            ],
            row_height=5,
        ),
        *pair(
            8,
            64,
            34,
            106,
            5.5,
            "本次缴费（大写）：",
            "{{ payment.amount|cny_upper }}",
            size=10,
            bold=True,
        ),
        *pair(150, 64, 18, 34, 5.5, "（小写）¥", "{{ payment.amount|money }}", size=10, bold=True),
        *pair(8, 70.5, 18, 24, 5, "缴费方式：", "{{ payment.method }}"),
        *pair(56, 70.5, 12, 22, 5, "实收：", MONEY % "payment.received"),
        *pair(96, 70.5, 12, 20, 5, "找零：", MONEY % "payment.change"),
        *pair(
            134,
            70.5,
            18,
            50,
            5,
            "预存余额：",
            "{{ payment.balance_before|money }} → {{ payment.balance_after|money }}",
        ),
        *pair(8, 76.5, 12, 180, 5, "备注：", "{{ receipt.remark }}"),
        line(8, 83, 194),
        *pair(8, 84, 20, 80, 5, "收款单位：", "{{ company.name }}"),
        *pair(120, 84, 16, 30, 5, "收款人：", "{{ receipt.operator }}"),
        caption(
            8,
            90,
            194,
            4.5,
            "服务热线：{{ company.service_hotline }}　此收据不作报销凭证，需要发票请凭此收据到营业厅开具",
            size=7.5,
            align="C",
        ),
    ]
    return paper(210, 99, (3, 4, 3, 4)), elements


def payment_notice():
    elements = [
        caption(15, 14, 180, 9, "{{ company.name }}", size=16, align="C", bold=True),
        caption(15, 24, 180, 11, "缴 费 通 知 单", size=22, align="C", bold=True),
        *pair(15, 38, 20, 60, 6, "通知日期：", '{{ as_of|date("cn") }}', size=10),
        *pair(120, 38, 20, 55, 6, "账单月份：", '{{ month|month("cn") }}', size=10),
        box(15, 45, 180, 37),
        *grid_row(
            15,
            45,
            7.4,
            [
                (90, "户　　号：", "{{ customer.account_no }}", 20),
                (90, "户　　名：", "{{ customer.name }}", 20),
            ],
            size=10,
        ),
        *grid_row(15, 52.4, 7.4, [(180, "用水地址：", "{{ customer.address }}", 20)], size=10),
        *grid_row(
            15,
            59.8,
            7.4,
            [
                (90, "用水类别：", "{{ customer.category }}", 20),
                (90, "联系电话：", "{{ customer.phone }}", 20),
            ],
            size=10,
        ),
        *grid_row(
            15,
            67.2,
            7.4,
            [
                (90, "水表编号：", "{{ reading.meter_number }}", 20),
                (90, "抄 表 册：", "{{ customer.book_code }}", 20),
            ],
            size=10,
        ),
        *grid_row(
            15,
            74.6,
            7.4,
            [
                (60, "上期读数：", "{{ reading.previous|number(0) }}", 20),
                (60, "本期读数：", "{{ reading.current|number(0) }}", 20),
                (60, "用水量：", "{{ reading.volume|number(0) }} m³", 16),
            ],
            size=10,
        ),
        caption(15, 87, 60, 7, "本期水费明细", size=11, bold=True),
        text(
            100,
            87,
            95,
            7,
            "抄表期间：{{ reading.period_start|date }} 至 {{ reading.period_end|date }}",
            size=9,
            align="R",
        ),
        table(
            15,
            94,
            49,
            "lines",
            [
                column(38, "水表编号", "{{ row.meter_number }}"),
                column(36, "收费项目", "{{ row.item }}"),
                column(24, "阶梯", "{{ row.tier }}", "C"),
                column(26, "水量(m³)", "{{ row.volume|number(0) }}", "R"),
                column(26, "单价(元)", "{{ row.unit_price|number(2) }}", "R"),
                column(30, "金额(元)", "{{ row.amount|money }}", "R"),
            ],
            size=10,
            row_height=7,
        ),
        caption(15, 148, 100, 7, "往期欠费", size=11, bold=True),
        table(
            15,
            155,
            42,
            "arrears",
            [
                column(30, "账单月份", "{{ row.month|month }}", "C"),
                column(38, "水表编号", "{{ row.meter_number }}"),
                column(28, "账单金额", "{{ row.amount|money }}", "R"),
                column(28, "未缴金额", "{{ row.open|money }}", "R"),
                column(26, "滞纳金", "{{ row.late_fee|money }}", "R"),
                column(30, "缴费期限", "{{ row.due_on|date }}", "C"),
            ],
            size=10,
            row_height=7,
        ),
        box(15, 202, 180, 30),
        *pair(20, 204, 30, 30, 7, "本期应缴：", MONEY % "totals.current", size=11, align="R"),
        *pair(110, 204, 30, 30, 7, "往期欠费：", MONEY % "totals.arrears", size=11, align="R"),
        *pair(20, 212, 30, 30, 7, "滞 纳 金：", MONEY % "totals.late_fee", size=11, align="R"),
        *pair(
            110,
            212,
            30,
            30,
            7,
            "合计应缴：",
            "¥{{ totals.total|money }}",
            size=13,
            align="R",
            bold=True,
        ),
        *pair(
            20,
            222,
            38,
            130,
            7,
            "合计（大写）：",
            "{{ totals.total|cny_upper }}",
            size=12,
            bold=True,
        ),
        text(
            15,
            238,
            180,
            8,
            '请于{{ pay_by|date("cn") }}前缴清水费，逾期将按规定加收滞纳金。',
            size=12,
            bold=True,
        ),
        para(
            15,
            248,
            180,
            24,
            "缴费方式：1. 到{{ company.short_name or company.name }}各营业厅柜台缴费；"
            "2. 办理银行代扣，按月自动扣缴；3. 通过微信、支付宝“生活缴费”搜索“{{ company.short_name or company.name }}”，"
            "输入户号 {{ customer.account_no }} 缴费。如对水量、水费有疑问，请拨打服务热线 {{ company.service_hotline }}。",
            size=10,
            form=True,
        ),
        line(15, 276, 180),
        caption(
            15,
            277,
            180,
            5,
            "{{ company.name }}　地址：{{ company.address }}　电话：{{ company.phone }}",
            size=8.5,
            align="C",
        ),
        caption(
            15,
            282,
            180,
            4.5,
            "打印日期：{{ printed_on|date }}　打印人：{{ printed_by }}",
            size=8,
            align="C",
        ),
    ]
    return paper(210, 297, (10, 10, 10, 10)), elements


def arrears_notice():
    elements = [
        caption(15, 14, 180, 9, "{{ company.name }}", size=16, align="C", bold=True),
        caption(15, 24, 180, 11, "欠 费 催 缴 通 知 书", size=22, align="C", bold=True),
        *pair(120, 38, 20, 55, 6, "户　　号：", "{{ customer.account_no }}", size=10, bold=True),
        text(15, 46, 180, 8, "尊敬的 {{ customer.name }} 用户：", size=12, bold=True),
        para(
            15,
            55,
            180,
            40,
            '　　截至{{ as_of|date("cn") }}，您位于{{ customer.address }}的用水户（户号 {{ customer.account_no }}）'
            "尚有 {{ totals.months|number(0) }} 个月的水费未缴，欠缴水费 {{ totals.principal|money }} 元，"
            "滞纳金 {{ totals.late_fee|money }} 元，合计 {{ totals.total|money }} 元"
            '（大写：{{ totals.total|cny_upper }}），最早欠费月份为 {{ totals.oldest_month|month("cn") }}。\n'
            '　　请您于{{ pay_by|date("cn") }}前到我公司营业厅或通过银行、微信、支付宝等渠道缴清上述费用。'
            "逾期仍未缴纳的，我公司将依照《城市供水条例》和供用水合同的约定暂停供水，由此造成的后果由您自行承担。"
            "如您已缴清，请勿理会本通知。",
            size=11,
        ),
        caption(15, 98, 100, 7, "欠费明细", size=11, bold=True),
        table(
            15,
            105,
            84,
            "bills",
            [
                column(22, "账单月份", "{{ row.month|month }}", "C"),
                column(30, "水表编号", "{{ row.meter_number }}"),
                column(14, "水量", "{{ row.volume|number(0) }}", "R"),
                column(22, "账单金额", "{{ row.amount|money }}", "R"),
                column(22, "未缴金额", "{{ row.open|money }}", "R"),
                column(18, "滞纳金", "{{ row.late_fee|money }}", "R"),
                column(20, "小计", "{{ row.total|money }}", "R"),
                column(22, "缴费期限", "{{ row.due_on|date }}", "C"),
                column(10, "逾期", "{{ row.days_overdue|number(0) }}", "R"),
            ],
            size=9,
            row_height=7,
        ),
        box(15, 194, 180, 22),
        *pair(20, 196, 24, 30, 7, "欠缴水费：", MONEY % "totals.principal", size=11, align="R"),
        *pair(82, 196, 20, 26, 7, "滞纳金：", MONEY % "totals.late_fee", size=11, align="R"),
        *pair(
            138,
            196,
            14,
            40,
            7,
            "合计：",
            "¥{{ totals.total|money }}",
            size=13,
            align="R",
            bold=True,
        ),
        *pair(
            20,
            206,
            34,
            135,
            7,
            "合计（大写）：",
            "{{ totals.total|cny_upper }}",
            size=12,
            bold=True,
        ),
        text(115, 228, 80, 7, "{{ company.name }}", size=11, align="C"),
        caption(115, 236, 80, 7, "（盖章）", size=10, align="C"),
        text(115, 244, 80, 7, '{{ as_of|date("cn") }}', size=11, align="C"),
        para(
            15,
            256,
            180,
            14,
            "滞纳金计算至缴清之日，实际金额以缴费时为准。"
            "服务热线：{{ company.service_hotline }}　营业厅地址：{{ company.address }}",
            size=9,
            form=True,
        ),
        line(15, 276, 180),
        caption(
            15,
            277,
            180,
            5,
            "{{ company.name }}　地址：{{ company.address }}　电话：{{ company.phone }}",
            size=8.5,
            align="C",
        ),
        caption(
            15,
            282,
            180,
            4.5,
            "打印日期：{{ printed_on|date }}　打印人：{{ printed_by }}",
            size=8,
            align="C",
        ),
    ]
    return paper(210, 297, (10, 10, 10, 10)), elements


def bank_slip():
    elements = [
        caption(8, 4, 194, 8, "银行托收凭证（委托收款）", size=14, align="C", bold=True),
        *pair(8, 13, 18, 40, 5, "委托日期：", '{{ slip.issued_on|date("cn") }}'),
        *pair(80, 13, 12, 40, 5, "批次：", "{{ slip.batch }}"),
        caption(150, 13, 10, 5, "No.", size=9),
        text(160, 13, 42, 5, "{{ slip.number }}", size=10, bold=True),
        box(8, 19, 194, 30),
        line(105, 19, 0, 30),
        para(9, 26, 6, 16, "付款人", size=10, align="C", form=True),
        line(16, 19, 0, 30),
        para(106, 26, 6, 16, "收款人", size=10, align="C", form=True),
        line(113, 19, 0, 30),
        *pair(17, 20, 14, 73, 6.5, "户　名：", "{{ customer.name }}（{{ customer.account_no }}）"),
        *pair(17, 27, 14, 73, 6.5, "账　号：", "{{ customer.bank_account }}"),
        *pair(17, 34, 14, 73, 6.5, "开户行：", "{{ customer.bank_name }}"),
        *pair(17, 41, 14, 73, 6.5, "协议号：", "{{ customer.mandate_no }}"),
        *pair(114, 20, 14, 73, 6.5, "户　名：", "{{ company.name }}"),
        *pair(114, 27, 14, 73, 6.5, "账　号：", "{{ company.bank_account }}"),
        *pair(114, 34, 14, 73, 6.5, "开户行：", "{{ company.bank_name }}"),
        *pair(114, 41, 14, 73, 6.5, "款　项：", "水费（{{ customer.address }}）"),
        box(8, 49, 194, 8),
        *pair(
            10,
            50,
            32,
            108,
            6,
            "托收金额（大写）：",
            "{{ totals.amount|cny_upper }}",
            size=10,
            bold=True,
        ),
        *pair(152, 50, 14, 34, 6, "¥", "{{ totals.amount|money }}", size=10, bold=True, align="R"),
        table(
            8,
            59,
            25,
            "bills",
            [
                column(40, "账单月份", "{{ row.month|month }}", "C"),
                column(56, "水表编号", "{{ row.meter_number }}"),
                column(44, "水量(m³)", "{{ row.volume|number(0) }}", "R"),
                column(54, "金额(元)", "{{ row.amount|money }}", "R"),
            ],
            row_height=5,
        ),
        caption(8, 86, 120, 5, "付款人开户银行盖章", size=8),
        caption(130, 86, 72, 5, "收款人盖章", size=8, align="R"),
        caption(
            8,
            92,
            194,
            4,
            "本凭证依据付款人签订的委托扣款协议办理，服务热线：{{ company.service_hotline }}",
            size=7.5,
            align="C",
        ),
    ]
    return paper(210, 99, (3, 4, 2, 4)), elements


def deposit_voucher():
    elements = [
        caption(8, 5, 194, 8, "{{ company.name }} 预存水费凭证", size=14, align="C", bold=True),
        *pair(8, 15, 18, 50, 5, "预存日期：", '{{ voucher.issued_on|date("cn") }}'),
        caption(150, 15, 10, 5, "No.", size=9),
        text(160, 15, 42, 5, "{{ voucher.number }}", size=10, bold=True),
        box(8, 22, 194, 44),
        *grid_row(
            8,
            22,
            8.8,
            [
                (97, "户　　号：", "{{ customer.account_no }}", 20),
                (97, "户　　名：", "{{ customer.name }}", 20),
            ],
            size=10,
        ),
        *grid_row(8, 30.8, 8.8, [(194, "用水地址：", "{{ customer.address }}", 20)], size=10),
        *grid_row(
            8,
            39.6,
            8.8,
            [(194, "预存金额（大写）：", "{{ deposit.amount|cny_upper }}", 36)],
            size=10,
        ),
        *grid_row(
            8,
            48.4,
            8.8,
            [
                (97, "预存金额：", "¥{{ deposit.amount|money }}", 20),
                (97, "缴费方式：", "{{ deposit.method }}", 20),
            ],
            size=10,
        ),
        *grid_row(
            8,
            57.2,
            8.8,
            [
                (97, "预存前余额：", "¥{{ deposit.balance_before|money }}", 24),
                (97, "预存后余额：", "¥{{ deposit.balance_after|money }}", 24),
            ],
            size=10,
        ),
        *pair(8, 69, 12, 180, 5, "备注：", "{{ voucher.remark }}"),
        line(8, 77, 194),
        *pair(8, 79, 20, 80, 5, "收款单位：", "{{ company.name }}"),
        *pair(120, 79, 16, 30, 5, "经办人：", "{{ voucher.operator }}"),
        para(
            8,
            86,
            194,
            9,
            "预存款用于抵扣以后各期水费，不计利息。本凭证不作报销凭证，开具发票请凭本凭证到营业厅办理。"
            "服务热线：{{ company.service_hotline }}",
            size=7.5,
            align="C",
            form=True,
        ),
    ]
    return paper(210, 99, (3, 4, 3, 4)), elements


def meter_card():
    elements = [
        caption(
            30,
            3,
            83,
            7,
            "{{ company.short_name or company.name }} 用户抄表卡",
            size=13,
            align="C",
            bold=True,
        ),
        text(113, 4, 30, 6, "{{ book.code }}-{{ customer.route_order }}", size=9, align="R"),
        *grid_row(
            5,
            11,
            5.5,
            [(50, "户号", "{{ customer.account_no }}", 8), (88, "户名", "{{ customer.name }}", 8)],
            size=8.5,
        ),
        *grid_row(5, 16.5, 5.5, [(138, "地址", "{{ customer.address }}", 8)], size=8.5),
        *grid_row(
            5,
            22,
            5.5,
            [
                (50, "电话", "{{ customer.phone }}", 8),
                (44, "类别", "{{ customer.category }}", 8),
                (44, "人口", "{{ customer.household_size }}", 8),
            ],
            size=8.5,
        ),
        *grid_row(
            5,
            27.5,
            5.5,
            [
                (50, "表号", "{{ meter.number }}", 8),
                (44, "口径", "{{ meter.caliber }}", 8),
                (44, "位数", "{{ meter.digits }}", 8),
            ],
            size=8.5,
        ),
        *grid_row(
            5,
            33,
            5.5,
            [
                (94, "表位", "{{ meter.location }}", 8),
                (44, "装表", "{{ meter.installed_on|date }}", 8),
            ],
            size=8.5,
        ),
        *grid_row(
            5,
            38.5,
            5.5,
            [
                (50, "抄表册", "{{ book.name }}", 11),
                (44, "抄表员", "{{ book.reader }}", 11),
                (44, "抄表日", "每月{{ book.reading_day }}日", 11),
            ],
            size=8.5,
        ),
        table(
            5,
            46,
            53,
            "readings",
            [
                column(18, "月份", "{{ row.month|month }}", "C"),
                column(20, "抄表日期", '{{ row.read_on|date("%m-%d") }}', "C"),
                column(20, "上次读数", "{{ row.previous|number(0) }}", "R"),
                column(20, "本次读数", "{{ row.current|number(0) }}", "R"),
                column(16, "水量", "{{ row.volume|number(0) }}", "R"),
                column(22, "抄见状况", "{{ row.status }}", "C"),
                column(22, "抄表员", "", "C"),
            ],
            size=8.5,
            row_height=4.8,
        ),
        text(
            5,
            100,
            138,
            3.5,
            "近期月均用水 {{ average_volume|number(1) }} m³　打印 {{ printed_on|date }}",
            size=7,
        ),
    ]
    return paper(148, 105, (2, 3, 1, 3)), elements


BUILDERS = {
    DocumentKind.WATER_INVOICE: (water_invoice, _("Water invoice 241 × 93 mm")),
    DocumentKind.AGENCY_INVOICE: (agency_invoice, _("Agency-fee invoice 241 × 93 mm")),
    DocumentKind.RECEIPT: (receipt, _("Receipt 210 × 99 mm")),
    DocumentKind.PAYMENT_NOTICE: (payment_notice, _("Payment notice A4")),
    DocumentKind.ARREARS_NOTICE: (arrears_notice, _("Arrears notice A4")),
    DocumentKind.BANK_SLIP: (bank_slip, _("Bank collection slip 210 × 99 mm")),
    DocumentKind.DEPOSIT_VOUCHER: (deposit_voucher, _("Deposit voucher 210 × 99 mm")),
    DocumentKind.METER_CARD: (meter_card, _("Meter card 148 × 105 mm")),
}


def default_layout(kind):
    """(layout field values, element dicts) of the built-in layout of ``kind``."""
    build, name = BUILDERS[DocumentKind(kind)]
    values, elements = build()
    return {**values, "name": str(name)}, elements


def default_layouts():
    """kind → (layout field values, element dicts) of the built-in layouts."""
    return {kind: default_layout(kind) for kind in BUILDERS}
