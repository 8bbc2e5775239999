"""Counted nouns in plain English: "1 worker", "2 workers", never "worker(s)"."""


def counted(count, singular, plural=None):
    return f"{count:,} {singular if count == 1 else plural or singular + 's'}"


def listed(items):
    """"a", "a and b", "a, b and c"."""
    items = list(items)
    return " and ".join([", ".join(items[:-1]), items[-1]] if len(items) > 1 else items)
