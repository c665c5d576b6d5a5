"""Ticket bytes, read back by the independent decoder: every letter, both modes, the budget."""

import pytest

from hardware.decode import DecodeError, decode
from hardware.layout import SELF_TEST_LINES, build_self_test, build_ticket
from hardware.ticket import TicketPrint

# What this test expects the user-defined codes to be; the decoder only reports the codes.
UDC = {"<udc:7d>": "Ə", "<udc:7e>": "ə"}
AZ = "ƏəĞğİıŞşÇçÖöÜü"


def ticket(**changes):
    fields = dict(
        center="DOST Bakı 1 nömrəli mərkəz",
        label="D-042",
        service="Peşə hazırlığına cəlb olunan işsiz şəxsə verilən təqaüdün təyin edilməsi",
        issued_at="23.11.2026 12:13",
        people_ahead=5,
        status_url="https://10.0.0.5/t/AbCdEfGhIjKlMnOp",
        wait_minutes=25,
    )
    fields.update(changes)
    return TicketPrint(**fields)


def text_of(decoded):
    lines = []
    for line in decoded.lines:
        for code, letter in UDC.items():
            line = line.replace(code, letter)
        lines.append(line)
    return lines


def test_every_azerbaijani_letter_and_cyrillic_round_trips_in_text_mode():
    lines = text_of(decode(build_self_test("text")))
    for expected in SELF_TEST_LINES:
        assert expected in lines
    assert "?" not in "".join(lines)


@pytest.mark.parametrize("language", ["az", "ru", "en"])
def test_text_ticket_reads_back_in_each_language(language):
    t = ticket(language=language, center=f"Mərkəz {AZ}")
    decoded = decode(build_ticket(t, "text"))
    lines = text_of(decoded)
    assert lines[0] == f"Mərkəz {AZ}"
    assert "D-042" in lines and t.issued_at in lines
    assert " ".join(lines).count("?") == 0
    assert t.text_lines()[1] in lines  # "people ahead" in that language
    assert decoded.qr_codes == [t.status_url]
    assert decoded.cuts == 1


def test_long_service_name_wraps_at_words_in_text_mode():
    lines = text_of(decode(build_ticket(ticket(), "text")))
    service = [line for line in lines if line.startswith("Peşə") or line.startswith("təqaüdün")]
    assert " ".join(service) == ticket().service
    assert all(len(line) <= 48 for line in lines)


def test_user_defined_capital_letter_is_taller_than_the_small_one():
    glyphs = decode(build_ticket(ticket(), "text")).user_glyphs

    def top_ink_row(glyph):
        rows = [
            band * 8 + bit
            for column in range(12)
            for band in range(3)
            for bit in range(8)
            if glyph[column * 3 + band] & (0x80 >> bit)
        ]
        return min(rows)

    assert set(glyphs) == {0x7D, 0x7E}
    assert top_ink_row(glyphs[0x7D]) < top_ink_row(glyphs[0x7E]) - 3  # Ə above ə's x-height


def test_raster_ticket_keeps_ascii_native_and_draws_the_rest():
    t = ticket()
    decoded = decode(build_ticket(t, "raster"))
    assert decoded.lines == ["D-042", t.issued_at]  # only ASCII stays text
    assert decoded.qr_codes == [t.status_url]
    assert decoded.user_glyphs == {}
    assert len(decoded.images) == 4
    assert all(image.width <= 576 and image.width % 8 == 0 for image in decoded.images)


def test_byte_budget_per_ticket():
    assert len(build_ticket(ticket(), "text")) < 600
    assert len(build_ticket(ticket(), "raster")) < 15_000


def test_decoder_refuses_what_it_does_not_know():
    with pytest.raises(DecodeError, match="unknown command ESC"):
        decode(b"\x1b\x99")
    with pytest.raises(DecodeError, match="truncated"):
        decode(b"\x1dv0\x00\x10\x00\x10\x00")
