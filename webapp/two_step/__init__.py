"""Two-step verification: an authenticator app (TOTP), passkeys (WebAuthn) and recovery codes,
asked for after a correct password; and the per-school policy "Admins must use two-step
verification". Sign in with Microsoft asks for it only with a Microsoft account that is not of
the school's own tenant (webapp.two_step.policy.two_step_protects): the school's Microsoft
policies govern the others."""
