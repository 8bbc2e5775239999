"""One place that decides between a full page and an HTMX partial."""
from flask import render_template, request


def is_htmx_request():
    return request.headers.get("HX-Request") == "true" and request.headers.get("HX-Boosted") != "true"


def render_page_or_partial(page_template, partial_template, **context):
    """The page includes the partial, so the first render and every swap share one source."""
    return render_template(partial_template if is_htmx_request() else page_template, **context)


def came_from_htmx():
    """Any request htmx sent, boosted links and forms included."""
    return request.headers.get("HX-Request") == "true"


def htmx_redirect(url, status=401):
    """A whole-page visit htmx makes instead of swapping (it reads HX-Redirect before anything
    else, whatever the status), so no page ever lands inside a fragment."""
    return "", status, {"HX-Redirect": url}
