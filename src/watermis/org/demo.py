"""The demo water company's organisation: zones, units, staff and an operator per role.

Deterministic: the same seed gives the same company. Rows are written in
bulk with their journal entries (bulk paths journal explicitly).
"""

import datetime
import random

from django.utils import timezone

from watermis.core import journal
from watermis.core.models import AuditAction

from . import roles
from .models import BusinessUnit, Company, Employee, Gender, Operator, UnitKind, Zone, ZoneKind

DEMO_PASSWORD = "Water2026"  # noqa: S105 - printed for the demo's users, never used in production

ZONES = [
    ("DC", "东城区", ZoneKind.URBAN),
    ("XC", "西城区", ZoneKind.URBAN),
    ("NC", "南城区", ZoneKind.URBAN),
    ("HK", "河口镇", ZoneKind.TOWNSHIP),
    ("SQ", "石桥镇", ZoneKind.TOWNSHIP),
    ("LL", "柳林乡", ZoneKind.TOWNSHIP),
]

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华玉萍红娥建华文辉力斌宇浩凯健俊帆帅旭宁龙林欣雪琳晨亮佳慧海波春梅志强晓东"

OPERATORS = [
    # username, role, zone code (None: every zone), employee role flag
    ("admin", roles.ADMIN, None, None),
    ("manager", roles.MANAGER, None, None),
    ("clerk", roles.CLERK, "DC", None),
    ("cashier", roles.CASHIER, "DC", None),
    ("cashier2", roles.CASHIER, "XC", None),
    ("reader", roles.READER, "DC", "is_reader"),
    ("collector", roles.COLLECTOR, "HK", "is_collector"),
]


def person_name(rng):
    given = rng.choice(GIVEN) + (rng.choice(GIVEN) if rng.random() < 0.6 else "")
    return rng.choice(SURNAMES) + given


def build(rng: random.Random, staff_per_unit=8):
    """Create the organisation; returns a dict of what later modules need (zones, units, staff)."""
    now = timezone.now()
    company = journal.create_object(
        Company(
            name="江城市自来水有限公司",
            short_name="江城水务",
            credit_code="91420100MA4K0ABC1X",
            legal_representative="陈建国",
            address="江城市东城区解放路88号",
            postal_code="430000",
            phone="027-88886666",
            service_hotline="96655",
            bank_name="中国工商银行江城分行营业部",
            bank_account="3202 0012 0900 1234 567",
        )
    )
    zones = [
        Zone(code=code, name=name, kind=kind, sort_order=i * 10)
        for i, (code, name, kind) in enumerate(ZONES)
    ]
    Zone.objects.bulk_create(zones)
    units = []
    for zone in zones:
        units.append(
            BusinessUnit(
                code=f"{zone.code}01",
                name=f"{zone.name}营业厅",
                zone=zone,
                kind=UnitKind.HALL,
                address=f"江城市{zone.name}人民路{rng.randint(1, 300)}号",
                phone=f"027-8{rng.randint(1000000, 9999999)}",
            )
        )
        if zone.kind == ZoneKind.URBAN:
            units.append(
                BusinessUnit(
                    code=f"{zone.code}02",
                    name=f"{zone.name}{rng.choice(['建设路', '中山路', '长江路'])}收费点",
                    zone=zone,
                    kind=UnitKind.POINT,
                    address=f"江城市{zone.name}建设路{rng.randint(1, 300)}号",
                )
            )
    units.append(
        BusinessUnit(
            code="HQ01",
            name="营业管理科",
            zone=zones[0],
            kind=UnitKind.DEPARTMENT,
            shares_data=True,
        )
    )
    BusinessUnit.objects.bulk_create(units)

    employees = []
    number = 1000
    for unit in units:
        for i in range(staff_per_unit):
            number += 1
            flags = {
                "is_reader": i % 4 in (0, 1),
                "is_collector": i % 4 == 2 or (unit.zone.kind == ZoneKind.TOWNSHIP and i % 4 == 1),
                "is_installer": i % 8 == 3,
                "is_inspector": i % 8 == 7,
            }
            employees.append(
                Employee(
                    code=f"E{number}",
                    name=person_name(rng),
                    gender=rng.choice([Gender.MALE, Gender.FEMALE]),
                    phone=f"13{rng.randint(100000000, 999999999)}",
                    unit=unit,
                    hired_on=datetime.date(2000, 1, 1)
                    + datetime.timedelta(days=rng.randint(0, 9000)),
                    **flags,
                )
            )
    Employee.objects.bulk_create(employees)
    journal.record_many(
        [
            journal.build_entry(
                obj, AuditAction.CREATE, None, journal.snapshot(obj, m2m=False), at=now
            )
            for obj in [*zones, *units, *employees]
        ]
    )

    role_groups = roles.ensure_standard_roles()
    zone_by_code = {z.code: z for z in zones}
    operators = {}
    for username, role, zone_code, flag in OPERATORS:
        if zone_code is None:
            unit = units[-1]  # the management department
        else:
            unit = next(u for u in units if u.zone_id == zone_by_code[zone_code].pk)
        employee = None
        if flag:
            employee = next(
                e
                for e in employees
                if e.unit_id == unit.pk
                and getattr(e, flag)
                and e.pk not in {o.employee_id for o in operators.values()}
            )
        operator = Operator(
            username=username,
            name=employee.name if employee else person_name(rng),
            unit=unit,
            employee=employee,
            all_zones=zone_code is None,
            password_changed_at=now,
        )
        operator.set_password(DEMO_PASSWORD)
        operators[username] = journal.create_object(operator, m2m={"groups": [role_groups[role]]})
    return {
        "company": company,
        "zones": zones,
        "units": units,
        "employees": employees,
        "operators": operators,
    }
