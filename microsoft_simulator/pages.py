"""HTML for the simulator's sign-in pages. Jinja autoescapes every value."""
from flask import current_app, render_template_string

_LAYOUT = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{ title }} - Microsoft simulator</title>
<style>
body{font-family:Segoe UI,Arial,sans-serif;background:#f2f2f2;margin:0}
.banner{background:#5c2d91;color:#fff;padding:.5rem 1rem;font-weight:600}
main{background:#fff;max-width:440px;margin:2rem auto;padding:2rem;box-shadow:0 2px 6px rgba(0,0,0,.2)}
label{display:block;margin-top:1rem} input[type=email],input[type=password],input[type=text]{width:100%;padding:.4rem;font-size:1rem}
button{margin-top:1rem;padding:.5rem 1.2rem;font-size:1rem} .account{display:block;width:100%;text-align:left}
.error{color:#a80000;border-left:3px solid #a80000;padding-left:.5rem} code{font-size:.85rem}
</style></head><body>
<div class="banner" role="banner">Microsoft simulator &mdash; not a real Microsoft sign-in page ({{ tenant_name }}){% if demo_consent %}. Demo tenant: its administrator has already approved the demo app for everyone (admin consent granted){% endif %}</div>
<main><h1>{{ title }}</h1>{{ body|safe }}</main></body></html>"""

_SIGN_IN = """
{% if error %}<p class="error" role="alert" id="error">{{ error }}<br><code>{{ error_code }}</code></p>{% endif %}
<form method="post" action="{{ action }}">
<input type="hidden" name="tx" value="{{ tx }}">
<label for="login">Email</label>
<input id="login" name="login" type="email" autocomplete="username" value="{{ login }}" required>
<label for="passwd">Password</label>
<input id="passwd" name="passwd" type="password" autocomplete="current-password" required>
<button type="submit">Sign in</button>
</form>"""

_PICKER = """
<p>Pick an account</p>
<form method="post" action="{{ action }}">
<input type="hidden" name="tx" value="{{ tx }}">
{% for account in accounts %}
<button class="account" type="submit" name="account" value="{{ account.id }}" aria-label="{{ account.userPrincipalName }}">
{{ account.displayName }}<br><small>{{ account.userPrincipalName }}</small></button>
{% endfor %}
<button class="account" type="submit" name="account" value="other">Use another account</button>
</form>"""

_CONSENT = """
<p><strong>{{ user.userPrincipalName }}</strong></p>
<p><strong>{{ client_name }}</strong> wants to:</p>
<ul>{% for scope in scopes %}<li>{{ scope }}</li>{% endfor %}</ul>
<p>Accepting these permissions means that you allow this app to use your data.</p>
<form method="post" action="{{ action }}">
<input type="hidden" name="tx" value="{{ tx }}">
{% if is_admin %}<p><input type="checkbox" id="org_consent" name="org_consent" value="1">
<label for="org_consent">Consent on behalf of your organization</label></p>{% endif %}
<button type="submit" name="decision" value="accept">Accept</button>
<button type="submit" name="decision" value="cancel">Cancel</button>
</form>"""

_ADMIN_APPROVAL = """
<p><strong>{{ user.userPrincipalName }}</strong></p>
<p class="error" role="alert">{{ client_name }} needs permission to access resources in your
organisation that only an admin can grant. Please ask an admin to grant permission to this app before you can use it.</p>
<p><code>AADSTS90094: The grant requires admin permission.</code></p>
{% if other_account %}<form method="post" action="{{ other_account }}">
<input type="hidden" name="tx" value="{{ tx }}">
<p>Have an admin account? <button type="submit">Sign in with that account</button></p>
</form>{% endif %}
<form method="post" action="{{ action }}">
<input type="hidden" name="tx" value="{{ tx }}">
<button type="submit">Return to the application without granting consent</button>
</form>"""

_ADMIN_CONSENT = """
<p><strong>{{ user.userPrincipalName }}</strong></p>
<p><strong>{{ client_name }}</strong> asks an administrator to grant, for the whole organisation:</p>
<ul>{% for scope in scopes %}<li>{{ scope }}</li>{% endfor %}</ul>
<form method="post" action="{{ action }}">
<input type="hidden" name="tx" value="{{ tx }}">
<button type="submit" name="decision" value="accept">Accept</button>
<button type="submit" name="decision" value="cancel">Cancel</button>
</form>"""

_ERROR = """<p class="error" role="alert">Sorry, but we're having trouble signing you in.</p>
<p><code>{{ message }}</code></p>"""

_FORM_POST = """<form method="post" action="{{ redirect_uri }}" id="response">
{% for name, value in fields.items() %}<input type="hidden" name="{{ name }}" value="{{ value }}">{% endfor %}
<button type="submit">Continue</button></form>
<script>document.getElementById('response').submit()</script>"""


def render(title, body_template, tenant_name, **context):
    body = render_template_string(body_template, **context)
    demo_consent = current_app.config["SIM_STATE"].demo_consent
    return render_template_string(_LAYOUT, title=title, body=body, tenant_name=tenant_name,
                                  demo_consent=demo_consent)


def sign_in(tenant_name, **context):
    return render("Sign in", _SIGN_IN, tenant_name, **context)


def picker(tenant_name, **context):
    return render("Pick an account", _PICKER, tenant_name, **context)


def consent(tenant_name, **context):
    return render("Permissions requested", _CONSENT, tenant_name, **context)


def admin_approval(tenant_name, **context):
    return render("Need admin approval", _ADMIN_APPROVAL, tenant_name, **context)


def admin_consent(tenant_name, **context):
    return render("Permissions requested for your organisation", _ADMIN_CONSENT, tenant_name, **context)


def signed_out(tenant_name):
    return render("You signed out of your account", "<p>It's a good idea to close all browser windows.</p>",
                  tenant_name)


def home(tenant_name, base_url):
    body = """<p>This server simulates the Microsoft identity platform and Microsoft Graph for rostersync.</p>
<ul><li>Authority: <code>{{ base }}/organizations</code></li><li>Graph: <code>{{ base }}/v1.0</code></li>
<li>Control API: <code>{{ base }}/_simulator/stats</code></li></ul>"""
    return render("Microsoft simulator", body, tenant_name, base=base_url)


def error(tenant_name, message):
    return render("Sign in", _ERROR, tenant_name, message=message)


def form_post(tenant_name, redirect_uri, fields):
    return render("Working...", _FORM_POST, tenant_name, redirect_uri=redirect_uri, fields=fields)
