"""CSV cells that a spreadsheet will not run as formulas."""


def safe_cell(value):
    """Spreadsheet apps run cells starting with = + - @ as formulas; names come from outside."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text
