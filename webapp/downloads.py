"""Files an admin downloads: named after the school and the day, readable by Excel."""
import re
import unicodedata

from flask import Response

from webapp.clock import utcnow
from webapp.dates import local_time

# Excel opens a CSV as the machine's legacy code page unless it starts with a byte-order mark:
# without one, "Zoë Ångström" reads "ZoÃ« Ã…ngstrÃ¶m" and Arabic names turn to question marks.
UTF8_BOM = "\ufeff"


# Letters Unicode does not decompose into a base letter and an accent.
OWN_LETTERS = str.maketrans({"Æ": "AE", "æ": "ae", "Ø": "O", "ø": "o", "ß": "ss", "Œ": "OE",
                             "œ": "oe", "Ł": "L", "ł": "l", "Đ": "D", "đ": "d", "Þ": "Th",
                             "þ": "th"})


def slug(text, fallback):
    """ASCII words joined by hyphens ("Ærø École St. Mary's" -> "aero-ecole-st-mary-s"), safe
    in a file name and a header; fallback when nothing Latin is left (an Arabic name)."""
    folded = unicodedata.normalize("NFKD", (text or "").translate(OWN_LETTERS))
    words = re.sub(r"[^a-z0-9]+", "-", folded.encode("ascii", "ignore").decode().lower())
    return words.strip("-")[:60].strip("-") or fallback


def download_name(what, organisation, extension, moment=None):
    """synced-people-northfield-academy-2026-07-02.csv: the school's own date, not UTC's."""
    day = local_time(moment or utcnow(), organisation).date().isoformat()
    return f"{what}-{slug(organisation.name, f'school-{organisation.id}')}-{day}.{extension}"


def csv_download(chunks, what, organisation):
    """A CSV attachment in UTF-8 with a byte-order mark, built whole from chunks of text."""
    return csv_attachment(chunks, download_name(what, organisation, "csv"))


def csv_attachment(chunks, name):
    """name: an ASCII file name (slug() the parts that come from people)."""
    return Response(UTF8_BOM + "".join(chunks), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})
