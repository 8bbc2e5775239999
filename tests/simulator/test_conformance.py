"""microsoft_simulator/CONFORMANCE.md lists every endpoint and error code the simulator answers,
each with the Microsoft document it follows: a new one must be added there, with its source."""
import re
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric import rsa

from microsoft_simulator import errors, faults
from microsoft_simulator.app import create_app
from microsoft_simulator.state import SimState
from microsoft_simulator.tokens import Signer

PACKAGE = Path(__file__).resolve().parents[2] / "microsoft_simulator"
CONFORMANCE = (PACKAGE / "CONFORMANCE.md").read_text()
SOURCES = "\n".join(path.read_text() for path in PACKAGE.glob("*.py"))
OWN_ROUTES = ("/_simulator", "/static")


def listed(name):
    return f"`{name}`" in CONFORMANCE


def endpoints():
    state = SimState(signer=Signer(rsa.generate_private_key(public_exponent=65537, key_size=2048)))
    rules = {rule.rule for rule in create_app(state).url_map.iter_rules()}
    return sorted(rule for rule in rules if not rule.startswith(OWN_ROUTES) and rule != "/")


def oauth_errors():
    """The `error` values the identity platform pages and token endpoint send."""
    return set(re.findall(r'(?:token_error\(\d+|error_redirect\(tx), "(\w+)"', SOURCES))


def aadsts_codes():
    return {str(key[0] if isinstance(key, tuple) else key) for key in errors.AADSTS}


def graph_codes():
    found = set(re.findall(r'(?:GraphError|graph_error)\(\s*\w+,\s*"(\w+)"', SOURCES))
    found |= set(re.findall(r'bad_request\([^()]*(?:\([^()]*\)[^()]*)*"(\w+)"\)', SOURCES))
    found |= set(re.findall(r'def bad_request\([^)]*code="(\w+)"', SOURCES))
    found |= set(re.findall(r'QueryError\(400, "(\w+)"', SOURCES))
    return found | set(faults.STATUS_CODES.values()) | {"UnknownError"}


def test_every_endpoint_the_simulator_serves_is_listed_with_its_document():
    unlisted = [rule for rule in endpoints() if not listed(rule)]
    assert not unlisted, f"add these to microsoft_simulator/CONFORMANCE.md: {unlisted}"


def test_every_error_code_the_simulator_sends_is_listed():
    unlisted = sorted(code for code in oauth_errors() | aadsts_codes() | graph_codes()
                      if not listed(code))
    assert not unlisted, f"add these to microsoft_simulator/CONFORMANCE.md: {unlisted}"
    assert {"invalid_client", "consent_required"} <= oauth_errors()  # the scan finds them
    assert {"Authorization_RequestDenied", "Request_UnsupportedQuery"} <= graph_codes()


def test_the_file_names_a_document_for_each_behaviour_and_what_is_not_modelled():
    assert "## Knowingly not modelled" in CONFORMANCE
    for document in ("v2-admin-consent.md", "reference-error-codes.md", "concepts/errors.md",
                     "aad-advanced-queries.md", "group-list-transitivemembers.md",
                     "limited-info.md", "users-default-permissions.md", "user-properties.md",
                     "concepts/paging.md", "concepts/throttling.md",
                     "v2-oauth2-client-creds-grant-flow.md"):
        assert document in CONFORMANCE, document
