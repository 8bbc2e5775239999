"""The sign-in blueprint, shared by its views: signing in and out (routes), Forgot your password
(recovery_routes) and Sign in with Microsoft (microsoft_routes)."""
from flask import Blueprint

bp = Blueprint("auth", __name__)
