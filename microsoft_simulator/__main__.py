"""CLI: python -m microsoft_simulator [--port 8443] [--state-dir DIR] [--users N] [--groups N] ..."""
import argparse
import logging
import signal
import ssl
import sys
from pathlib import Path

from werkzeug.serving import make_server

from . import demo
from .app import create_app
from .certs import SIGNING_KEY_FILE, ensure_certificates, load_or_create_key
from .state import SimState
from .tokens import Signer


class LazyHandshakeContext(ssl.SSLContext):
    """Do the TLS handshake in the worker thread, not in the accept loop,
    so one slow or silent client cannot stall every other connection."""

    def wrap_socket(self, sock, server_side=False, do_handshake_on_connect=True, *args, **kwargs):
        return super().wrap_socket(sock, server_side, False, *args, **kwargs)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(prog="python -m microsoft_simulator",
                                     description="Microsoft Entra ID + Graph simulator for rostersync")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8443, help="0 picks a free port")
    parser.add_argument("--state-dir", default="instance/microsoft-simulator/")
    parser.add_argument("--users", type=int, default=None, help="generate N users under 'Generated Staff'")
    parser.add_argument("--groups", type=int, default=None,
                        help="generate N extra groups of every kind (for the group picker)")
    parser.add_argument("--latency-ms", type=int, default=0, help="sleep before every Graph request")
    parser.add_argument("--token-lifetime", type=int, default=3599, help="expires_in of access tokens")
    parser.add_argument("--no-admin-consent-required", dest="admin_consent_required",
                        action="store_false",
                        help="let ordinary users consent to User.Read.All and GroupMember.Read.All "
                             "(Entra never does; the default requires an administrator's approval)")
    parser.add_argument("--demo-consent", action="store_true",
                        help="demo mode: the demo tenant's administrator has already approved the "
                             "demo app (the pages say so)")
    parser.add_argument("--redirect-uri", action="append", default=[],
                        help="extra registered redirect URI (localhost ones are always accepted)")
    return parser.parse_args(argv)


def environment(base_url, ca_path):
    return {
        "MICROSOFT_AUTHORITY": f"{base_url}/organizations",
        "MICROSOFT_GRAPH_URL": f"{base_url}/v1.0",
        "MICROSOFT_CLIENT_ID": demo.CLIENT_ID,
        "MICROSOFT_CLIENT_SECRET": demo.CLIENT_SECRET,
        "REQUESTS_CA_BUNDLE": str(ca_path),
    }


def build_state(args, state_dir):
    signer = Signer(load_or_create_key(state_dir / SIGNING_KEY_FILE))
    state = SimState(signer=signer, users=args.users, groups=args.groups,
                     default_token_lifetime=args.token_lifetime,
                     default_admin_consent_required=args.admin_consent_required,
                     default_latency_ms=args.latency_ms, demo_consent=args.demo_consent)
    state.clients[demo.CLIENT_ID]["redirect_uris"].extend(args.redirect_uri)
    return state


def main(argv=None):
    args = parse_args(argv)
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    state_dir = Path(args.state_dir).resolve()
    ca_path, cert_path, key_path = ensure_certificates(state_dir)
    state = build_state(args, state_dir)
    context = LazyHandshakeContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_path, key_path)
    server = make_server(args.host, args.port, create_app(state), threaded=True, ssl_context=context)
    state.base_url = f"https://localhost:{server.server_port}"
    env = environment(state.base_url, ca_path)
    lines = [f"export {name}={value}" for name, value in env.items()]
    (state_dir / "env.sh").write_text("\n".join(lines) + "\n")
    for line in lines:
        print(line)
    print(f"SIMULATOR READY {state.base_url}", flush=True)

    def stop(signum, frame):
        raise KeyboardInterrupt
    signal.signal(signal.SIGTERM, stop)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
