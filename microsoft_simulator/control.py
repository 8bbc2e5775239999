"""Python client for the simulator's control API (used by tests and benchmarks)."""
import urllib.parse

import requests


class SimulatorControl:
    def __init__(self, base_url, ca_path, timeout=30):
        self.base_url = base_url.rstrip("/")
        self.session = requests.Session()
        # Passed per request: requests lets REQUESTS_CA_BUNDLE override Session.verify.
        self.verify = str(ca_path)
        self.timeout = timeout

    def _post(self, path, payload=None):
        response = self.session.post(f"{self.base_url}/_simulator{path}", json=payload or {},
                                     timeout=self.timeout, verify=self.verify)
        response.raise_for_status()
        return response.json()

    def _get(self, path):
        response = self.session.get(f"{self.base_url}/_simulator{path}", timeout=self.timeout,
                                    verify=self.verify)
        response.raise_for_status()
        return response.json()

    @staticmethod
    def _key(user_principal_name_or_id):
        return urllib.parse.quote(user_principal_name_or_id, safe="")

    def reset(self, users=None, groups=None, team_size=None):
        """Rebuild the demo tenant (plus N generated users in "Generated Team" groups of
        team_size, 2,500 unless given, plus N extra groups); forgets tokens, consent and faults."""
        return self._post("/reset", {"users": users, "groups": groups, "team_size": team_size})

    def set_faults(self, latency_ms=0, jitter_ms=0, throttle_count=0, retry_after="2.128",
                   error_status=None, error_count=0, drop_connection_count=0, fail_on_page=None,
                   fail_status=500, fail_count=1, include_token_endpoint=False,
                   delete_group_id=None, delete_group_after_page=None):
        """Replace all faults. retry_after=None sends no Retry-After header. Counts apply to the next N Graph requests (and the token
        endpoint too when include_token_endpoint=True); latency applies until cleared.
        delete_group_id + delete_group_after_page=N: that group is deleted once its uncast
        member list has served page N, so its next page answers 404 as Graph does for a deleted group."""
        return self._post("/faults", dict(
            latency_ms=latency_ms, jitter_ms=jitter_ms, throttle_count=throttle_count,
            retry_after=None if retry_after is None else str(retry_after), error_status=error_status, error_count=error_count,
            drop_connection_count=drop_connection_count, fail_on_page=fail_on_page,
            fail_status=fail_status, fail_count=fail_count, include_token_endpoint=include_token_endpoint,
            delete_group_id=delete_group_id, delete_group_after_page=delete_group_after_page))

    def clear_faults(self):
        return self._post("/faults/clear")

    def faults(self):
        return self._get("/faults")

    def revoke_refresh_tokens(self, user_principal_name_or_id):
        return self._post(f"/users/{self._key(user_principal_name_or_id)}/revoke-refresh-tokens")["revoked"]

    def expire_refresh_tokens(self, user_principal_name_or_id=None):
        return self._post("/refresh-tokens/expire", {"user": user_principal_name_or_id})["expired"]

    def create_group(self, display_name, kind="security", members=(), group_id=None):
        """A new group (kind: security, mail-security, distribution, unified) with these direct
        members (users or groups); returns its id."""
        return self._post("/groups", {"displayName": display_name, "kind": kind,
                                      "members": list(members), "id": group_id})["id"]

    def delete_group(self, group_id):
        return self._post(f"/groups/{group_id}/delete")

    def add_member(self, group_id, object_id):
        return self._post(f"/groups/{group_id}/members/add", {"object_id": object_id})["changed"]

    def remove_member(self, group_id, object_id):
        return self._post(f"/groups/{group_id}/members/remove", {"object_id": object_id})["changed"]

    def update_user(self, user_id, **fields):
        """Graph fields (displayName, userType, mail, ...), and admin / roles (directory roles)."""
        return self._post(f"/users/{self._key(user_id)}/update", fields)

    def delete_user(self, user_id):
        return self._post(f"/users/{self._key(user_id)}/delete")

    def create_user(self, **fields):
        """Fields: userPrincipalName (required), displayName, mail, ..., password, admin (a Global
        Administrator), roles (other Entra directory roles by name). Returns the id."""
        return self._post("/users", fields)["id"]

    def set_tenant(self, admin_consent_required=None, token_lifetime=None, delta_token_ttl=None,
                   revoke_admin_consent=False, forget_user_consent=False, redirect_uris=(),
                   index_lag_seconds=None, users_can_read_other_users=None, guest_access=None,
                   remove_app=False, app_enabled=None):
        """Tenant settings; see TenantSettings in state.py for what each one means.
        remove_app=True: the tenant's admin deletes the demo app's enterprise application, so
        its consents go and the token endpoint answers unauthorized_client AADSTS700016 until
        someone consents again. app_enabled=False: the tenant's admin disables the app's
        enterprise application, and the token endpoint and the sign-in page answer
        unauthorized_client AADSTS7000112 until app_enabled=True (consent does not enable it)."""
        payload = {k: v for k, v in dict(
            admin_consent_required=admin_consent_required, token_lifetime=token_lifetime,
            delta_token_ttl=delta_token_ttl, index_lag_seconds=index_lag_seconds,
            users_can_read_other_users=users_can_read_other_users,
            guest_access=guest_access, app_enabled=app_enabled).items() if v is not None}
        payload.update(revoke_admin_consent=revoke_admin_consent, forget_user_consent=forget_user_consent,
                       redirect_uris=list(redirect_uris), remove_app=remove_app)
        return self._post("/tenant", payload)

    def set_client(self, secret_expired=None):
        """The demo app registration: secret_expired=True makes Entra refuse its secret
        (invalid_client, AADSTS7000222)."""
        return self._post("/client", {} if secret_expired is None else {"secret_expired": secret_expired})

    def expire_delta_tokens(self):
        return self._post("/delta-tokens/expire")

    def request_log(self):
        """Recent Graph requests, oldest first: method, path (with query), query, headers, status, ms."""
        return self._get("/requests")["requests"]

    def clear_request_log(self):
        return self._post("/requests/clear")

    def stats(self):
        return self._get("/stats")
