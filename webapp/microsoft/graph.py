"""Every Microsoft Graph call goes through GraphClient: timeouts, paging, throttling, errors.

Throttled (429) and unavailable (503, 504) answers are retried after the server's Retry-After
(fractional seconds allowed), else an exponential back-off with jitter, each wait capped at
`max_backoff` (Graph's throttling guidance: exponential back-off when no Retry-After comes;
429s on group reads often have none); dropped connections are retried the same way.
An @odata.nextLink is requested exactly as Microsoft wrote it ("Paging Microsoft Graph data"). A 401 gets one fresh token. The client gives up with GraphGaveUp after
`max_attempts` tries of one request or `max_total_wait` seconds of waiting in all.
"""
import random
import time

import requests

RETRY_STATUSES = {429, 503, 504}
CONNECTION_ERRORS = (requests.ConnectionError, requests.Timeout,
                     requests.exceptions.ChunkedEncodingError)


def _listed(page):
    """A collection page as Graph documents it (an object with a `value` list), else GraphError."""
    if isinstance(page, dict) and isinstance(page.get("value"), list) and "error" not in page:
        return page
    error = page.get("error") if isinstance(page, dict) else None
    code = error.get("code") if isinstance(error, dict) else None
    raise GraphError("Microsoft answered a page of the list without its items"
                     + (f" ({code})" if code else "") + ", so the list is incomplete.",
                     status=200, code=code)


class GraphError(Exception):
    """A Graph answer we cannot use. str() is safe to show an admin (never holds a token)."""

    def __init__(self, message, status=None, code=None):
        super().__init__(message)
        self.status, self.code = status, code


class GraphNotFound(GraphError):
    pass


class GraphForbidden(GraphError):
    pass


class GraphUnauthorized(GraphError):
    pass


class GraphGaveUp(GraphError):
    """Retries ran out: Microsoft kept throttling, failing or dropping the connection."""


def retry_after_seconds(response):
    try:
        return max(0.0, float(response.headers.get("Retry-After", "")))
    except ValueError:
        return None


def error_from_response(response):
    try:
        body = response.json().get("error", {})
    except ValueError:
        body = {}
    code = body.get("code") or f"HTTP{response.status_code}"
    message = f"Microsoft Graph answered {response.status_code} {code}: {body.get('message', '')}".strip()
    kind = {401: GraphUnauthorized, 403: GraphForbidden, 404: GraphNotFound}.get(
        response.status_code, GraphError)
    return kind(message, status=response.status_code, code=code)


def _jitter(delay):
    """Up to a tenth more (at most a second): many clients throttled together don't return together."""
    return random.uniform(0, min(1.0, delay * 0.1 + 0.05))


class GraphClient:
    def __init__(self, base_url, token_provider, *, session=None, timeout=30.0, max_attempts=8,
                 max_total_wait=300.0, base_backoff=1.0, max_backoff=60.0, sleep=time.sleep):
        self.base_url = base_url.rstrip("/")
        self.token_provider = token_provider  # token_provider(force_refresh=False) -> str
        self.session = session or requests.Session()
        self.timeout, self.max_attempts = timeout, max_attempts
        self.max_total_wait, self.base_backoff = max_total_wait, base_backoff
        self.max_backoff = max_backoff
        self.sleep = sleep
        self.total_waited = 0.0
        self.retries = 0

    def without_retries(self):
        """The same session and tokens for a request not worth waiting for: one attempt, no
        wait, so nothing is spent from this client's total wait budget."""
        return GraphClient(self.base_url, self.token_provider, session=self.session,
                           timeout=self.timeout, max_attempts=1, sleep=self.sleep)

    def url_for(self, path_or_url):
        if path_or_url.startswith("https://") or path_or_url.startswith("http://"):
            return path_or_url  # an @odata.nextLink is used exactly as given
        return f"{self.base_url}/{path_or_url.lstrip('/')}"

    def get_json(self, path_or_url, params=None, headers=None):
        response = self._send(self.url_for(path_or_url), params, headers or {})
        return response.json()

    def post_json(self, path, body, headers=None):
        """A POST that only reads (Graph's actions such as checkMemberGroups), so it is retried
        like a GET."""
        return self._send(self.url_for(path), None, headers or {}, body=body).json()

    def iter_pages(self, path, params=None, headers=None):
        """Yields each page's JSON, following @odata.nextLink to the end. A page without its
        `value` list (an error in a 200, a cut-off body) raises GraphError: taken as an empty
        last page, it ended the list early, and the sync suspended everyone on the pages lost."""
        page = _listed(self.get_json(path, params=params, headers=headers))
        yield page
        while page.get("@odata.nextLink"):
            page = _listed(self.get_json(page["@odata.nextLink"], headers=headers))
            yield page

    def _send(self, url, params, headers, body=None):
        token, refreshed = self.token_provider(force_refresh=False), False
        for attempt in range(1, self.max_attempts + 1):
            try:
                response = self._request(url, params, {
                    **headers, "Authorization": f"Bearer {token}", "Accept": "application/json"},
                    body)
            except CONNECTION_ERRORS as error:
                self._wait(None, attempt, f"the connection to Microsoft failed ({type(error).__name__})")
                continue
            if response.status_code == 401 and not refreshed:
                token, refreshed = self.token_provider(force_refresh=True), True
                continue
            if response.status_code in RETRY_STATUSES:
                self._wait(retry_after_seconds(response), attempt,
                           f"Microsoft answered {response.status_code}")
                continue
            if response.status_code >= 400:
                raise error_from_response(response)
            return response
        raise GraphGaveUp(f"Microsoft Graph still failed after {self.max_attempts} attempts.")

    def _request(self, url, params, headers, body=None):
        """GET, or a POST of a JSON body; without params the URL goes out byte for byte
        (requests would otherwise re-encode it, e.g. turn %7E into ~ inside an opaque
        $skiptoken)."""
        prepared = self.session.prepare_request(requests.Request(
            "GET" if body is None else "POST", url, params=params, headers=headers, json=body))
        if params is None:
            prepared.url = url
        settings = self.session.merge_environment_settings(prepared.url, {}, None, None, None)
        return self.session.send(prepared, timeout=self.timeout, **settings)

    def _wait(self, retry_after, attempt, why):
        if attempt >= self.max_attempts:
            raise GraphGaveUp(f"Gave up after {attempt} attempts: {why}.")
        if retry_after is not None:  # Microsoft's own figure, waited out as sent
            delay = retry_after + _jitter(retry_after)
        else:
            delay = self.base_backoff * 2 ** (attempt - 1)
            delay = min(delay + _jitter(delay), self.max_backoff)
        if self.total_waited + delay > self.max_total_wait:
            raise GraphGaveUp(f"Gave up after waiting {self.total_waited:.0f} s in all: {why}.")
        self.total_waited += delay
        self.retries += 1
        self.sleep(delay)
