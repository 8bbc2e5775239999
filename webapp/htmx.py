"""One place that decides between a full page and an HTMX partial."""
from urllib.parse import urlsplit

from flask import make_response, render_template, request


def is_htmx_request():
    """A request for a partial. Boosted links and Back after a cache miss (htmx then asks for
    the address it pushed, to swap the whole body) get the full page."""
    headers = request.headers
    return (headers.get("HX-Request") == "true" and headers.get("HX-Boosted") != "true"
            and headers.get("HX-History-Restore-Request") != "true")


def render_page_or_partial(page_template, partial_template, *, page_status=200,
                           partial_headers=None, **context):
    """The page includes the partial, so the first render and every swap share one source.
    page_status: the page's status (a refusal's 4xx); the partial answers 200 even for a
    refusal, since htmx swaps only a 2xx answer. partial_headers: for htmx only (HX-Push-Url)."""
    if is_htmx_request():
        return make_response(render_template(partial_template, **context), 200,
                             partial_headers or {})
    return make_response(render_template(page_template, **context), page_status)


def page_path():
    """The path of the page the admin is looking at: for an HTMX request, the page it came from
    (a partial can then leave out a link to that very page)."""
    if came_from_htmx():
        return urlsplit(request.headers.get("HX-Current-URL", "")).path
    return request.path


def came_from_htmx():
    """Any request htmx sent, boosted links and forms included."""
    return request.headers.get("HX-Request") == "true"


def htmx_redirect(url, status=401):
    """A whole-page visit htmx makes instead of swapping (it reads HX-Redirect before anything
    else, whatever the status), so no page ever lands inside a fragment."""
    return "", status, {"HX-Redirect": url}
