"""Image checks for uploads: the type from the bytes (never the name or the browser's word), and a
re-encode that keeps the pixels and drops the metadata (EXIF with its GPS position, XMP, comments).

Re-encoding also means that what we serve is an image Pillow wrote, not a file that merely starts
like one (a polyglot HTML/JPEG). CPU-bound: the service runs it in a worker thread.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

from PIL import Image, ImageOps, UnidentifiedImageError

from services.errors import Code, DomainError

# Pillow format → (extension, Content-Type). Nothing else is accepted.
FORMATS: dict[str, tuple[str, str]] = {
    "JPEG": ("jpg", "image/jpeg"),
    "PNG": ("png", "image/png"),
    "WEBP": ("webp", "image/webp"),
    "GIF": ("gif", "image/gif"),
}
CONTENT_TYPES = {ext: content_type for ext, content_type in FORMATS.values()}
# A photo from a phone is ~12-50 megapixels; beyond this a small file could decode to gigabytes.
MAX_PIXELS = 60_000_000
# All frames of an animation together (a tiny GIF can hold thousands of full-size frames).
MAX_ANIMATION_PIXELS = 200_000_000
_ORIENTATION = 0x0112
# Frame timing and transparency are kept; every other info key (exif, xmp, comment, dpi…) goes.
_KEEP_INFO = frozenset({"duration", "loop", "transparency", "background", "disposal", "icc_profile"})


@dataclass(frozen=True)
class CleanImage:
    data: bytes
    ext: str
    content_type: str


def unsupported(message: str | None = None) -> DomainError:
    return DomainError(Code.UNSUPPORTED_FILE_TYPE, message)


def _too_big() -> DomainError:
    return unsupported("이미지의 가로·세로(또는 프레임 수)가 너무 큽니다.")


def clean_image(data: bytes) -> CleanImage:
    try:
        with Image.open(io.BytesIO(data), formats=list(FORMATS)) as im:
            pixels = im.width * im.height
            if pixels > MAX_PIXELS or pixels * getattr(im, "n_frames", 1) > MAX_ANIMATION_PIXELS:
                raise _too_big()
            return _reencode(im)
    except DomainError:
        raise
    except Image.DecompressionBombError:
        raise _too_big() from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError):
        raise unsupported() from None


def _reencode(im: Image.Image) -> CleanImage:
    fmt = im.format or ""
    ext, content_type = FORMATS[fmt]
    icc = im.info.get("icc_profile")
    out = io.BytesIO()
    if fmt == "JPEG":
        if im.getexif().get(_ORIENTATION, 1) != 1:
            # The picture's orientation lives in the EXIF that is dropped: apply it to the pixels.
            im = ImageOps.exif_transpose(im)
            im.save(out, "JPEG", quality=90, icc_profile=icc, exif=b"")
        else:
            # Same quantisation tables and subsampling: no second round of JPEG loss.
            im.save(out, "JPEG", quality="keep", subsampling="keep", icc_profile=icc, exif=b"")
    else:
        animated = getattr(im, "n_frames", 1) > 1
        for key in list(im.info):
            if key not in _KEEP_INFO:
                del im.info[key]
        options: dict[str, object] = {"save_all": animated}
        if fmt == "WEBP":
            options.update(quality=90, exif=b"", xmp=b"", icc_profile=icc or b"")
        elif fmt == "PNG":
            options.update(exif=b"", icc_profile=icc)
        im.save(out, fmt, **{k: v for k, v in options.items() if v is not None})
    return CleanImage(out.getvalue(), ext, content_type)
