"""Everything one simulator process knows, shared by all request threads."""
import collections
import threading
import time
from dataclasses import dataclass, field

from . import demo
from .generator import build_tenant
from .tokens import Signer, TokenStore


@dataclass
class TenantSettings:
    """What a tenant's administrators decide; the defaults are Entra's (see CONFORMANCE.md)."""
    # Delegated User.Read.All and GroupMember.Read.All need an administrator's approval.
    admin_consent_required: bool = True
    token_lifetime: int = 3599
    delta_token_ttl: int = 7 * 24 * 3600
    delta_tokens_valid_after: float = 0.0
    # Seconds before a change reaches the index that ConsistencyLevel: eventual reads use.
    index_lag_seconds: float = 0.0
    # authorizationPolicy defaultUserRolePermissions.allowedToReadOtherUsers.
    users_can_read_other_users: bool = True
    # Guest user access: "member" (same as members), "limited" (Entra's default: no listing of
    # all groups or users) or "restricted" (only their own objects).
    guest_access: str = "limited"


@dataclass
class Faults:
    latency_ms: int = 0
    jitter_ms: int = 0
    throttle_count: int = 0
    retry_after: str = "2.128"
    error_status: int | None = None
    error_count: int = 0
    drop_connection_count: int = 0
    fail_on_page: int | None = None
    fail_status: int = 500
    fail_count: int = 1
    include_token_endpoint: bool = False
    # Scripted: this group is deleted right after its member list served page N (once).
    delete_group_id: str | None = None
    delete_group_after_page: int | None = None

    def as_dict(self):
        return dict(self.__dict__)


@dataclass
class SimState:
    signer: Signer
    base_url: str = ""
    users: int | None = None
    groups: int | None = None
    team_size: int | None = None
    default_token_lifetime: int = 3599
    default_admin_consent_required: bool = True
    default_latency_ms: int = 0
    # Demo mode: the demo tenant's administrator has already approved the demo app.
    demo_consent: bool = False
    directory: object = None
    tokens: TokenStore = field(default_factory=TokenStore)
    tenant: TenantSettings = field(default_factory=TenantSettings)
    faults: Faults = field(default_factory=Faults)
    lock: threading.RLock = field(default_factory=threading.RLock)
    request_log: collections.deque = field(default_factory=lambda: collections.deque(maxlen=2000))
    counters: collections.Counter = field(default_factory=collections.Counter)
    transactions: dict = field(default_factory=dict)
    started: float = field(default_factory=time.time)
    clients: dict = field(default_factory=lambda: {
        demo.CLIENT_ID: {"secret": demo.CLIENT_SECRET, "name": demo.CLIENT_NAME, "redirect_uris": [],
                        "secret_expired": False,
                        "permissions": ["User.Read", "User.Read.All", "GroupMember.Read.All"]}})

    def __post_init__(self):
        if self.directory is None:
            self.reset(self.users, self.groups, self.team_size)

    def reset(self, users=None, groups=None, team_size=None):
        """Fresh tenant (+ N generated users in teams of team_size, + N extra groups), tokens,
        settings and faults, as configured on the command line.

        The signing key is kept, so access tokens issued earlier still verify."""
        started = time.perf_counter()
        directory = build_tenant(users, groups, team_size)
        directory.index_lag = lambda: self.tenant.index_lag_seconds
        with self.lock:
            self.users, self.groups, self.directory = users, groups, directory
            self.team_size = team_size
            self.tokens = TokenStore()
            self.tenant = TenantSettings(token_lifetime=self.default_token_lifetime,
                                         admin_consent_required=self.default_admin_consent_required)
            self.faults, self.transactions = Faults(latency_ms=self.default_latency_ms), {}
            for client in self.clients.values():
                client["secret_expired"] = False
            if self.demo_consent:
                self.tokens.grant_tenant_consent(demo.CLIENT_ID, self.clients[demo.CLIENT_ID]["permissions"])
            self.request_log.clear()
            self.counters.clear()
        return time.perf_counter() - started

    def remember_transaction(self, tx, limit=5000):
        """Sign-in transactions live in memory; abandoned ones are dropped oldest first."""
        with self.lock:
            while len(self.transactions) >= limit:
                self.transactions.pop(next(iter(self.transactions)))
            self.transactions[tx["id"]] = tx

    def issuer(self, tenant_id=demo.TENANT_ID):
        return f"{self.base_url}/{tenant_id}/v2.0"

    def is_known_tenant(self, tenant):
        return tenant.lower() in ("organizations", "common", demo.TENANT_ID, demo.TENANT_DOMAIN)
