"""The font documents print with: one that has the Chinese characters.

The setting ``WATERMIS_PDF_FONT`` (environment variable of the same name) names
a font file (.ttf, .otf or a .ttc collection) and overrides the search. Without
it, the first font found of :data:`CANDIDATES` is used: Debian's
fonts-noto-cjk (installed by ``scripts/setup``), then other Debian CJK fonts,
then whatever ``fc-list`` knows with Chinese. In a collection the Simplified
Chinese face (``SC``) is chosen. PDFs embed only the glyphs they use (subset),
so they print on any printer and open on any computer.
"""

import functools
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.utils.translation import gettext as _

CANDIDATES = (
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJKsc-Regular.otf",
    "/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/google-noto-cjk/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/arphic/uming.ttc",
    "/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc",
)
PROBE = "水费发票壹贰叁肆伍陆柒捌玖拾佰仟万亿元角分整"


class FontMissing(Exception):
    """No usable font with Chinese characters: the message says what to install or set."""


@dataclass(frozen=True)
class FontChoice:
    path: str
    index: int  # the face in a .ttc collection
    name: str


def configured_path():
    return getattr(settings, "WATERMIS_PDF_FONT", "") or ""


def cjk_font():
    """The font to print with (cached per configured path)."""
    return _find(configured_path())


@functools.cache
def _find(configured):
    if configured:
        path = Path(configured)
        if not path.is_file():
            raise FontMissing(
                _("WATERMIS_PDF_FONT names %(path)s, which is not a font file.") % {"path": path}
            )
        choice = _open(path)
        if choice is None:
            raise FontMissing(
                _("The font %(path)s (WATERMIS_PDF_FONT) has no Chinese characters.")
                % {"path": path}
            )
        return choice
    for candidate in (*CANDIDATES, *_fontconfig_paths()):
        path = Path(candidate)
        if path.is_file():
            choice = _open(path)
            if choice is not None:
                return choice
    raise FontMissing(
        _(
            "No font with Chinese characters was found to print documents. Install one "
            "(scripts/setup installs fonts-noto-cjk: apt-get install fonts-noto-cjk) or set "
            "WATERMIS_PDF_FONT to a .ttf, .otf or .ttc font file."
        )
    )


def _fontconfig_paths():
    """Font files fontconfig lists for Chinese, when fc-list exists."""
    fc_list = shutil.which("fc-list")
    if not fc_list:
        return []
    try:
        out = subprocess.run(  # noqa: S603 - a fixed command, no user input
            [fc_list, ":lang=zh", "file"], capture_output=True, text=True, timeout=10, check=False
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return []
    paths = [line.split(":")[0].strip() for line in out.splitlines() if line.strip()]
    return sorted(p for p in paths if p.lower().endswith((".ttf", ".otf", ".ttc")))


def _open(path):
    """The face of ``path`` with the Chinese characters (SC first in a collection), or None."""
    from fontTools.ttLib import TTCollection, TTFont, TTLibError

    try:
        if path.suffix.lower() == ".ttc":
            faces = list(enumerate(TTCollection(str(path), lazy=True).fonts))
        else:
            faces = [(0, TTFont(str(path), lazy=True))]
    except (OSError, TTLibError, AssertionError, ValueError):
        return None
    ranked = sorted(faces, key=lambda face: (0 if " SC" in _name(face[1]) else 1, face[0]))
    for index, font in ranked:
        try:
            cmap = font.getBestCmap() or {}
        except (KeyError, TTLibError, AssertionError, ValueError):
            continue
        if all(ord(char) in cmap for char in PROBE):
            return FontChoice(str(path), index, _name(font))
    return None


def _name(font):
    try:
        return str(font["name"].getDebugName(4) or "")
    except (KeyError, AttributeError):
        return ""


def missing_glyphs(text):
    """The characters of ``text`` the print font has no glyph for (sorted, spaces left out)."""
    from fontTools.ttLib import TTCollection, TTFont

    choice = cjk_font()
    path = Path(choice.path)
    font = (
        TTCollection(str(path), lazy=True).fonts[choice.index]
        if path.suffix.lower() == ".ttc"
        else TTFont(str(path), lazy=True)
    )
    cmap = font.getBestCmap() or {}
    return sorted({char for char in text if not char.isspace() and ord(char) not in cmap})
