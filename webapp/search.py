"""What an admin types into a search box: one length limit for every search on the site.

Names and email addresses are far shorter than the limit; anything longer is a paste gone wrong,
answered with a plain message instead of a search (and never echoed back into the page).
"""
from dataclasses import dataclass

MAX_LENGTH = 200
TOO_LONG = (f"That search is too long: use at most {MAX_LENGTH} characters (a name or an "
            "email address), then search again.")


@dataclass(frozen=True)
class Search:
    typed: str  # what was sent, stripped: the search box shows it again so it can be shortened
    error: str = None

    @property
    def text(self):
        """What to search for: nothing when the search was refused."""
        return "" if self.error else self.typed


def search_from(args, name="q"):
    typed = (args.get(name) or "").strip()
    return Search(typed, TOO_LONG if len(typed) > MAX_LENGTH else None)
