"""A small town for printing: a book in zone A with three accounts (one with two meters),
a book in zone B with one; readings of three months; helpers that look at PDFs."""

import ctypes
import datetime
import io
from decimal import Decimal

import pytest

from watermis.customers import services as customer_services
from watermis.readings import services as reading_services
from watermis.readings.models import Reading
from watermis.readings.services import Entry
from watermis.tariffs import services as tariff_services
from watermis.tariffs.models import CategoryKind

D = Decimal
TODAY = datetime.date(2026, 11, 24)
MONTHS = [datetime.date(2026, 8, 1), datetime.date(2026, 9, 1), datetime.date(2026, 10, 1)]


@pytest.fixture(autouse=True)
def english(settings, client):
    """Messages are read in English (the documents themselves print in Chinese)."""
    from django.utils import translation

    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    with translation.override("en"):
        yield


@pytest.fixture
def town(org, admin):
    org["company"].short_name = "测试水务"
    org["company"].service_hotline = "96390"
    org["company"].save()
    category = tariff_services.create_category(
        admin, {"code": "RES", "name": "居民", "kind": CategoryKind.RESIDENTIAL}
    )
    tariff = tariff_services.create_tariff(
        admin, {"code": "RES", "name": "居民水价", "category": category}
    )
    area_a = customer_services.create_area(
        admin, {"code": "A1", "name": "东一片", "zone": org["zone_a"]}
    )
    area_b = customer_services.create_area(
        admin, {"code": "B1", "name": "西一片", "zone": org["zone_b"]}
    )
    book_a = customer_services.create_book(
        admin, {"code": "DA01", "name": "东一册", "area": area_a, "reader": org["emp_a"]}
    )
    book_b = customer_services.create_book(
        admin, {"code": "XB01", "name": "西一册", "area": area_b}
    )
    customers = []
    for n, (name, book) in enumerate(
        [("张三丰", book_a), ("李四", book_a), ("王五", book_a), ("赵六", book_b)], start=1
    ):
        customers.append(
            customer_services.open_customer(
                admin,
                {
                    "name": name,
                    "address": f"解放路{n}号",
                    "book": book,
                    "category": category,
                    "household_size": 3,
                    "route_order": 10 - n,  # walking order is the reverse of opening order
                },
                {
                    "number": f"M{n:03d}",
                    "installed_on": datetime.date(2026, 1, 1),
                    "initial_reading": D("100"),
                    "tariff": tariff,
                    "caliber": "DN15",
                    "location": "楼道水表箱",
                },
                today=datetime.date(2026, 1, 1),
            )
        )
    second = customer_services.add_meter(
        admin,
        customers[0],
        {"number": "M001B", "installed_on": datetime.date(2026, 1, 1), "tariff": tariff},
    )
    return {
        "category": category,
        "tariff": tariff,
        "book_a": book_a,
        "book_b": book_b,
        "customers": customers,
        "second_meter": second,
    }


@pytest.fixture
def readings(town, org, admin):
    """Three months read in both zones: each meter +10, +12, +15 m³."""
    for month, step in zip(MONTHS, (10, 12, 15), strict=True):
        for zone in ("zone_a", "zone_b"):
            periods = reading_services.open_periods(admin, org[zone], month, today=TODAY)
            for period in periods:
                if period.book_id is None:
                    continue
                for reading in Reading.objects.filter(period=period).order_by("pk"):
                    entry = Entry(reading.previous + step, period.planned_on)
                    reading_services.enter_reading(admin, reading, entry, today=TODAY)
    return MONTHS


# --- looking at PDFs --------------------------------------------------------------------------


def page_image(pdf_bytes, page=0, dpi=100, mode="L"):
    import pypdfium2 as pdfium

    document = pdfium.PdfDocument(bytes(pdf_bytes))
    try:
        return document[page].render(scale=dpi / 72).to_pil().convert(mode)
    finally:
        document.close()


def ink(image, box=None, dpi=100):
    """Dark pixels in ``box`` (x, y, w, h in mm; the whole page without it)."""
    if box is not None:
        scale = dpi / 25.4
        x, y, w, h = box
        image = image.crop(
            (int(x * scale), int(y * scale), int((x + w) * scale), int((y + h) * scale))
        )
    return sum(image.histogram()[:128])


def page_texts(pdf_bytes):
    import pypdfium2 as pdfium

    document = pdfium.PdfDocument(bytes(pdf_bytes))
    try:
        return [page.get_textpage().get_text_range() for page in document]
    finally:
        document.close()


def page_count(pdf_bytes):
    import pypdfium2 as pdfium

    document = pdfium.PdfDocument(bytes(pdf_bytes))
    try:
        return len(document)
    finally:
        document.close()


def embedded_fonts(pdf_bytes, page=0):
    """(embedded?, font program bytes) of each text object's font on ``page``."""
    import pypdfium2 as pdfium
    import pypdfium2.raw as raw

    document = pdfium.PdfDocument(bytes(pdf_bytes))
    fonts = []
    try:
        for obj in document[page].get_objects():
            if obj.type != raw.FPDF_PAGEOBJ_TEXT:
                continue
            font = raw.FPDFTextObj_GetFont(obj.raw)
            size = ctypes.c_size_t()
            raw.FPDFFont_GetFontData(font, None, 0, ctypes.byref(size))
            buffer = (ctypes.c_uint8 * size.value)()
            raw.FPDFFont_GetFontData(font, buffer, size.value, ctypes.byref(size))
            fonts.append((bool(raw.FPDFFont_GetIsEmbedded(font)), bytes(buffer)))
    finally:
        document.close()
    return fonts


def glyph_outlines(font_program):
    """Glyph name → bounds (None for an empty glyph) of an embedded CFF font program."""
    from fontTools.cffLib import CFFFontSet
    from fontTools.pens.boundsPen import BoundsPen

    cff = CFFFontSet()
    cff.decompile(io.BytesIO(font_program), None)
    charstrings = cff[cff.fontNames[0]].CharStrings
    bounds = {}
    for name in charstrings.keys():  # noqa: SIM118 - CharStrings iterates otherwise
        pen = BoundsPen(charstrings)
        charstrings[name].draw(pen)
        bounds[name] = pen.bounds
    return bounds
