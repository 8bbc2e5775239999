"""Errors the service layer raises with a message fit to show an admin."""


class ServiceError(Exception):
    """A request the service refused; str(error) is safe to show to the user."""


class NotFound(Exception):
    """The thing asked for does not exist for this user; answered as a 404."""
