"""services/images.py: every accepted format comes back as itself, without its metadata."""

from __future__ import annotations

import io

import pytest
from PIL import Image, PngImagePlugin

from services.errors import Code, DomainError
from services.images import clean_image


def exif() -> Image.Exif:
    data = Image.Exif()
    data[0x0110] = "PhoneCam 3000"
    gps = data.get_ifd(0x8825)
    gps[1], gps[2] = "N", (37.0, 33.0, 59.0)
    return data


def encoded(fmt: str) -> bytes:
    out = io.BytesIO()
    im = Image.new("RGB", (16, 8), (200, 50, 50))
    if fmt == "PNG":
        info = PngImagePlugin.PngInfo()
        info.add_text("Comment", "PhoneCam 3000 at home")
        im.save(out, "PNG", pnginfo=info, exif=exif())
    elif fmt == "GIF":
        frames = [Image.new("RGB", (16, 8), c) for c in ((255, 0, 0), (0, 255, 0), (0, 0, 255))]
        frames[0].save(out, "GIF", save_all=True, append_images=frames[1:], duration=100, loop=0,
                       comment=b"PhoneCam 3000")
    else:
        im.save(out, fmt, exif=exif())
    return out.getvalue()


@pytest.mark.parametrize("fmt, ext", [("JPEG", "jpg"), ("PNG", "png"), ("WEBP", "webp"), ("GIF", "gif")])
def test_each_format_keeps_its_pixels_and_loses_its_metadata(fmt: str, ext: str) -> None:
    original = encoded(fmt)
    assert b"PhoneCam" in original

    clean = clean_image(original)

    assert clean.ext == ext and clean.content_type == f"image/{'jpeg' if ext == 'jpg' else ext}"
    assert b"PhoneCam" not in clean.data and b"Exif" not in clean.data
    im = Image.open(io.BytesIO(clean.data))
    assert im.format == fmt and im.size == (16, 8)
    assert not im.getexif()
    if fmt == "GIF":
        assert im.n_frames == 3  # still animated


def test_a_jpegs_orientation_is_applied_before_its_exif_goes() -> None:
    out = io.BytesIO()
    data = Image.Exif()
    data[0x0112] = 6  # rotate 90° clockwise to display
    Image.new("RGB", (16, 8)).save(out, "JPEG", exif=data)

    im = Image.open(io.BytesIO(clean_image(out.getvalue()).data))

    assert im.size == (8, 16) and not im.getexif()


@pytest.mark.parametrize(
    "data",
    [b"", b"hello", b"%PDF-1.7\n", b"<svg xmlns='http://www.w3.org/2000/svg'/>", encoded("PNG")[:40], b"BM" + b"\0" * 60],
)
def test_anything_else_is_unsupported(data: bytes) -> None:
    with pytest.raises(DomainError) as refused:
        clean_image(data)
    assert refused.value.code == Code.UNSUPPORTED_FILE_TYPE


@pytest.mark.filterwarnings("ignore::PIL.Image.DecompressionBombWarning")
def test_a_huge_canvas_in_a_small_file_is_refused_before_decoding() -> None:
    out = io.BytesIO()
    Image.new("1", (10_000, 10_000)).save(out, "PNG")  # 100 megapixels, a few kilobytes
    with pytest.raises(DomainError) as refused:
        clean_image(out.getvalue())
    assert refused.value.code == Code.UNSUPPORTED_FILE_TYPE
