"""Counted nouns in plain English: "1 worker", "2 workers", never "worker(s)"."""


def counted(count, singular, plural=None):
    return f"{count:,} {singular if count == 1 else plural or singular + 's'}"
