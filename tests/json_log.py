"""What the app writes to its log in production: every record through its JSON formatter."""
import io
import logging
from contextlib import contextmanager

from webapp.logs import JsonFormatter


@contextmanager
def captured_json_log(level=None):
    """Yields the stream the root logger writes to meanwhile (at `level`, if given)."""
    stream, root = io.StringIO(), logging.getLogger()
    handler, previous = logging.StreamHandler(stream), root.level
    handler.setFormatter(JsonFormatter())
    root.addHandler(handler)
    if level is not None:
        root.setLevel(level)
    try:
        yield stream
    finally:
        root.removeHandler(handler)
        root.setLevel(previous)
