"""Why Microsoft refused the saved sign-in, in words a school admin can act on.

A refused refresh carries Microsoft's AADSTS code (its error_codes); the reason a connection
shows (the banner, Troubleshooting, a failed sync, the reconnect email) says what it means and
who can fix it, not only "invalid_grant". Codes: Microsoft's "Microsoft Entra authentication and
authorization error codes" (learn.microsoft.com/entra/identity-platform/reference-error-codes).
"""

# AADSTS code -> (what happened, anything to know beyond the "Reconnect" every page adds).
MEANINGS = {
    50173: ("its password was changed or reset since it connected", ""),
    50133: ("its password expired or was changed since it connected", ""),
    50076: ("Microsoft now asks it for multi-factor authentication",
            "Complete the multi-factor prompt when you reconnect."),
    50079: ("Microsoft now asks it to register for multi-factor authentication",
            "Complete the registration when you reconnect."),
    70043: ("a Conditional Access sign-in frequency policy ended the saved sign-in",
            "It ends again each time that policy's period is up."),
    700082: ("it was not used for 90 days, so Microsoft let it expire", ""),
    50057: ("the Microsoft account is disabled",
            "Ask your Microsoft administrator to enable it, or connect with another account."),
    65001: ("the consent given to rostersync was withdrawn",
            "An administrator of your tenant may need to approve rostersync again."),
}
# Conditional Access blocking the platform's sign-in: reconnecting from a school computer works
# and the next refresh, from the platform's servers, is blocked again.
CONDITIONAL_ACCESS_CODES = {53000, 53001, 53003}
CONDITIONAL_ACCESS = ("a Conditional Access policy of your tenant blocks rostersync's sign-in "
                      "from the platform's servers",
                      "Reconnecting alone will not help: an administrator of your tenant must "
                      "first exclude the rostersync app from that policy (Microsoft Entra admin "
                      "center › Protection › Conditional Access).")


def refused_sign_in(account, error, codes, summary):
    """The reason for a refused refresh: account, the words for its AADSTS code (Microsoft's own
    short message when the code is not one of these), and the error itself."""
    code = next((c for c in sorted(codes) if c in MEANINGS or c in CONDITIONAL_ACCESS_CODES),
                None)
    meaning = CONDITIONAL_ACCESS if code in CONDITIONAL_ACCESS_CODES else MEANINGS.get(code)
    tag = f"{error}, AADSTS{code}" if code else error
    if meaning is not None:
        return (f"Microsoft no longer accepts the saved sign-in for {account}: {meaning[0]} "
                f"({tag})." + (f" {meaning[1]}" if meaning[1] else ""))
    said = f" Microsoft said: {summary}" if summary else ""
    return f"Microsoft no longer accepts the saved sign-in for {account} ({error}).{said}"
