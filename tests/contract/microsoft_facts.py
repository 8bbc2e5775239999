"""What Microsoft's documents say the answers look like, as data: the contract both the
simulator's answers and the product's handling are checked against (tests/contract).

Each fact names its document (repository, path, section). Values are placeholders in the
documented shape, not copies of the examples.
"""

# microsoftgraph/microsoft-graph-docs-contrib concepts/errors.md, "Error resource type": one
# object `error` with `code`, `message` and `innerError` holding `request-id` and `date`.
GRAPH_ERROR = {"error": {"code": "Request_ResourceNotFound", "message": "...",
                         "innerError": {"request-id": "00000000-0000-0000-0000-000000000000",
                                        "date": "2026-01-01T00:00:00"}}}
GRAPH_ERROR_KEYS = {"code", "message", "innerError"}
GRAPH_INNER_ERROR_KEYS = {"request-id", "date"}

# MicrosoftDocs/entra-docs docs/identity-platform/reference-error-codes.md, "Handling error
# codes in your application": the token endpoint's error body.
TOKEN_ERROR_KEYS = {"error", "error_description", "error_codes", "timestamp", "trace_id",
                    "correlation_id"}
TOKEN_ERROR = {"error": "invalid_client",
               "error_description": "AADSTS7000222: ... Trace ID: ... Correlation ID: ... "
                                    "Timestamp: 2026-01-01 00:00:00Z",
               "error_codes": [7000222], "timestamp": "2026-01-01 00:00:00Z",
               "trace_id": "00000000-0000-0000-0000-000000000000",
               "correlation_id": "00000000-0000-0000-0000-000000000000"}
# Same document, AADSTS table: the two answers for the platform's own secret.
EXPIRED_SECRET, WRONG_SECRET = 7000222, 7000215
# Same table: AADSTS700016 UnauthorizedClient_DoesNotMatchRequest, "The application wasn't found
# in the directory/tenant" (e.g. the school's tenant deleted its enterprise application).
APP_NOT_IN_TENANT = ("unauthorized_client", 700016)
# Same table: AADSTS7000112 UnauthorizedClientApplicationDisabled, "The application is disabled";
# Entra's troubleshooting article "Error AADSTS7000112 - Application is disabled": "Application
# '<appIdentifier>'(<appName>) disabled", caused by the service principal being disabled in the
# resource tenant, and fixed only by that tenant enabling it again.
APP_DISABLED = ("unauthorized_client", 7000112)

# MicrosoftDocs/entra-docs docs/identity-platform/v2-admin-consent.md, "Successful response"
# and "Error response": admin_consent=True both times; the error has no tenant.
ADMIN_CONSENT_SUCCESS_KEYS = {"admin_consent", "tenant", "scope", "state"}
ADMIN_CONSENT_ERROR_KEYS = {"admin_consent", "error", "error_description", "state"}
ADMIN_CONSENT_ERROR = {"admin_consent": "True", "error": "consent_required",
                       "error_description": "AADSTS65004: The resource owner or authorization "
                                            "server denied the request. Trace ID: ..."}

# microsoftgraph/microsoft-graph-docs-contrib concepts/aad-advanced-queries.md, "Error handling
# for advanced queries on directory objects".
SEARCH_WITHOUT_HEADER = ("Request_UnsupportedQuery",
                         "Request with $search query parameter only works through MSGraph with a "
                         "special request header: 'ConsistencyLevel: eventual'")
COUNT_SEGMENT_WITHOUT_HEADER = ("Request_BadRequest", "$count is not currently supported.")
