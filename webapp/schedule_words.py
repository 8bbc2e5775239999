"""The automatic sync schedule's choices as an admin reads them ("Every 4 hours", "01:30").

It imports nothing, so the Activity page (webapp.audit.values) reads a schedule change in these
words without importing the schedule feature, which itself writes to the audit log.
"""
OFF, DAILY = "off", "daily"
FREQUENCY_LABELS = {OFF: "Off", DAILY: "Every day", "1h": "Every hour", "2h": "Every 2 hours",
                    "4h": "Every 4 hours", "6h": "Every 6 hours", "12h": "Every 12 hours"}


def format_minute_of_day(minute_of_day):
    return f"{minute_of_day // 60:02d}:{minute_of_day % 60:02d}" if minute_of_day is not None else ""
