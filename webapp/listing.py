"""Lists on screens: a page of rows, and searching text columns for what an admin typed."""
from dataclasses import dataclass

LIKE_ESCAPE = "\\"


@dataclass
class Page:
    items: list
    page: int
    per_page: int
    total: int

    @property
    def pages(self):
        return last_page(self.total, self.per_page)

    @property
    def has_prev(self):
        return self.page > 1

    @property
    def has_next(self):
        return self.page < self.pages


def last_page(total, per_page):
    return max(1, -(-total // per_page))


def page_within(page, total, per_page):
    """The page asked for, brought back inside 1..last (an old link after rows went away)."""
    return max(1, min(page, last_page(total, per_page)))


def escape_like(text):
    """The text as a LIKE pattern that matches itself: % and _ are letters, not wildcards."""
    return (text.replace(LIKE_ESCAPE, LIKE_ESCAPE * 2).replace("%", LIKE_ESCAPE + "%")
            .replace("_", LIKE_ESCAPE + "_"))


def contains(column, text):
    return column.like(f"%{escape_like(text)}%", escape=LIKE_ESCAPE)


def starts_with(column, text):
    return column.like(f"{escape_like(text)}%", escape=LIKE_ESCAPE)
