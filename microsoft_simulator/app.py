"""The Flask application serving both Microsoft services and the control API."""
import time
import uuid

from flask import Flask, g, request

from . import (adminconsent, control_api, delta, faults, graph, identity, membership, odata,
               profile, signin)
from .errors import GraphError, graph_error, graph_error_response

LOGGED_HEADERS = ("ConsistencyLevel", "client-request-id", "Prefer", "User-Agent")


def create_app(state):
    app = Flask(__name__)
    app.config["SIM_STATE"] = state
    app.json.sort_keys = False
    app.json.ensure_ascii = False
    app.json.compact = True
    for blueprint in (identity.bp, signin.bp, adminconsent.bp, delta.bp, graph.bp, profile.bp,
                      membership.bp,
                      control_api.bp):
        app.register_blueprint(blueprint)
    app.before_request(_before)
    app.after_request(_after)
    app.register_error_handler(GraphError, graph_error_response)
    app.register_error_handler(odata.QueryError, graph_error_response)
    app.register_error_handler(404, _not_found)
    app.register_error_handler(405, _not_found)
    return app


def _is_graph():
    return request.path.startswith("/v1.0/")


def _before():
    g.started = time.perf_counter()
    if _is_graph():
        request.graph_request_id = str(uuid.uuid4())
    return faults.before_request()


def _after(response):
    if not _is_graph():
        return response
    request_id = getattr(request, "graph_request_id", "")
    response.headers["request-id"] = request_id
    response.headers["client-request-id"] = request.headers.get("client-request-id", request_id)
    response.headers["OData-Version"] = "4.0"
    response.headers["x-ms-ags-diagnostic"] = '{"ServerInfo":{"DataCenter":"Simulator","Slice":"E"}}'
    if response.mimetype == "application/json" and not response.direct_passthrough:
        response.headers["Content-Type"] = ("application/json;odata.metadata=minimal;"
                                            "odata.streaming=true;IEEE754Compatible=false;charset=utf-8")
    state = request.environ and app_state()
    state.request_log.append({
        "method": request.method, "path": request.full_path.rstrip("?"), "route": request.path,
        "query": request.args.to_dict(flat=True), "status": response.status_code,
        "headers": {h: request.headers[h] for h in LOGGED_HEADERS if h in request.headers},
        "has_authorization": "Authorization" in request.headers,
        "ms": round((time.perf_counter() - g.started) * 1000, 2), "time": time.time()})
    state.counters["graph_requests"] += 1
    return response


def app_state():
    from flask import current_app
    return current_app.config["SIM_STATE"]


def _not_found(exc):
    if _is_graph():
        segment = request.path.rstrip("/").rsplit("/", 1)[-1]
        return graph_error(400, "BadRequest", f"Resource not found for the segment '{segment}'.")
    return exc
