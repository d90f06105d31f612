"""Every UI string has a Chinese translation (the default language)."""

from pathlib import Path

import polib
from django.conf import settings
from django.utils import translation

PO = Path(settings.BASE_DIR) / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"


def test_catalogue_complete():
    catalogue = polib.pofile(str(PO))
    assert len(catalogue) > 200
    assert not catalogue.untranslated_entries()
    assert not [e.msgid for e in catalogue.fuzzy_entries()]


def test_placeholders_kept():
    import re

    pattern = re.compile(r"%\(\w+\)s|\{\{ *\w+ *\}\}")
    for entry in polib.pofile(str(PO)):
        if entry.msgid_plural:
            continue
        assert sorted(pattern.findall(entry.msgid)) == sorted(pattern.findall(entry.msgstr)), (
            entry.msgid
        )


def test_chinese_is_default_and_compiled():
    assert settings.LANGUAGE_CODE == "zh-hans"
    with translation.override("zh-hans"):
        assert translation.gettext("Switch operator") == "切换操作员"
    with translation.override("en"):
        assert translation.gettext("Switch operator") == "Switch operator"


def test_pages_render_in_both_languages(org, admin, login):
    client = login(admin)
    zh = client.get("/org/zones/").content.decode()
    assert "营业分区" in zh or "分区" in zh
    client.post("/i18n/setlang/", {"language": "en", "next": "/org/zones/"})
    en = client.get("/org/zones/").content.decode()
    assert 'lang="en"' in en and "Zones" in en
