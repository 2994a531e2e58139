"""The demo page's 상점 tab in Chromium: an item with a photo, uploaded through the GraphQL
multipart request, shown from fetchFileConfig.publicBase + url."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from tests.api.test_demo_browser import browser, context, demo_url, open_demo, screenshot, sign_up  # noqa: F401

pytestmark = pytest.mark.browser


def photo() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (120, 90), (30, 140, 90)).save(out, "JPEG")
    return out.getvalue()


def test_an_item_with_a_photo_is_listed_with_its_image(context, demo_url: tuple[str, str]) -> None:  # noqa: F811
    from playwright.sync_api import expect

    base, _ = demo_url
    js_errors: list[str] = []
    page = open_demo(context, base, js_errors)
    try:
        # given a seller in the 상점 tab
        sign_up(page, "seller@example.com", "판매자")
        page.click("#tab-shop")

        # when they list an item with a photo
        page.fill("#item-name", "사진 있는 자전거")
        page.fill("#item-price", "4000")
        page.set_input_files("#item-photo", files=[{"name": "bike.jpg", "mimeType": "image/jpeg", "buffer": photo()}])
        page.click("#btn-create-item")
        expect(page.locator("#message")).to_contain_text("4,000P에 등록했습니다")

        # then the list shows the uploaded image, loaded from the API's /files/
        image = page.locator("#item-rows tr", has_text="사진 있는 자전거").locator("img.item-photo")
        expect(image).to_have_count(1)
        assert image.get_attribute("src").startswith(f"{base}/files/")
        page.wait_for_function(
            "img => img.complete && img.naturalWidth > 0", arg=image.element_handle(), timeout=15_000
        )
        assert image.evaluate("img => img.naturalWidth") == 120
        screenshot(page, "7-shop-photo")
    except Exception:
        screenshot(page, "failure")
        raise
    assert js_errors == []
