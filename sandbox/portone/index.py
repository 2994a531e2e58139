"""GET / (``/sandbox/portone/`` when mounted): what this sandbox offers, on one offline page.

The control endpoints come from control.ENDPOINTS (the table routes() is built from), the PortOne
APIs from the app's own routes, the keys from the running config: the page cannot fall behind the
code. GET /docs serves docs/SANDBOX.md from the checkout when it is there (an installed package
has no docs/ folder: the page then names the repository path).
"""

from __future__ import annotations

import json
from html import escape
from pathlib import Path

from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, Response
from starlette.routing import Route

from . import control
from .http import API_TEMPLATES
from ..shared import base_url
from .store import get_store

DOC = Path(__file__).resolve().parents[2] / "docs" / "SANDBOX.md"

_STYLE = """
body { font-family: "Pretendard", "Apple SD Gothic Neo", "Noto Sans KR", sans-serif; margin: 0 auto;
       max-width: 980px; padding: 16px; color: #1c2430; line-height: 1.5; word-break: keep-all; }
code, pre { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-size: 13px; }
pre { background: #f6f7f9; border: 1px solid #e5e7eb; border-radius: 8px; padding: 8px 10px;
      overflow-x: auto; white-space: pre-wrap; word-break: break-all; margin: 4px 0 0; }
table { border-collapse: collapse; width: 100%; font-size: 14px; }
th, td { text-align: left; vertical-align: top; padding: 6px; border-bottom: 1px solid #e5e7eb; }
td.method { font-weight: 700; white-space: nowrap; }
td.path { white-space: nowrap; }
.muted { color: #6b7280; }
"""


def _curl(base: str, method: str, path: str, body: dict | None) -> str:
    url = base + path.replace("{id}", "<imp_uid>")
    if method == "GET":
        return f"curl -s {url}"
    parts = ["curl -s", f"-X {method}"]
    if body is not None:
        parts += ["-H 'Content-Type: application/json'", f"-d '{json.dumps(body, ensure_ascii=False)}'"]
    return " ".join(parts + [url])


async def index(request: Request) -> Response:
    store = get_store(request)
    base = base_url(request)
    rows = "".join(
        f'<tr data-route="{escape(method)} {escape(path)}"><td class="method">{escape(method)}</td>'
        f'<td class="path"><code>{escape(path)}</code></td>'
        f"<td>{escape(summary)}<pre>{escape(_curl(base, method, path, body))}</pre></td></tr>"
        for method, path, _, summary, body in control.ENDPOINTS
    )
    apis = "".join(f"<li><code>{escape(t)}</code></li>" for t in API_TEMPLATES)
    config = {**store.config.public_view(), "v1_base_url": base + "/v1", "v2_base_url": base + "/v2"}
    config_rows = "".join(
        f"<tr><td><code>{escape(k)}</code></td><td><code>{escape(str(v))}</code></td></tr>" for k, v in config.items()
    )
    doc = (
        f'<a href="{escape(base)}/docs">docs/SANDBOX.md</a>' if DOC.is_file()
        else "<code>docs/SANDBOX.md</code> in the pointcharge repository"
    )
    html = f"""<!doctype html>
<html lang="ko"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>PortOne sandbox · pointcharge</title><style>{_STYLE}</style></head>
<body>
<h1>PortOne sandbox</h1>
<p>PortOne(아임포트) V1·V2 REST API, 웹훅, 결제창을 흉내 내는 오프라인 에뮬레이터입니다. 실제로 돈이 나가지 않습니다.
설명서: {doc}. 결제는 재시작해도 남아 있습니다 (상태 파일 <code>{escape(store.config.state_path)}</code>;
<code>POST {escape(base)}/_control/reset</code> 또는 <code>pointcharge sandbox --reset</code>으로 지웁니다).</p>

<h2>SDK (브라우저)</h2>
<ul>
<li>V1 <code>IMP.init</code> / <code>IMP.request_pay</code>: <code>&lt;script src="{escape(base)}/iamport.js"&gt;</code>
 (운영: <code>https://cdn.iamport.kr/v1/iamport.js</code>)</li>
<li>V2 <code>PortOne.requestPayment</code>, <code>PortOne.requestIssueBillingKey</code>: <code>&lt;script src="{escape(base)}/browser-sdk.js"&gt;</code></li>
<li>결제창 없이 SDK를 눌러 보는 페이지: <a href="{escape(base)}/checkout-demo">{escape(base)}/checkout-demo</a></li>
</ul>

<h2>Control API <small class="muted">테스트·데모용: 구매자, 관리자 콘솔, 네트워크 역할</small></h2>
<table id="control"><thead><tr><th>method</th><th>path</th><th>what it does · example</th></tr></thead>
<tbody>{rows}</tbody></table>

<h2>설정 <small class="muted">GET {escape(base)}/_control/config</small></h2>
<table id="config"><tbody>{config_rows}</tbody></table>

<h2>PortOne API <small class="muted">V1 base <code>{escape(base)}/v1</code>, V2 base <code>{escape(base)}/v2</code></small></h2>
<ul id="apis">{apis}</ul>
</body></html>"""
    return HTMLResponse(html)


async def doc(request: Request) -> Response:
    if not DOC.is_file():
        return PlainTextResponse("docs/SANDBOX.md is not part of this install: see the pointcharge repository.", 404)
    return PlainTextResponse(DOC.read_text(encoding="utf-8"), media_type="text/markdown; charset=utf-8")


def routes() -> list[Route]:
    return [Route("/", index, methods=["GET"]), Route("/docs", doc, methods=["GET"])]
