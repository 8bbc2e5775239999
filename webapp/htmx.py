"""One place that decides between a full page and an HTMX partial."""
from flask import render_template, request


def is_htmx_request():
    """A request for a partial. Boosted links and Back after a cache miss (htmx then asks for
    the address it pushed, to swap the whole body) get the full page."""
    headers = request.headers
    return (headers.get("HX-Request") == "true" and headers.get("HX-Boosted") != "true"
            and headers.get("HX-History-Restore-Request") != "true")


def render_page_or_partial(page_template, partial_template, **context):
    """The page includes the partial, so the first render and every swap share one source."""
    return render_template(partial_template if is_htmx_request() else page_template, **context)
