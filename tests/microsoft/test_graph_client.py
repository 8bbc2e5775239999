"""Unit tests of GraphClient's retry rules, with the HTTP session stubbed (the boundary).

The same client runs against the Microsoft simulator over HTTPS in the sync and fault suites.
"""
import json
import urllib.parse

import pytest
import requests

from webapp.microsoft.graph import GraphClient, GraphGaveUp, GraphNotFound


class FakeResponse:
    def __init__(self, status, body=None, headers=None):
        self.status_code, self._body, self.headers = status, body or {}, headers or {}

    def json(self):
        return self._body


class ScriptedSession(requests.Session):
    """A real Session (so requests prepares each URL as it would) whose answers are scripted."""

    def __init__(self, *answers):
        super().__init__()
        self.answers, self.calls = list(answers), []

    def send(self, prepared, timeout=None, **settings):
        query = urllib.parse.urlsplit(prepared.url).query
        self.calls.append({"url": prepared.url, "params": dict(urllib.parse.parse_qsl(query)) or None,
                           "timeout": timeout, "headers": dict(prepared.headers),
                           "method": prepared.method,
                           "json": json.loads(prepared.body) if prepared.body else None})
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer


def client_with(*answers, **options):
    tokens, sleeps = [], []

    def token_provider(force_refresh=False):
        tokens.append(force_refresh)
        return f"token-{len(tokens)}"

    session = ScriptedSession(*answers)
    client = GraphClient("https://graph.example/v1.0", token_provider, session=session,
                         sleep=sleeps.append, **options)
    return client, session, tokens, sleeps


def test_fractional_retry_after_is_honoured_on_429():
    client, session, _, sleeps = client_with(
        FakeResponse(429, headers={"Retry-After": "2.128"}), FakeResponse(200, {"value": []}))
    assert client.get_json("/groups") == {"value": []}
    assert 2.128 <= sleeps[0] < 2.128 + 1.0
    assert session.calls[0]["timeout"] == 30.0


@pytest.mark.parametrize("status", [503, 504])
def test_unavailable_answers_back_off_and_recover(status):
    client, _, _, sleeps = client_with(FakeResponse(status), FakeResponse(status),
                                       FakeResponse(200, {"ok": True}))
    assert client.get_json("/me") == {"ok": True}
    assert len(sleeps) == 2 and sleeps[1] > sleeps[0]


def test_a_dropped_connection_is_retried():
    client, _, _, _ = client_with(requests.exceptions.ChunkedEncodingError("cut"),
                                  FakeResponse(200, {"ok": True}))
    assert client.get_json("/me") == {"ok": True}


def test_an_expired_token_is_refreshed_once():
    client, session, tokens, _ = client_with(FakeResponse(401), FakeResponse(200, {"ok": True}))
    client.get_json("/me")
    assert tokens == [False, True]
    assert session.calls[1]["headers"]["Authorization"] == "Bearer token-2"


def test_gives_up_after_the_configured_total_wait():
    client, _, _, _ = client_with(*[FakeResponse(429, headers={"Retry-After": "30"})] * 5,
                                  max_total_wait=45)
    with pytest.raises(GraphGaveUp, match="Gave up after waiting"):
        client.get_json("/groups")


def test_a_request_without_retries_gives_up_at_once_and_spends_nothing_of_the_budget():
    client, session, _, sleeps = client_with(
        FakeResponse(429, headers={"Retry-After": "30"}), FakeResponse(200, {"value": []}),
        max_total_wait=40)
    with pytest.raises(GraphGaveUp):
        client.without_retries().get_json("/groups/g/transitiveMembers/$count")
    assert sleeps == [] and client.total_waited == 0 and len(session.calls) == 1
    assert client.get_json("/groups") == {"value": []}  # the same session, its budget whole


def test_gives_up_after_max_attempts():
    client, _, _, _ = client_with(*[FakeResponse(503)] * 3, max_attempts=3)
    with pytest.raises(GraphGaveUp):
        client.get_json("/groups")


def test_not_found_is_its_own_error_and_never_holds_the_token():
    client, _, _, _ = client_with(FakeResponse(404, {"error": {
        "code": "Request_ResourceNotFound", "message": "Resource 'x' does not exist."}}))
    with pytest.raises(GraphNotFound) as raised:
        client.get_json("/groups/x")
    assert "Request_ResourceNotFound" in str(raised.value)
    assert "token-" not in str(raised.value)


def test_pages_follow_next_links_exactly():
    """"Paging Microsoft Graph data": send the whole @odata.nextLink as given; its opaque
    $skiptoken may hold percent-encodings that requests would otherwise rewrite (%7E to ~)."""
    next_link = "https://graph.example/v1.0/groups?$top=999&$skiptoken=X%27445%7E3707%27"
    client, session, _, _ = client_with(
        FakeResponse(200, {"value": [1], "@odata.nextLink": next_link}),
        FakeResponse(200, {"value": [], "@odata.nextLink": next_link + "&more"}),  # may be empty
        FakeResponse(200, {"value": [2]}))
    pages = list(client.iter_pages("/groups", params={"$top": "999"}))
    assert [p["value"] for p in pages] == [[1], [], [2]]
    assert session.calls[0]["url"] == "https://graph.example/v1.0/groups?%24top=999"
    assert [call["url"] for call in session.calls[1:]] == [next_link, next_link + "&more"]


def test_429_without_retry_after_backs_off_exponentially_up_to_the_cap():
    """Graph's throttling guidance: no Retry-After, so exponential back-off; never longer than
    max_backoff a wait, so one stubborn request cannot stall a sync for minutes at a time."""
    client, _, _, sleeps = client_with(*[FakeResponse(429)] * 6, FakeResponse(200, {"ok": True}),
                                       base_backoff=1.0, max_backoff=5.0, max_attempts=8,
                                       max_total_wait=300)
    assert client.get_json("/groups/g/transitiveMembers") == {"ok": True}
    assert [round(s) for s in sleeps[:3]] == [1, 2, 4] and all(1 <= s <= 5.0 for s in sleeps)
    assert sleeps[3:] == [5.0, 5.0, 5.0]


def test_a_read_only_post_sends_its_body_and_is_retried_like_a_get():
    """checkMemberGroups is a POST that only reads: throttled, it waits and asks again."""
    client, session, _, sleeps = client_with(
        FakeResponse(429, headers={"Retry-After": "0.5"}), FakeResponse(200, {"value": ["g1"]}))
    answer = client.post_json("/users/u1/checkMemberGroups", {"groupIds": ["g1", "g2"]})
    assert answer == {"value": ["g1"]} and 0.5 <= sleeps[0] < 1.5
    assert [call["method"] for call in session.calls] == ["POST", "POST"]
    assert session.calls[1]["json"] == {"groupIds": ["g1", "g2"]}
    assert session.calls[1]["url"] == "https://graph.example/v1.0/users/u1/checkMemberGroups"


@pytest.mark.parametrize("broken", [{"error": {"code": "UnknownError", "message": ""}},
                                    {"@odata.context": "cut off"}, {"value": None}, []],
                         ids=["error in a 200", "no value", "null value", "not an object"])
def test_a_page_without_its_items_ends_the_list_with_an_error_not_as_its_end(broken):
    """Taken as an empty last page, it ended the member list early: the sync then suspended
    everyone on the pages it never read."""
    from webapp.microsoft.graph import GraphError
    next_link = "https://graph.example/v1.0/groups/g/transitiveMembers?$skiptoken=2"
    client, _, _, _ = client_with(
        FakeResponse(200, {"value": [1], "@odata.nextLink": next_link}), FakeResponse(200, broken))
    pages = client.iter_pages("/groups/g/transitiveMembers")
    assert next(pages)["value"] == [1]
    with pytest.raises(GraphError, match="without its items"):
        next(pages)
