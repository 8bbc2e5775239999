"""Export CSV of the Schools page: the rows the page's filter and search keep, in its order.

Formula-safe cells (csv_safety), a byte-order mark (downloads), times in ISO 8601 with their
offset in each school's own time zone (dates.iso_timestamp).
"""
import csv
import io

from webapp.csv_safety import safe_cell
from webapp.dates import iso_timestamp
from webapp.schedule.services import REASON_WORDS
from webapp.trust.status import status_words

HEADER = ("school", "trust", "connection", "connection_state", "microsoft_account", "groups",
          "last_successful_sync", "last_sync_added", "last_sync_suspended",
          "next_automatic_sync", "no_next_sync_because", "active_people", "status",
          "status_detail")


def connection_kind(row):
    if row.connection is None:
        return ""
    return "trust" if row.trust_name else "own"


def csv_text(rows):
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(HEADER)
    for row in rows:
        writer.writerow([safe_cell(value) for value in _cells(row)])
    return buffer.getvalue()


def _cells(row):
    last = row.facts.last_complete
    next_sync = row.next_sync
    return (row.name, row.trust_name or "", connection_kind(row), row.state_label,
            row.connection.account_email if row.connection else "",
            ", ".join(group.name for group in row.selection.synced),
            iso_timestamp(last.finished_at, row) if last else "",
            last.added if last else "", last.suspended if last else "",
            iso_timestamp(next_sync.at, row) if next_sync.at else "",
            "" if next_sync.at else REASON_WORDS.get(next_sync.reason, ""), row.active_people,
            row.status, status_words(row, iso_timestamp))
