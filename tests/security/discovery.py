"""What a person (or a forged request) can send the app, found rather than listed by hand:
the forms and query parameters of every page the app's URL map serves.

    pages = crawl(client, app, path_values)   # every GET route, with real ids
    for target in targets(pages, app): ...     # one Target per form, link or hx-get

A Target is a request a page invites: its method, URL, the fields it sends (as the page filled
them) and whether htmx sends it. Sweeping a target means sending it again with one field at a
time replaced by a hostile value.
"""
import html.parser
import json
import itertools
from datetime import date
import urllib.parse
from dataclasses import dataclass, field

from flask import url_for
from werkzeug.exceptions import MethodNotAllowed, NotFound
from werkzeug.routing import RequestRedirect

from tests.security.pages import is_download

SKIPPED_METHODS = {"HEAD", "OPTIONS"}
NOT_SENT = {"submit", "button", "reset", "image", "file"}
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source",
        "track", "wbr"}


@dataclass
class Field:
    name: str
    value: str
    kind: str               # input type, "select", "textarea" or "query"
    attrs: dict = field(default_factory=dict)


@dataclass
class Submitter:
    """A way to send a form: a button (its name and value go too) or an element with its own
    hx-post/hx-get (htmx sends the whole form there, with its hx-vals)."""
    name: str = ""
    value: str = ""
    action: str = ""        # a button's formaction
    hx_method: str = ""
    hx_url: str = ""
    hx_vals: dict = field(default_factory=dict)


@dataclass
class Form:
    page: str
    method: str
    action: str
    hx_method: str
    hx_url: str
    fields: list = field(default_factory=list)
    submitters: list = field(default_factory=list)
    attrs: dict = field(default_factory=dict)


class PageParser(html.parser.HTMLParser):
    """The forms, links and hx-get addresses of one HTML page or partial."""
    standalone_file = False  # an HTML file sent as a download (tests/security/pages.py)

    def __init__(self, page_url):
        super().__init__(convert_charrefs=True)
        self.page_url, self.forms, self.links, self.ids = page_url, [], [], {}
        self._form = self._select = self._textarea = None
        self._open = []  # (tag, id) of the elements open here: their text is kept by id
        self._owned_elsewhere = []

    def handle_starttag(self, tag, attrs):
        attrs = {name: value or "" for name, value in attrs}
        if "id" in attrs:
            self.ids.setdefault(attrs["id"], [])
        if tag not in VOID:
            self._open.append((tag, attrs.get("id")))
        for name in ("href", "hx-get"):
            if attrs.get(name) and "?" in attrs[name] and tag != "form":
                self.links.append((urllib.parse.urljoin(self.page_url, attrs[name]),
                                   name == "hx-get"))
        if tag == "form":
            self._start_form(attrs)
        elif attrs.get("form") and attrs.get("name"):  # a control of a form elsewhere on the page
            self._owned_elsewhere.append((attrs["form"], Field(
                attrs["name"], attrs.get("value", ""), attrs.get("type", "").lower(), attrs)))
        elif self._form is not None:
            self._form_control(tag, attrs)

    def _start_form(self, attrs):
        method = "POST" if attrs.get("method", "").lower() == "post" else "GET"
        hx_method, hx_url = _hx(attrs)
        self._form = Form(self.page_url, method,
                          urllib.parse.urljoin(self.page_url, attrs.get("action") or self.page_url),
                          hx_method, hx_url and urllib.parse.urljoin(self.page_url, hx_url),
                          attrs=attrs)
        self.forms.append(self._form)

    def _form_control(self, tag, attrs):
        name = attrs.get("name")
        kind = attrs.get("type", "").lower()
        button = (tag == "button" and kind != "button") or (tag == "input" and kind in NOT_SENT)
        if button or _hx(attrs)[0]:
            hx_method, hx_url = _hx(attrs)
            self._form.submitters.append(Submitter(
                (name or "") if button else "", attrs.get("value", ""),
                attrs.get("formaction") and urllib.parse.urljoin(self.page_url,
                                                                 attrs["formaction"]),
                hx_method, hx_url and urllib.parse.urljoin(self.page_url, hx_url),
                json.loads(attrs.get("hx-vals") or "{}")))
        if tag == "input" and name and kind not in NOT_SENT:
            if kind not in ("checkbox", "radio") or "checked" in attrs:
                self._form.fields.append(Field(name, attrs.get("value", ""), kind, attrs))
            else:  # unticked: not sent, but a forged post may send it
                self._form.fields.append(Field(name, None, kind, attrs))
        elif tag == "select" and name:
            self._select = Field(name, None, "select", attrs)
            self._form.fields.append(self._select)
        elif tag == "option" and self._select is not None:
            if self._select.value is None or "selected" in attrs:
                self._select.value = attrs.get("value", "")
        elif tag == "textarea" and name:
            self._textarea = Field(name, "", "textarea", attrs)
            self._form.fields.append(self._textarea)

    def handle_endtag(self, tag):
        for index in range(len(self._open) - 1, -1, -1):
            if self._open[index][0] == tag:
                del self._open[index:]
                break
        if tag == "form":
            self._form = None
        elif tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None

    def handle_data(self, data):
        if self._textarea is not None:
            self._textarea.value += data
        for _, element_id in self._open:
            if element_id:
                self.ids[element_id].append(data)

    def text_of(self, element_ids):
        """The text of the elements with these ids (an aria-describedby value)."""
        return " ".join("".join(self.ids.get(i, [])) for i in element_ids.split())


def _hx(attrs):
    for method in ("post", "get"):
        if attrs.get(f"hx-{method}"):
            return method.upper(), attrs[f"hx-{method}"]
    return "", ""


def parse_page(page_url, text):
    parser = PageParser(page_url)
    parser.text = text
    parser.feed(text)
    forms = {form.attrs.get("id"): form for form in parser.forms}
    for form_id, form_field in parser._owned_elsewhere:
        if form_id in forms:
            forms[form_id].fields.append(form_field)
    return parser


def get_routes(app):
    """(endpoint, rule) of every GET route but static files."""
    return [(rule.endpoint, rule) for rule in app.url_map.iter_rules()
            if rule.endpoint != "static" and "GET" in rule.methods]


def page_urls(app, path_values):
    """Every GET route's URL for each combination of the real ids in path_values
    ({argument: [values]}); a route with an argument nobody gave a value for is an error."""
    urls = []
    for endpoint, rule in get_routes(app):
        arguments = sorted(rule.arguments)
        missing = [name for name in arguments if name not in path_values]
        assert not missing, f"give the crawl a value for {missing} ({rule.rule})"
        for values in itertools.product(*(path_values[name] for name in arguments)):
            with app.test_request_context():
                urls.append((endpoint, url_for(endpoint, **dict(zip(arguments, values)))))
    return urls


def crawl(client, app, path_values, extra_urls=()):
    """{(url, htmx): parsed page} of every HTML answer, full page and the partial htmx would
    get; then each page's GET forms filled in and sent, so the links a filtered or searched
    page offers (an export of what it shows, say) are found too. extra_urls: pages only an
    email links to (a one-time link's token in the address)."""
    pages = {}
    for url in [url for _, url in page_urls(app, path_values)] + list(extra_urls):
        for htmx in (False, True):
            _visit(client, pages, url, htmx)
    for parsed in list(pages.values()):
        for form in parsed.forms:
            if form.method == "GET":
                query = urllib.parse.urlencode([(f.name, sample_value(f))
                                                for f in form.fields if f.value is not None])
                _visit(client, pages, f"{form.action.split('?')[0]}?{query}", False)
    return pages


def _visit(client, pages, url, htmx):
    response = client.get(url, headers={"HX-Request": "true"} if htmx else {})
    # A refusal's page counts too: an expired link's page (410) offers a form of its own.
    if response.status_code in (200, 409, 410, 422) and response.mimetype == "text/html":
        page = pages[(url, htmx)] = parse_page(url, response.get_data(as_text=True))
        page.standalone_file = is_download(response)


def sample_value(form_field):
    """What a person might fill an empty text or date field with; others as the page set them."""
    if form_field.value or form_field.kind not in ("", "text", "search", "date"):
        return form_field.value
    return date.today().isoformat() if form_field.kind == "date" else "a"


def endpoint_of(app, method, url):
    """The URL map's endpoint for a request, or None when it matches nothing."""
    parts = urllib.parse.urlsplit(url)
    adapter = app.url_map.bind("localhost")
    try:
        return adapter.match(parts.path, method=method)[0]
    except (NotFound, MethodNotAllowed, RequestRedirect):
        return None


@dataclass
class Target:
    endpoint: str
    method: str
    url: str
    htmx: bool
    fields: list          # [(name, value)], the page's own values (None: not sent)
    form: Form = None
    variant: tuple = ()   # what its button or hx-vals add

    def kind_of(self, name):
        """The form control's type ("date", "email", "select"...), "query" for a link's."""
        controls = {f.name: f.kind for f in self.form.fields} if self.form else {}
        return controls.get(name, "query")

    @property
    def key(self):
        return (self.endpoint, self.method, self.htmx, tuple(sorted({n for n, _ in self.fields})))

    def label(self):
        return f"{self.method} {self.endpoint}{' (htmx)' if self.htmx else ''}"


def targets(pages, app):
    """One Target per distinct (endpoint, method, htmx, field names): forms with their fields
    and buttons, links and hx-get addresses with their query parameters."""
    found = {}
    for parsed in pages.values():
        for form in parsed.forms:
            for method, url, htmx, fields in form_requests(form):
                _add(found, app, method, url if method == "POST" else url.split("?")[0], htmx,
                     fields, form, variant=_variant(form, fields))
        for url, htmx in parsed.links:
            base, _, query = url.partition("?")
            _add(found, app, "GET", base, htmx, urllib.parse.parse_qsl(query, True))
    return list(found.values())


def form_requests(form):
    """(method, url, htmx, fields) of every way the form can be sent: each of its buttons
    without JavaScript, and through htmx wherever the form or a control carries hx-post/hx-get."""
    fields = [(f.name, f.value) for f in form.fields]
    for submitter in form.submitters or [Submitter()]:
        pressed = [(submitter.name, submitter.value)] if submitter.name else []
        if not submitter.hx_method:  # a plain button: the form's own way, htmx's if it has one
            yield form.method, submitter.action or form.action, False, fields + pressed
            if form.hx_method and not submitter.action:
                yield form.hx_method, form.hx_url, True, fields + pressed
        else:
            yield submitter.hx_method, submitter.hx_url, True, (
                fields + pressed + [(k, str(v)) for k, v in submitter.hx_vals.items()])


def _variant(form, fields):
    """What tells two ways of sending one form apart: the values its buttons and hx-vals add."""
    own = {f.name for f in form.fields}
    return tuple(sorted((n, v) for n, v in fields if n not in own))


def _add(found, app, method, url, htmx, fields, form=None, variant=()):
    endpoint = endpoint_of(app, method, url)
    if endpoint is None or endpoint == "static":
        return
    target = Target(endpoint, method, url, htmx, fields, form, variant)
    found.setdefault(target.key + variant, target)
