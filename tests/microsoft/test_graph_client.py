"""Unit tests of GraphClient's retry rules, with the HTTP session stubbed (the boundary).

The same client runs against the Microsoft simulator over HTTPS in the sync and fault suites.
"""
import pytest
import requests

from webapp.microsoft.graph import GraphClient, GraphGaveUp, GraphNotFound


class FakeResponse:
    def __init__(self, status, body=None, headers=None):
        self.status_code, self._body, self.headers = status, body or {}, headers or {}

    def json(self):
        return self._body


class ScriptedSession:
    def __init__(self, *answers):
        self.answers, self.calls = list(answers), []

    def get(self, url, params=None, timeout=None, headers=None):
        self.calls.append({"url": url, "params": params, "timeout": timeout, "headers": headers})
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    def post(self, url, json=None, params=None, timeout=None, headers=None):
        answer = self.get(url, params=params, timeout=timeout, headers=headers)
        self.calls[-1].update(method="POST", json=json)
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
    next_link = "https://graph.example/v1.0/groups?$skiptoken=abc"
    client, session, _, _ = client_with(
        FakeResponse(200, {"value": [1], "@odata.nextLink": next_link}),
        FakeResponse(200, {"value": [2]}))
    pages = list(client.iter_pages("/groups", params={"$top": "999"}))
    assert [p["value"] for p in pages] == [[1], [2]]
    assert session.calls[1]["url"] == next_link and session.calls[1]["params"] is None


def test_a_read_only_post_sends_its_body_and_is_retried_like_a_get():
    """checkMemberGroups is a POST that only reads: throttled, it waits and asks again."""
    client, session, _, sleeps = client_with(
        FakeResponse(429, headers={"Retry-After": "0.5"}), FakeResponse(200, {"value": ["g1"]}))
    answer = client.post_json("/users/u1/checkMemberGroups", {"groupIds": ["g1", "g2"]})
    assert answer == {"value": ["g1"]} and 0.5 <= sleeps[0] < 1.5
    assert [call["method"] for call in session.calls] == ["POST", "POST"]
    assert session.calls[1]["json"] == {"groupIds": ["g1", "g2"]}
    assert session.calls[1]["url"] == "https://graph.example/v1.0/users/u1/checkMemberGroups"
