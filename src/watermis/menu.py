"""The left menu: the modules of SPEC.md, each with the pages that exist.

A page shows only to operators holding its permission; a module with no
visible page is hidden. Later modules add their pages here.
"""

from django.utils.translation import gettext_lazy as _

MENU = [
    (
        _("Business zones"),
        "bi-geo-alt",
        [
            (_("Zones"), "org:zone_list", "org.view_zone"),
        ],
    ),
    (
        _("Queries"),
        "bi-search",
        [
            (_("Change journal"), "core:journal", "core.view_auditentry"),
        ],
    ),
    (
        _("Staff"),
        "bi-people",
        [
            (_("Business units"), "org:unit_list", "org.view_businessunit"),
            (_("Employees"), "org:employee_list", "org.view_employee"),
            (_("Meter readers"), "org:reader_list", "org.view_employee"),
            (_("Collectors"), "org:collector_list", "org.view_employee"),
            (_("Installers"), "org:installer_list", "org.view_employee"),
            (_("Inspectors"), "org:inspector_list", "org.view_employee"),
        ],
    ),
    (
        _("Basic settings"),
        "bi-sliders",
        [
            (_("Company information"), "org:company", "org.view_company"),
            (_("Price items"), "tariffs:item_list", "tariffs.view_priceitem"),
            (_("Water-use categories"), "tariffs:category_list", "tariffs.view_watercategory"),
            (_("Tariffs"), "tariffs:tariff_list", "tariffs.view_tariff"),
            (_("Minimum volumes"), "tariffs:minimum_list", "tariffs.view_minimumvolume"),
            (_("Tariff preview"), "tariffs:preview", "tariffs.view_tariff"),
        ],
    ),
    (
        _("System maintenance"),
        "bi-gear",
        [
            (_("Change password"), "org:password_change", None),
            (_("Switch operator"), "org:switch_operator", None),
            (_("Login history"), "org:login_history", "org.view_loginevent"),
            (_("Parameters"), "system:parameter_list", "system.view_parameter"),
            (_("Operators"), "org:operator_list", "org.view_operator"),
            (_("Roles and permissions"), "org:role_list", "org.manage_roles"),
        ],
    ),
]


def menu_for(user):
    """The menu groups and items this user may open."""
    groups = []
    for label, icon, items in MENU:
        visible = [(t, url, perm) for t, url, perm in items if perm is None or user.has_perm(perm)]
        if visible:
            groups.append({"label": label, "icon": icon, "items": visible})
    return groups
