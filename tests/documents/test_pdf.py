"""PDFs: Chinese text that renders (real glyphs, embedded subset), positions in mm,
overprinting, sheets and copies, fitting texts, tables, many documents at once."""

from dataclasses import replace

import pytest
from django.test import override_settings

from watermis.documents import fonts
from watermis.documents.layout import Element, LayoutSpec
from watermis.documents.models import DocumentKind
from watermis.documents.pdf import DocumentRenderError, render, render_png
from watermis.documents.samples import sample_context
from watermis.documents.services import default_spec, render_pdf, sample_pdf

from .conftest import embedded_fonts, glyph_outlines, ink, page_count, page_image, page_texts

DPI = 100


def spec_of(*elements, kind=DocumentKind.METER_CARD, **values):
    base = {"paper_width": 148, "paper_height": 105}
    base.update(values)
    return LayoutSpec.from_values(kind, base, list(elements))


def text(x, y, w, h, template, **extra):
    return {"type": "text", "x": x, "y": y, "w": w, "h": h, "template": template, **extra}


def test_chinese_text_is_present_and_its_glyphs_are_real():
    spec = spec_of(
        text(10, 10, 60, 10, "水费发票", size=20),
        text(10, 40, 60, 10, "欠费通知", size=20),
        text(10, 70, 60, 10, "{{ customer.name }}", size=20),
    )
    pdf = render(spec, [sample_context(DocumentKind.METER_CARD)])
    # the text comes back out of the PDF: the characters are mapped, not drawn shapes
    assert page_texts(pdf)[0].split() == ["水费发票", "欠费通知", "张三丰"]
    image = page_image(pdf, dpi=DPI)
    first, second = (
        image.crop((0, int(y * DPI / 25.4), 600, int((y + 10) * DPI / 25.4))) for y in (10, 40)
    )
    # real glyphs: ink where the texts are, and two different texts look different
    # (missing glyphs would print as identical empty boxes)
    assert ink(image, (10, 10, 60, 10), DPI) > 300
    assert ink(image, (10, 40, 60, 10), DPI) > 300
    assert first.tobytes() != second.tobytes()
    assert ink(image, (80, 10, 60, 60), DPI) == 0  # and nothing where nothing is placed
    # the embedded font is a subset that has an outline for every character printed
    (embedded, program), *_ = embedded_fonts(pdf)
    assert embedded
    outlines = glyph_outlines(program)
    drawn = [name for name, bounds in outlines.items() if bounds and name != ".notdef"]
    assert len(drawn) == len(set("水费发票欠费通知张三丰"))
    assert len(program) < 50_000  # a subset, not the 16 MB font


def test_every_default_layout_prints_its_sample_in_chinese():
    for kind in DocumentKind:
        pdf = sample_pdf(default_spec(kind), preview=False)
        image = page_image(pdf, dpi=50)
        dark = ink(image)
        assert dark > 0.01 * image.width * image.height, kind  # not blank
        text = page_texts(pdf)[0]
        assert "张三丰" in text, kind
        assert "滨江" in text, kind  # the company (or its bank account holder)


def test_money_in_capitals_prints():
    pdf = sample_pdf(default_spec(DocumentKind.WATER_INVOICE), preview=False)
    assert "壹佰伍拾叁元肆角伍分" in page_texts(pdf)[0]
    assert "153.45" in page_texts(pdf)[0]


def test_positions_are_millimetres_and_the_printer_shift_moves_everything():
    box = {"type": "box", "x": 20, "y": 30, "w": 40, "h": 20, "stroke": 0.5}
    plain = page_image(render(spec_of(box), [{}]), dpi=DPI)
    assert ink(plain, (19, 29, 2, 22), DPI) > 0  # the left edge at x = 20 mm
    assert ink(plain, (22, 32, 36, 16), DPI) == 0  # empty inside
    shifted = page_image(render(spec_of(box, offset_x=5, offset_y=-3), [{}]), dpi=DPI)
    assert ink(shifted, (19, 29, 2, 22), DPI) == 0
    assert ink(shifted, (24, 26, 2, 22), DPI) > 0


def test_overprint_prints_only_the_data_and_the_preview_shows_the_form_in_blue():
    caption = text(10, 10, 40, 8, "户名：", form=True)
    value = text(60, 10, 40, 8, "{{ customer.name }}")
    frame = {"type": "box", "x": 5, "y": 5, "w": 100, "h": 20, "form": True}
    spec = spec_of(caption, value, frame, print_background=False)
    context = sample_context(DocumentKind.METER_CARD)
    printed = render(spec, [context])
    assert page_texts(printed)[0].strip() == "张三丰"
    image = page_image(printed, dpi=DPI)
    assert ink(image, (10, 10, 40, 8), DPI) == 0 and ink(image, (60, 10, 40, 8), DPI) > 0
    preview = render(spec, [context], preview=True)
    assert "户名" in page_texts(preview)[0]
    rgb = page_image(preview, dpi=DPI, mode="RGB")
    colours = rgb.crop((40, 40, 200, 70)).getcolors(maxcolors=1_000_000)
    blue = [rgb for _count, rgb in colours if rgb[2] > 150 and rgb[0] < 150]
    assert blue, "the form is drawn in blue in the preview of an overprint layout"
    with_form = render(replace(spec, print_background=True), [context])
    assert "户名" in page_texts(with_form)[0]


def test_sheets_and_copies():
    spec = spec_of(text(10, 10, 60, 8, "{{ customer.account_no }}"), per_sheet=3, copies=2)
    contexts = [
        {"customer": {"account_no": f"DC{n:06d}"}} for n in range(1, 6)
    ]  # 5 documents × 2 copies = 10 slots = 4 sheets of 3
    pdf = render(spec, contexts)
    assert page_count(pdf) == 4
    texts = [t.split() for t in page_texts(pdf)]
    assert texts[0] == ["DC000001", "DC000001", "DC000002"]
    assert texts[3] == ["DC000005"]
    image = page_image(pdf, page=0, dpi=DPI)
    assert image.height == pytest.approx(315 / 25.4 * DPI, abs=2)
    for slot in range(3):
        assert ink(image, (10, 10 + slot * 105, 60, 8), DPI) > 0


def test_a_long_text_shrinks_then_is_cut():
    long = "东城区人民路128号3幢2单元501室" * 3
    spec = spec_of(text(10, 10, 30, 6, "{{ v }}", size=10))
    pdf = render(spec, [{"v": long}])
    printed = page_texts(pdf)[0].strip()
    assert printed.endswith("…") and printed[:-1] in long
    image = page_image(pdf, dpi=DPI)
    assert ink(image, (41, 5, 100, 20), DPI) == 0  # nothing beyond the box


def test_multiline_wraps_chinese_and_keeps_to_its_box():
    para = {
        "type": "multiline",
        "x": 10,
        "y": 10,
        "w": 40,
        "h": 20,
        "size": 10,
        "template": "截至2026年3月25日，您尚有3个月的水费未缴，合计190.47元，请尽快缴清。" * 3,
    }
    pdf = render(spec_of(para), [{}])
    lines = [line for line in page_texts(pdf)[0].splitlines() if line.strip()]
    assert 3 <= len(lines) <= 5
    assert lines[-1].rstrip().endswith("…")
    assert ink(page_image(pdf, dpi=DPI), (10, 31, 100, 60), DPI) == 0


def test_table_prints_the_rows_that_fit_and_says_how_many_more():
    table = {
        "type": "table",
        "x": 10,
        "y": 10,
        "w": 60,
        "h": 30,
        "size": 9,
        "rows": "readings",
        "row_height": 5,
        "border": True,
        "columns": [
            {"width": 30, "align": "L", "title": "月份", "template": "{{ row.month|month }}"},
            {"width": 30, "align": "R", "title": "水量", "template": "{{ row.volume|number(0) }}"},
        ],
    }
    context = sample_context(DocumentKind.METER_CARD)
    context["readings"] = context["readings"] * 3  # 18 rows, room for 5
    text_out = page_texts(render(spec_of(table), [context]))[0]
    lines = [line.split() for line in text_out.splitlines() if line.strip()]
    assert lines[0] == ["月份", "水量"]
    assert [line[0] for line in lines[1:5]] == ["2025-10", "2025-11", "2025-12", "2026-01"]
    assert lines[5][0] == "…" and "14" in lines[5]  # "… and 14 more": 4 rows and the note


def test_a_document_that_cannot_print_names_itself_and_the_element():
    spec = spec_of(
        text(10, 10, 40, 8, "{{ customer.name }}"), text(10, 30, 40, 8, "{{ bills[5].amount }}")
    )
    good = sample_context(DocumentKind.METER_CARD)
    with pytest.raises(DocumentRenderError) as error:
        render(spec, [good, {"customer": {"name": "李四"}}])
    assert "Document 1" in str(error.value) or "1" in str(error.value)
    assert "Element 2" in str(error.value)


def test_nothing_to_print():
    with pytest.raises(DocumentRenderError, match="nothing to print"):
        render(spec_of(text(10, 10, 40, 8, "x")), [])


def test_render_pdf_checks_the_kind():
    spec = default_spec(DocumentKind.METER_CARD)
    with pytest.raises(ValueError):
        render_pdf(DocumentKind.WATER_INVOICE, [{}], spec)


def test_many_documents_share_one_font():
    contexts = [sample_context(DocumentKind.METER_CARD) for _ in range(40)]
    pdf = render_pdf(DocumentKind.METER_CARD, contexts, default_spec(DocumentKind.METER_CARD))
    assert page_count(pdf) == 40
    assert pdf.count(b"/FontFile3") == 1  # the font is embedded once, not per page
    assert len(pdf) < 40 * 20_000


def test_png_of_a_page():
    png = render_png(sample_pdf(default_spec(DocumentKind.RECEIPT)), dpi=50)
    assert png.startswith(b"\x89PNG")


def test_font_setting_and_clear_errors(tmp_path):
    found = fonts.cjk_font()
    assert " SC" in found.name  # the Simplified Chinese face of the collection
    with (
        override_settings(WATERMIS_PDF_FONT=str(tmp_path / "none.ttf")),
        pytest.raises(fonts.FontMissing, match="WATERMIS_PDF_FONT"),
    ):
        fonts.cjk_font()
    latin = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
    with (
        override_settings(WATERMIS_PDF_FONT=latin),
        pytest.raises(fonts.FontMissing, match="no Chinese characters"),
    ):
        fonts.cjk_font()
    with override_settings(WATERMIS_PDF_FONT=found.path):
        assert fonts.cjk_font().index == found.index


def test_the_font_has_every_character_of_the_samples_and_catalogue_filters():
    chars = set()
    for kind in DocumentKind:
        stack = [sample_context(kind)]
        while stack:
            value = stack.pop()
            if isinstance(value, dict):
                stack.extend(value.values())
            elif isinstance(value, list):
                stack.extend(value)
            elif isinstance(value, str):
                chars.update(value)
    chars.update("零壹贰叁肆伍陆柒捌玖拾佰仟万亿元角分整负…")
    assert fonts.missing_glyphs("".join(chars)) == []


def test_elements_parse_and_store_back():
    stored = {
        "type": "table",
        "x": 5,
        "y": 10.5,
        "w": 60,
        "h": 30,
        "size": 9,
        "bold": False,
        "align": "L",
        "form": False,
        "rows": "readings",
        "row_height": 5,
        "border": True,
        "columns": [{"width": 60, "align": "R", "title": "量", "template": "{{ row.volume }}"}],
    }
    assert Element.from_dict(stored).to_dict() == stored


def test_templates_rendered_together_give_what_each_gives_alone():
    from watermis.documents.pdf import _Batch, _Template

    for kind in DocumentKind:
        spec = default_spec(kind)
        templates = [
            _Template(e.template) for e in spec.elements if e.type in ("text", "multiline")
        ]
        context = sample_context(kind)
        assert _Batch(templates).render(context) == [t.render(context) for t in templates], kind
    tricky = [
        _Template("{{ a }}\n"),
        _Template("  {%- if a %}[{{ a }}]{% endif %}\n"),
        _Template("{% if a %}\n  x\n{% endif %}"),
        _Template("plain"),
        _Template("{{ b }}"),
    ]
    for context in ({"a": "甲", "b": "乙"}, {"a": "", "b": "\ue000"}, {"a": "\n", "b": " "}):
        assert _Batch(tricky).render(context) == [t.render(context) for t in tricky]


def test_a_failing_template_is_named_even_when_rendered_together():
    spec = spec_of(
        text(10, 10, 40, 8, "{{ customer.name }}"),
        text(10, 20, 40, 8, "{{ customer.name|date }}"),
        text(10, 30, 40, 8, "{{ customer.account_no }}"),
    )
    with pytest.raises(DocumentRenderError, match=r"Document 1, Element 2 \(text\).*not a date"):
        render(spec, [sample_context(DocumentKind.METER_CARD)])


def test_the_parsed_font_is_reused_and_a_fresh_one_gives_the_same_pdf(monkeypatch):
    from watermis.documents import pdf as printer

    spec = spec_of(text(10, 10, 60, 10, "水费发票 {{ customer.name }}", size=14))
    context = sample_context(DocumentKind.METER_CARD)
    cached = render(spec, [context])
    monkeypatch.setattr(printer.copy, "copy", lambda _font: (_ for _ in ()).throw(TypeError("x")))
    fresh = render(spec, [context])
    assert page_texts(cached) == page_texts(fresh) == ["水费发票 张三丰"]
    for pdf in (cached, fresh):
        (embedded, program), *_ = embedded_fonts(pdf)
        assert embedded and len([b for b in glyph_outlines(program).values() if b]) >= 7
