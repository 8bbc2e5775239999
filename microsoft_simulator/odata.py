"""OData query options as Graph implements them for directory objects.

Only the subset the product needs, but with Graph's advanced-query rules:
some options work only with `ConsistencyLevel: eventual` (and `$count=true`).
"""
import base64
import json
import re

DEFAULT_PAGE_SIZE = 100
MAX_PAGE_SIZE = 999
ADVANCED_DOCS = "Refer to https://aka.ms/graph-docs/advanced-queries for more information"
# Microsoft documents that the cast needs the advanced-query parameters, not the words it answers.
CAST_NEEDS_ADVANCED = ("OData cast is not supported because the required parameters might be missing. "
                       "Try adding $count=true query parameter and ConsistencyLevel:eventual header. "
                       + ADVANCED_DOCS)


class QueryError(Exception):
    def __init__(self, status, code, message):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def bad_request(message, code="Request_BadRequest"):
    return QueryError(400, code, message)


def unsupported(message):
    return QueryError(400, "Request_UnsupportedQuery", message)


def parse_top(args):
    raw = args.get("$top")
    if raw is None:
        return DEFAULT_PAGE_SIZE
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_PAGE_SIZE:
        raise bad_request(f"Invalid page size specified: '{raw}'. Must be between 1 and 999 inclusive.")
    return int(raw)


def parse_select(args):
    raw = args.get("$select")
    if not raw:
        return None
    return [p.strip() for p in raw.split(",") if p.strip()]


# ----- $filter -----
_CLAUSE_SPLIT = re.compile(r"\s+(and|or)\s+(?=(?:[^']*'[^']*')*[^']*$)", re.I)
_COMPARE = re.compile(r"^(\w+)\s+(eq|ne)\s+(.+)$", re.I)
_FUNC = re.compile(r"^(startswith|endswith)\(\s*(\w+)\s*,\s*'((?:[^']|'')*)'\s*\)$", re.I)
_ANY = re.compile(r"^(\w+)/any\(\s*(\w+)\s*:\s*\2\s+eq\s+'((?:[^']|'')*)'\s*\)$", re.I)
_NOT = re.compile(r"^not\s*\((.*)\)$", re.I)
_IN = re.compile(r"^(\w+)\s+in\s+\((.*)\)$", re.I)


def _literal(text):
    text = text.strip()
    if text.startswith("'") and text.endswith("'") and len(text) >= 2:
        return text[1:-1].replace("''", "'")
    lowered = text.lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    if lowered == "null":
        return None
    if re.fullmatch(r"-?\d+", text):
        return int(text)
    raise bad_request(f"Invalid filter clause: syntax error near '{text}'.")


def _lower(value):
    return value.lower() if isinstance(value, str) else value


def _clause(text, advanced_ops):
    text = text.strip()
    while text.startswith("(") and text.endswith(")"):
        text = text[1:-1].strip()
    if m := _NOT.match(text):
        advanced_ops.append("not")
        inner = _clause(m.group(1), advanced_ops)
        return lambda obj: not inner(obj)
    if m := _FUNC.match(text):
        func, prop, value = m.group(1).lower(), m.group(2), m.group(3).replace("''", "'").lower()
        if func == "endswith":
            advanced_ops.append("endsWith")
            return lambda obj: str(obj.get(prop) or "").lower().endswith(value) and obj.get(prop) is not None
        return lambda obj: obj.get(prop) is not None and str(obj.get(prop)).lower().startswith(value)
    if m := _ANY.match(text):
        prop, value = m.group(1), m.group(3).replace("''", "'").lower()
        return lambda obj: value in [_lower(v) for v in obj.get(prop) or []]
    if m := _IN.match(text):
        prop = m.group(1)
        values = {_lower(_literal(v)) for v in m.group(2).split(",")}
        return lambda obj: _lower(obj.get(prop)) in values
    if m := _COMPARE.match(text):
        prop, op, value = m.group(1), m.group(2).lower(), _lower(_literal(m.group(3)))
        if op == "ne":
            advanced_ops.append("ne")
            return lambda obj: _lower(obj.get(prop)) != value
        return lambda obj: _lower(obj.get(prop)) == value
    raise bad_request(f"Invalid filter clause: unsupported expression '{text}'.")


def parse_filter(raw):
    """Return (predicate, advanced operators used)."""
    parts = _CLAUSE_SPLIT.split(raw.strip())
    advanced = []
    predicate = _clause(parts[0], advanced)
    for i in range(1, len(parts), 2):
        joiner, right = parts[i].lower(), _clause(parts[i + 1], advanced)
        left = predicate
        predicate = ((lambda l, r: lambda o: l(o) and r(o)) if joiner == "and"
                     else (lambda l, r: lambda o: l(o) or r(o)))(left, right)
    return predicate, advanced


# ----- $search -----
_SEARCH_TERM = re.compile(r'"(\w+):([^"]*)"')


def parse_search(raw):
    terms = _SEARCH_TERM.findall(raw or "")
    if not terms:
        raise bad_request("Invalid $search query: expected \"property:value\".", "BadRequest")
    use_and = " AND " in raw

    def matches(obj):
        hits = [_search_hit(obj.get(prop), value) for prop, value in terms]
        return all(hits) if use_and else any(hits)
    return matches


def _search_hit(field, value):
    if not isinstance(field, str):
        return False
    value = value.lower()
    words = re.split(r"[\s.@_\-]+", field.lower())
    return any(w.startswith(value) for w in words) or field.lower().startswith(value)


# ----- $orderby -----
def parse_orderby(raw):
    prop, _, direction = raw.strip().partition(" ")
    reverse = direction.strip().lower() == "desc"
    return (lambda obj: ((obj.get(prop) is None), str(obj.get(prop) or "").lower())), reverse


# ----- advanced query rules -----
def check_advanced(args, eventual, is_member_list):
    """Raise Graph's error when an option needs the advanced-query parameters."""
    count = args.get("$count", "").lower() == "true"
    if "$search" in args and not eventual:
        raise unsupported("Request with $search query parameter only works through MSGraph "
                          "with a special request header: 'ConsistencyLevel: eventual'")
    advanced_ready = eventual and count
    if "$filter" in args:
        _, ops = parse_filter(args["$filter"])
        if ops and not advanced_ready:
            raise unsupported(f"Operator '{ops[0]}' is not supported because the required "
                              "parameters might be missing. Try adding $count=true query "
                              f"parameter and ConsistencyLevel:eventual header. {ADVANCED_DOCS}")
        if is_member_list and not advanced_ready:
            raise unsupported("The specified filter to the reference property query is currently "
                              "not supported.")
    if "$orderby" in args and not advanced_ready and (
            is_member_list or "$filter" in args or "$search" in args):
        raise unsupported("Sorting not supported for current query.")
    return count and eventual


# ----- paging -----
SKIPTOKEN_TAIL = "%7E"  # see graph._next_link


def encode_skiptoken(state):
    raw = json.dumps(state, separators=(",", ":")).encode()
    return "RFNwdAIA" + base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_skiptoken(token):
    try:
        body = token[len("RFNwdAIA"):].rstrip("~")
        return json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    except (ValueError, TypeError):
        raise bad_request("Invalid value for $skiptoken.", "Directory_InvalidSkipToken")
