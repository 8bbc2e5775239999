"""What arrives in a request, made safe to hand to the database before any view reads it.

- Form and query values lose NUL characters: nobody types one, and PostgreSQL refuses text
  holding one (even in a WHERE clause), where SQLite would quietly store it.
- An <int:...> part of an address is at most the largest id a database integer holds; a longer
  number is a 404, like any other id that names nothing.
- whole_number() reads a typed number: ASCII digits only, range-checked before int() (which
  would take "٣", "1_000" and "+5", and refuses strings of more than 4,300 digits).
"""
from flask import Request
from werkzeug.datastructures import ImmutableMultiDict
from werkzeug.routing import IntegerConverter

LARGEST_ID = 2**31 - 1  # PostgreSQL's integer; every id column is one


def _without_nul(value):
    return value.replace("\x00", "") if isinstance(value, str) else value


class Parameters(ImmutableMultiDict):
    """request.args and request.form: what was sent, without NUL characters."""

    def __init__(self, mapping=None):
        if isinstance(mapping, (list, tuple)):
            mapping = [(_without_nul(key), _without_nul(value)) for key, value in mapping]
        super().__init__(mapping)


class InputRequest(Request):
    parameter_storage_class = Parameters


class IdConverter(IntegerConverter):
    """<int:name> in a route, bounded by what an id column can hold."""

    def __init__(self, map, fixed_digits=0, min=None, max=LARGEST_ID, signed=False):
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=max, signed=signed)


def whole_number(text, lowest, highest):
    """The whole number text spells, if it is one from lowest to highest; else None."""
    text = "" if text is None else str(text).strip()
    if not (text.isascii() and text.isdigit()):
        return None
    significant = text.lstrip("0") or "0"
    if len(significant) > len(str(highest)):
        return None
    value = int(significant)
    return value if lowest <= value <= highest else None


def page_number(values, name="page"):
    """The page of a list asked for (the list brings it within its last page); 1 if unreadable."""
    return whole_number(values.get(name), 1, LARGEST_ID) or 1


def init_request_input(app):
    app.request_class = InputRequest
    app.url_map.converters["int"] = IdConverter
