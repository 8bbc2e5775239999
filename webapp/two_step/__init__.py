"""Two-step verification: an authenticator app (TOTP), passkeys (WebAuthn) and recovery codes,
asked for after a correct password; and the per-school policy "Admins must use two-step
verification". Sign in with Microsoft never asks for it (the school's Microsoft policies
govern that sign-in)."""
