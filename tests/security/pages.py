"""What every HTML page must carry and must not contain (CSP forbids inline script and style)."""
import re

INLINE_SCRIPT = re.compile(r"<script\b(?![^>]*\bsrc=)[^>]*>", re.I)
INLINE_STYLE = re.compile(r"<style\b|\sstyle\s*=", re.I)
EVENT_HANDLER = re.compile(r"<[^>]+\s(on[a-z]+|hx-on[:\w-]*)\s*=", re.I)
JAVASCRIPT_URL = re.compile(r"""(href|src|action)\s*=\s*["']?\s*javascript:""", re.I)


def csp_directives(response):
    policy = response.headers.get("Content-Security-Policy", "")
    directives = {}
    for part in filter(None, (p.strip() for p in policy.split(";"))):
        name, *values = part.split()
        directives[name] = values
    return directives


def header_problems(response):
    problems = []
    csp = csp_directives(response)
    script_src = csp.get("script-src") or csp.get("default-src") or []
    style_src = csp.get("style-src") or csp.get("default-src") or []
    if not script_src:
        problems.append("no script-src / default-src")
    for value in ("'unsafe-inline'", "'unsafe-eval'", "*", "data:"):
        if value in script_src:
            problems.append(f"script-src allows {value}")
    if "'unsafe-inline'" in style_src:
        problems.append("style-src allows 'unsafe-inline'")
    if csp.get("frame-ancestors") != ["'none'"]:
        problems.append("frame-ancestors is not 'none'")
    if csp.get("object-src") != ["'none'"]:
        problems.append("object-src is not 'none'")
    if response.headers.get("X-Content-Type-Options") != "nosniff":
        problems.append("X-Content-Type-Options is not nosniff")
    if response.headers.get("Referrer-Policy") not in {"same-origin", "no-referrer",
                                                       "strict-origin-when-cross-origin"}:
        problems.append(f"Referrer-Policy is {response.headers.get('Referrer-Policy')!r}")
    return problems


def is_download(response):
    return "attachment" in response.headers.get("Content-Disposition", "")


def markup_problems(html, standalone_file=False):
    """standalone_file: an HTML file sent as a download (the data-held file), opened from disk
    where no stylesheet of ours can reach it, so its style is inside it; never a script."""
    problems = []
    rules = (("inline <script>", INLINE_SCRIPT), ("inline style", INLINE_STYLE),
             ("event-handler attribute", EVENT_HANDLER), ("javascript: URL", JAVASCRIPT_URL))
    for name, pattern in rules:
        if standalone_file and pattern is INLINE_STYLE:
            continue
        match = pattern.search(html)
        if match:
            problems.append(f"{name}: {html[max(0, match.start() - 40):match.end() + 40]!r}")
    return problems


def assert_safe_page(response, what):
    problems = header_problems(response)
    if response.mimetype == "text/html":
        problems += markup_problems(response.get_data(as_text=True), is_download(response))
    assert not problems, f"{what}: {problems}"
