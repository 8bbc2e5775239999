"""Injected faults: latency, throttling, error bursts, dropped connections, page failures, a
group deleted between two pages of its member list.

Counts mean "the next N matching requests"; they are consumed under the
state lock so concurrent clients see exactly N faults in total.
"""
import random
import socket
import time

from flask import Response, current_app, request

from .errors import GraphError, graph_error, token_error

STATUS_CODES = {429: "TooManyRequests", 500: "generalException", 502: "badGateway",
                503: "serviceNotAvailable", 504: "timeout"}
STATUS_MESSAGES = {429: "Please retry again later.", 500: "An unspecified error has occurred.",
                   502: "Bad gateway.", 503: "The service is unavailable. Try the request again after a delay.",
                   504: "The operation timed out."}


def _state():
    return current_app.config["SIM_STATE"]


def applies_to_request():
    if request.path.startswith("/v1.0/"):
        return True
    return _state().faults.include_token_endpoint and _is_token_endpoint()


def _take(faults, counter):
    if getattr(faults, counter) > 0:
        setattr(faults, counter, getattr(faults, counter) - 1)
        return True
    return False


def before_request():
    """Return a fault response for this request, or None to serve it normally."""
    if not applies_to_request():
        return None
    state = _state()
    faults = state.faults
    delay = faults.latency_ms + (random.uniform(0, faults.jitter_ms) if faults.jitter_ms else 0)
    if delay:
        time.sleep(delay / 1000)
    with state.lock:
        if _take(faults, "throttle_count"):
            state.counters["faults_throttled"] += 1
            return throttled(faults.retry_after)
        if faults.error_status and _take(faults, "error_count"):
            state.counters["faults_errors"] += 1
            return status_error(faults.error_status)
        if _take(faults, "drop_connection_count"):
            state.counters["faults_dropped"] += 1
            return dropped_connection()
    return None


def _is_token_endpoint():
    return request.path.endswith("/oauth2/v2.0/token")


def throttled(retry_after):
    if _is_token_endpoint() and request.form.get("grant_type") != "client_credentials":
        # Entra throttles a user's token requests with 400 invalid_grant AADSTS50196, not with
        # a 429 (MSAL's "Client and server throttling", Server throttling: a 429 with
        # Retry-After is the answer to the client credentials grant only).
        return token_error(400, "invalid_grant", 50196)
    headers = {"Retry-After": str(retry_after)} if retry_after not in (None, "") else {}
    response = graph_error(429, "TooManyRequests", STATUS_MESSAGES[429], headers)
    body = response.get_json()
    body["error"]["innerError"].update(code="429", message="Please retry after", status="429")
    response.set_data(current_app.json.dumps(body))
    return response


def status_error(status):
    return graph_error(status, STATUS_CODES.get(status, "UnknownError"),
                       STATUS_MESSAGES.get(status, "An error has occurred."))


def page_fault(page_number):
    """Called by listings: fail page N (1 = the first request, without $skiptoken)."""
    state = _state()
    faults = state.faults
    with state.lock:
        if faults.fail_on_page != page_number or not _take(faults, "fail_count"):
            return
        state.counters["faults_page"] += 1
    raise GraphError(faults.fail_status, STATUS_CODES.get(faults.fail_status, "UnknownError"),
                     STATUS_MESSAGES.get(faults.fail_status, "An error has occurred."))


def member_page_served(group_id, page_number):
    """Called after a group's member list served page N: a scripted deletion happens now, so
    the next page of that list is Microsoft's 404 Request_ResourceNotFound for a deleted group."""
    state = _state()
    faults = state.faults
    with state.lock:
        if (faults.delete_group_id != group_id or faults.delete_group_after_page != page_number
                or state.directory.get_group(group_id) is None):
            return
        faults.delete_group_id = faults.delete_group_after_page = None  # once
        state.directory.delete_group(group_id)
        state.counters["faults_deleted_groups"] += 1


def dropped_connection():
    """Promise a full body, send half of it, then cut the TCP connection."""
    body = b'{"@odata.context":"dropped","value":[' + b'{"id":"00000000-0000-0000-0000-000000000000"},' * 200
    sock = request.environ.get("werkzeug.socket")

    def generate():
        yield body[: len(body) // 2]
        if sock is not None:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            sock.close()
        raise ConnectionResetError("simulated dropped connection")

    response = Response(generate(), status=200, content_type="application/json", direct_passthrough=True)
    response.headers["Content-Length"] = str(len(body) + 2)
    return response
