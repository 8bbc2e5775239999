"""Errors the service layer raises with a message fit to show an admin."""


class ServiceError(Exception):
    """A request the service refused; str(error) is safe to show to the user."""


class InvalidFields(ServiceError):
    """Bad input in named fields: errors is {field: message to show next to it}; nothing was
    saved. str() joins the messages (for the command line)."""

    def __init__(self, errors):
        super().__init__(" ".join(errors.values()))
        self.errors = errors


class NotFound(Exception):
    """The thing asked for does not exist for this user; answered as a 404."""
