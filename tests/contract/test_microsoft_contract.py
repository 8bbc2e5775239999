"""Microsoft's documented answers (microsoft_facts), checked on both sides: the simulator must give
them, and the product must read them right."""
import urllib.parse

import pytest
import requests

from tests.contract import microsoft_facts as facts
from tests.microsoft_flow import MicrosoftBrowser, demo
from webapp.microsoft import admin_consent, app_credentials, identity
from webapp.microsoft.graph import GraphClient, GraphForbidden, GraphNotFound, error_from_response

CALLBACK = "http://localhost/microsoft/callback"


@pytest.fixture
def graph_token(microsoft):
    """A delegated token for the demo administrator (the auth-code flow, as the app does it)."""
    from bench.simulator_token import access_token
    return access_token(microsoft)


def graph_get(microsoft, token, path, headers=None, **params):
    return requests.get(f"{microsoft.base_url}/v1.0{path}", params=params, timeout=30,
                        headers={"Authorization": f"Bearer {token}", **(headers or {})},
                        verify=microsoft.ca_path)


def assert_graph_error_shape(response, status, code):
    body = response.json()
    assert response.status_code == status and set(body) == {"error"}
    assert facts.GRAPH_ERROR_KEYS <= set(body["error"]) and body["error"]["code"] == code
    assert facts.GRAPH_INNER_ERROR_KEYS <= set(body["error"]["innerError"])
    assert response.headers["request-id"] == body["error"]["innerError"]["request-id"]


def test_the_simulators_graph_errors_have_the_documented_shape(microsoft, graph_token):
    assert_graph_error_shape(graph_get(microsoft, graph_token, "/groups/no-such-group"), 404,
                             "Request_ResourceNotFound")
    search = graph_get(microsoft, graph_token, "/users", **{"$search": '"displayName:jo"'})
    assert_graph_error_shape(search, 400, facts.SEARCH_WITHOUT_HEADER[0])
    assert search.json()["error"]["message"] == facts.SEARCH_WITHOUT_HEADER[1]
    count = graph_get(microsoft, graph_token, "/users/$count")
    assert_graph_error_shape(count, 400, facts.COUNT_SEGMENT_WITHOUT_HEADER[0])
    assert count.json()["error"]["message"] == facts.COUNT_SEGMENT_WITHOUT_HEADER[1]
    counted = graph_get(microsoft, graph_token, "/users/$count",
                        headers={"ConsistencyLevel": "eventual"})
    assert counted.status_code == 200 and int(counted.text) > 0
    cast = graph_get(microsoft, graph_token,
                     f"/groups/{demo.NORTHFIELD_STAFF_GROUP_ID}/transitiveMembers/microsoft.graph.user")
    assert_graph_error_shape(cast, 400, "Request_UnsupportedQuery")


class Answer:
    def __init__(self, status, body):
        self.status_code, self._body, self.headers = status, body, {}

    def json(self):
        return self._body


def test_the_product_reads_the_documented_graph_error():
    error = error_from_response(Answer(404, facts.GRAPH_ERROR))
    assert isinstance(error, GraphNotFound) and error.code == "Request_ResourceNotFound"
    denied = {"error": {**facts.GRAPH_ERROR["error"], "code": "Authorization_RequestDenied"}}
    assert isinstance(error_from_response(Answer(403, denied)), GraphForbidden)


def token_request(microsoft, secret=demo.CLIENT_SECRET):
    return requests.post(f"{microsoft.base_url}/{demo.TENANT_ID}/oauth2/v2.0/token", timeout=30,
                         verify=microsoft.ca_path,
                         data={"grant_type": "client_credentials", "client_id": demo.CLIENT_ID,
                               "client_secret": secret,
                               "scope": "https://graph.microsoft.com/.default"})


@pytest.mark.parametrize("fault, code", [("expired", facts.EXPIRED_SECRET),
                                         ("wrong", facts.WRONG_SECRET)])
def test_the_simulators_token_errors_have_the_documented_body(microsoft, fault, code):
    if fault == "expired":
        microsoft.control.set_client(secret_expired=True)
    response = token_request(microsoft, "wrong-secret" if fault == "wrong" else demo.CLIENT_SECRET)
    body = response.json()
    assert facts.TOKEN_ERROR_KEYS <= set(body) and body["error"] == "invalid_client"
    assert body["error_codes"] == [code] and body["error_description"].startswith(f"AADSTS{code}:")
    assert body["trace_id"] in body["error_description"]
    assert token_request(microsoft).status_code == (401 if fault == "expired" else 200)


def test_the_product_names_the_documented_token_error_in_plain_words():
    code = app_credentials.aadsts_code(facts.TOKEN_ERROR)
    assert code == "AADSTS7000222" and "expired" in app_credentials.plain_words(code)
    wrong = {**facts.TOKEN_ERROR, "error_codes": [facts.WRONG_SECRET]}
    assert "Value" in app_credentials.plain_words(app_credentials.aadsts_code(wrong))
    by_text = {"error": "invalid_client", "error_description": "AADSTS7000215: Invalid client secret"}
    assert app_credentials.aadsts_code(by_text) == "AADSTS7000215"


@pytest.mark.parametrize("tenant_change, documented, reconnect_codes", [
    ({"remove_app": True}, facts.APP_NOT_IN_TENANT, identity.APP_NOT_IN_TENANT_CODES),
    ({"app_enabled": False}, facts.APP_DISABLED, identity.APP_DISABLED_CODES)],
    ids=["removed", "disabled"])
def test_an_app_the_tenant_removed_or_disabled_is_the_documented_answer_and_needs_a_reconnect(
        microsoft, tenant_change, documented, reconnect_codes):
    microsoft.control.set_tenant(**tenant_change)
    body = token_request(microsoft).json()
    error, code = documented
    assert facts.TOKEN_ERROR_KEYS <= set(body) and body["error"] == error
    assert body["error_codes"] == [code] and body["error_description"].startswith(f"AADSTS{code}:")
    assert code in reconnect_codes  # the product's Reconnect needed


def consent_answer(microsoft, link, decision):
    it_admin = MicrosoftBrowser(microsoft)
    it_admin.open(link)
    it_admin.sign_in_as(demo.ADMIN_UPN, accept_consent=False)
    callback = it_admin.click(decision)
    return dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(callback).query))


def test_admin_consent_answers_have_the_documented_parameters_and_the_product_judges_them(
        app, oak, microsoft):
    link = admin_consent.consent_link(oak.north, CALLBACK)
    declined = consent_answer(microsoft, link, "Cancel")
    assert set(declined) == facts.ADMIN_CONSENT_ERROR_KEYS and declined["admin_consent"] == "True"
    assert admin_consent.judge(declined).code == admin_consent.DECLINED
    approved = consent_answer(microsoft, link, "Accept")
    assert set(approved) == facts.ADMIN_CONSENT_SUCCESS_KEYS
    assert admin_consent.judge(approved).code == admin_consent.APPROVED
    documented_error = {**facts.ADMIN_CONSENT_ERROR, "state": approved["state"]}
    assert admin_consent.judge(documented_error).code == admin_consent.DECLINED  # never approved
    assert admin_consent.judge({"admin_consent": "True", "state": approved["state"]}).code \
        == admin_consent.FAILED  # no tenant


def test_next_links_are_followed_exactly_as_microsoft_wrote_them(microsoft, graph_token):
    client = GraphClient(microsoft.env["MICROSOFT_GRAPH_URL"], lambda force_refresh=False: graph_token)
    microsoft.control.clear_request_log()
    pages = list(client.iter_pages(f"/groups/{demo.SOUTHFIELD_STAFF_GROUP_ID}/transitiveMembers",
                                   params={"$top": "7", "$select": "id"}))
    assert len(pages) == 3 and sum(len(p["value"]) for p in pages) == 20
    sent = [entry["path"] for entry in microsoft.control.request_log()]
    written = [urllib.parse.urlsplit(p["@odata.nextLink"]) for p in pages[:-1]]
    assert sent[1:] == [f"{link.path}?{link.query}" for link in written]
    assert all("%7E" in path for path in sent[1:])  # percent-encodings left as they were
