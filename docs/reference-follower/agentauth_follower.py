#!/usr/bin/env python3
"""AgentAuth reference verifier: follows the revocation feed and verifies credentials.

The protocol is specified in docs/revocation-feed.md; this file is that document in code, kept
small on purpose. Standard library plus PyJWT (with `cryptography`, for EdDSA and ES256).

    from agentauth_follower import Follower, Refused
    follower = Follower("https://auth.example.com", credential=os.environ["AGENTAUTH_CREDENTIAL"])
    follower.start()                      # follows the feed in a background thread
    claims = follower.verify_bearer(tok)  # or follower.verify_api_key(key); raises Refused

Run as a tiny protected resource (what the test suite does):

    AGENTAUTH_CREDENTIAL=sk-agent-… python3 agentauth_follower.py --auth-server URL --port 8081

    GET /check   (Authorization: Bearer … or X-API-Key: …) → 200 {"agent_id": …} | 401 | 503
    GET /status  → {"verifier", "cursor", "fresh", "synced", …}
"""

import argparse
import hashlib
import json
import os
import random
import secrets
import signal
import socket
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import jwt  # PyJWT

PAGE_SIZE = 1000  # the feed's page: a full page means more events wait, poll again at once
LEEWAY = 30  # clock skew allowed on exp, nbf and iat, as the Swift middleware allows
ALGORITHMS = {"EdDSA", "ES256"}
# Header members that would let a token choose its own key or processing (RFC 8725 §3.10).
FORBIDDEN_HEADER_MEMBERS = {"jwk", "jku", "x5u", "x5c", "x5t", "x5t#S256", "crit", "b64", "zip", "enc"}
UNKNOWN_KID_COOL_DOWN = 30  # seconds between JWKS refetches caused by kids nobody announced


class Refused(Exception):
    """A credential not accepted. `status`: 401 (refused) or 503 (cannot tell now)."""

    def __init__(self, reason, status=401):
        super().__init__(reason)
        self.reason = reason
        self.status = status


class DenyList:
    """What the feed revoked: jtis until their token's exp, agent and client watermarks."""

    def __init__(self):
        self.tokens = {}  # jti -> the token's exp (seconds since the epoch)
        self.agents = {}  # agent id -> latest disable time: its tokens with iat <= it are refused
        self.clients = {}  # client id -> latest disable/delete time, the same for its tokens

    def apply(self, event):
        # A known type missing a field raises (a malformed page: the poll fails and is retried);
        # an unknown type is not looked into at all.
        kind, subject = event.get("type"), event.get("subject")
        if kind == "token":
            self.tokens[subject] = event.get("expires_at", float("inf"))
        elif kind == "agent":
            self.agents[subject] = max(self.agents.get(subject, 0), event["at"])
        elif kind == "client":
            self.clients[subject] = max(self.clients.get(subject, 0), event["at"])

    def refuses(self, claims):
        """The token itself or one it was exchanged from is revoked, or an agent of its delegation
        chain (subject and every actor) or its client was disabled at or after its issue."""
        iat = claims["iat"]
        for agent in [claims["sub"], *actors(claims)]:
            if self.agents.get(agent, -1) >= iat:
                return f"agent {agent} disabled"
        if self.clients.get(claims.get("client_id"), -1) >= iat:
            return "client disabled"
        for jti in [claims["jti"], *claims.get("ancestors", [])]:
            if jti in self.tokens:
                return "token revoked" if jti == claims["jti"] else "a token it was exchanged from is revoked"
        return None

    def prune(self, now):
        for jti in [jti for jti, exp in self.tokens.items() if exp < now - LEEWAY]:
            del self.tokens[jti]


def actors(claims):
    """The RFC 8693 `act` chain, current actor first: {"sub": a, "act": {"sub": b, …}} → [a, b, …]."""
    chain, act = [], claims.get("act")
    while isinstance(act, dict):
        chain.append(act["sub"])
        act = act.get("act")
    return chain


class Follower:
    """Follows `GET /oauth/revocations` as a registered verifier and verifies credentials."""

    def __init__(self, auth_server, credential, *, issuer=None, audience="agentauth", name=None,
                 bound_ms=15000, wait=5, token_bound=300, api_key_ttl=5):
        self.base = auth_server.rstrip("/")
        self.credential = credential
        self.issuer = issuer or self.base
        self.audience = audience
        self.verifier_id = "py-" + secrets.token_hex(8)  # new per process start
        self.name = (name or socket.gethostname())[:128]
        self.bound = bound_ms / 1000
        self.wait = wait  # keep it well under the bound: an idle feed answers every `wait` seconds
        self.token_bound = token_bound
        self.api_key_ttl = api_key_ttl
        self.lock = threading.Lock()
        self.deny = DenyList()
        self.cursor = 0
        self.caught_up = False
        self.last_answer = None  # monotonic START of the last answered poll while the list was whole
        self.api_keys = {}  # sha256(key) -> (identity, valid until, monotonic)
        self.evictions = 0  # a result fetched before an eviction is not cached after it
        self.keys = {}  # kid -> PyJWK
        self.retired = {}  # kid -> when it leaves the JWKS (seconds since the epoch): stop trusting then
        self.keys_wanted = True  # an announced key or a reset: fetch the JWKS after the poll
        self.last_unknown_kid_fetch = None
        self.last_prune = 0
        self.resets = 0

    # The feed ---------------------------------------------------------------------------------

    def start(self):
        threading.Thread(target=self.run, name="agentauth-feed", daemon=True).start()

    def run(self):
        failures = 0
        while True:
            try:
                self.poll_once()
                failures = 0
            except Exception as error:  # noqa: BLE001 - any failed poll: back off and retry
                failures += 1
                delay = getattr(error, "retry_after", None) or min(0.1 * 2 ** min(failures - 1, 4), 1) * random.uniform(0.5, 1.5)
                time.sleep(delay)

    def leave(self):
        """Tells the server this verifier stops, so revocations stop waiting for it (best effort)."""
        query = {"after": self.cursor, "wait": 0, "verifier": self.verifier_id, "leaving": "true"}
        try:
            self._request("GET", "/oauth/revocations?" + urllib.parse.urlencode(query), timeout=1)
        except Exception:  # noqa: BLE001 - shutting down either way
            pass

    def poll_once(self):
        with self.lock:
            wait = self.wait if self.caught_up else 0
            query = {"after": self.cursor, "wait": wait, "verifier": self.verifier_id,
                     "verifier_name": self.name, "bound_ms": int(self.bound * 1000)}
        started = time.monotonic()
        answer = self._request("GET", "/oauth/revocations?" + urllib.parse.urlencode(query), timeout=wait + 10)
        with self.lock:
            if answer["reset"]:
                # The cursor is older than what the server keeps: forget everything, start from 0,
                # and trust nothing until the list is whole again.
                self.deny, self.cursor, self.caught_up, self.last_answer = DenyList(), 0, False, None
                self.resets += 1
                self.api_keys.clear()
                self.evictions += 1
                self.keys_wanted = True  # keys may have rotated meanwhile
            else:
                for event in answer["events"]:
                    self.keys_wanted |= self._apply(event)
                # Unknown event types were skipped above; the cursor moves past them all the same.
                # The next poll's `after` acknowledges every event up to it: applied before asking.
                self.cursor = max(self.cursor, answer["cursor"])
                self.caught_up = len(answer["events"]) < PAGE_SIZE
                if self.caught_up or self.last_answer is not None:
                    self.last_answer = started
            if time.time() - self.last_prune > 60:
                self.deny.prune(time.time())
                self.last_prune = time.time()
            wanted = self.keys_wanted
        if wanted:
            self.fetch_keys()  # on failure the poll fails: retried after the back-off

    def _apply(self, event):
        """Applies one event (under the lock); True when the JWKS must be fetched."""
        kind, subject = event.get("type"), event.get("subject")
        self.deny.apply(event)
        if kind == "api_key":  # revoked, rolled (its expiry moved to the grace's end) or edited
            self._evict(lambda identity: identity["key_id"] == subject)
        elif kind == "agent":
            self._evict(lambda identity: identity["agent_id"] == subject)
        elif kind == "signing_key":
            if "expires_at" in event:
                self.retired[subject] = event["expires_at"]
            else:
                return subject not in self.keys  # a new key: fetch it before its tokens arrive
        # "token" and "client" live in the deny-list. "limits" and "quota" matter to a verifier that
        # enforces rate limits and quotas (with GET /oauth/limits), which this one does not. Any
        # other type is a newer server's, and is skipped.
        return False

    def _evict(self, matches):
        self.evictions += 1
        for digest in [d for d, (identity, _) in self.api_keys.items() if matches(identity)]:
            del self.api_keys[digest]

    def is_fresh(self):
        """Whether the feed answered within the bound: cached API-key results may be trusted."""
        with self.lock:
            return self.last_answer is not None and time.monotonic() - self.last_answer < self.bound

    def status(self):
        with self.lock:
            since = None if self.last_answer is None else time.monotonic() - self.last_answer
            return {"verifier": self.verifier_id, "name": self.name, "cursor": self.cursor,
                    "synced": since is not None, "fresh": since is not None and since < self.bound,
                    "since_last_answer_ms": None if since is None else int(since * 1000),
                    "revoked_tokens": len(self.deny.tokens), "resets": self.resets}

    # Signing keys -----------------------------------------------------------------------------

    def fetch_keys(self):
        metadata = self._request("GET", "/.well-known/oauth-authorization-server", auth=False)
        jwks = self._request_url(metadata["jwks_uri"], auth=False)
        keys = {}
        for jwk in jwks["keys"]:
            try:
                keys[jwk["kid"]] = jwt.PyJWK(jwk)
            except jwt.PyJWTError:
                continue  # a key type this PyJWT can't use
        with self.lock:
            self.keys, self.keys_wanted = keys, False
            self.retired = {kid: end for kid, end in self.retired.items() if kid in keys or end > time.time()}

    def _key(self, kid):
        with self.lock:
            key = self.keys.get(kid)
            retired_at = self.retired.get(kid)
            cool = self.last_unknown_kid_fetch and time.monotonic() - self.last_unknown_kid_fetch < UNKNOWN_KID_COOL_DOWN
        if retired_at is not None and retired_at <= time.time():
            return None
        if key is None and not cool:
            # A kid nobody announced: one refetch per cool-down, so forged kids can't flood the server.
            with self.lock:
                self.last_unknown_kid_fetch = time.monotonic()
            self.fetch_keys()
            with self.lock:
                key = self.keys.get(kid)
        return key

    # Verification -----------------------------------------------------------------------------

    def verify_bearer(self, token):
        """The token's claims, or Refused. RFC 9068: typ at+jwt, an allowed alg equal to the key's,
        signature, iss, aud, exp/nbf/iat with leeway; then the deny-list."""
        with self.lock:
            last = self.last_answer
        if last is None or time.monotonic() - last >= self.token_bound:
            raise Refused("the revocation feed is not synced", status=503)
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            raise Refused("malformed token") from None
        alg, typ, kid = header.get("alg"), str(header.get("typ", "")).lower(), header.get("kid")
        if alg not in ALGORITHMS or typ not in ("at+jwt", "application/at+jwt"):
            raise Refused("algorithm or typ not allowed")
        if FORBIDDEN_HEADER_MEMBERS & header.keys() or not isinstance(kid, str) or not kid:
            raise Refused("bad header")
        try:
            key = self._key(kid)
        except (OSError, ValueError, KeyError):
            raise Refused("signing keys unavailable", status=503) from None
        if key is None:
            raise Refused("unknown key")
        if key.algorithm_name != alg:
            raise Refused("algorithm does not match the key")
        try:
            claims = jwt.decode(token, key.key, algorithms=[alg], audience=self.audience, issuer=self.issuer,
                                leeway=LEEWAY, options={"require": ["exp", "iat", "sub", "jti", "client_id"]})
        except jwt.PyJWTError as error:
            raise Refused(f"invalid token: {error}") from None
        with self.lock:
            reason = self.deny.refuses(claims)
        if reason:
            raise Refused(reason)
        return claims

    def verify_api_key(self, key):
        """The key's identity {agent_id, key_id, scope, exp, cached}, or Refused. Introspected at the auth
        server; a positive answer is cached briefly, only while the feed is fresh (the feed evicts it)."""
        digest = hashlib.sha256(key.encode()).hexdigest()
        fresh = self.is_fresh()
        with self.lock:
            cached = self.api_keys.get(digest)
            generation = self.evictions
        if fresh and cached and cached[1] > time.monotonic():
            identity = dict(cached[0], cached=True)
        else:
            try:
                answer = self._request("POST", "/oauth/introspect", form={"token": key})
            except (OSError, ValueError):
                raise Refused("the auth server cannot answer", status=503) from None
            if not answer.get("active") or "key_id" not in answer:
                raise Refused("inactive API key")
            identity = {"agent_id": answer["sub"], "key_id": answer["key_id"], "scope": answer.get("scope", ""),
                        "exp": answer.get("exp"), "cached": False}
            lifetime = self.api_key_ttl
            if identity["exp"] is not None:
                lifetime = min(lifetime, identity["exp"] - time.time())
            with self.lock:
                # Not when an event evicted meanwhile: this answer may predate the revocation.
                if fresh and lifetime > 0 and self.evictions == generation:
                    self.api_keys[digest] = (identity, time.monotonic() + lifetime)
        return identity

    # HTTP -------------------------------------------------------------------------------------

    def _request(self, method, path, form=None, timeout=10, auth=True):
        return self._request_url(self.base + path, method, form, timeout, auth)

    def _request_url(self, url, method="GET", form=None, timeout=10, auth=True):
        data = urllib.parse.urlencode(form).encode() if form is not None else None
        request = urllib.request.Request(url, data=data, method=method)
        if auth:
            if self.credential.startswith("sk-agent-"):
                request.add_header("X-API-Key", self.credential)
            else:  # an access token of scope introspect
                request.add_header("Authorization", "Bearer " + self.credential)
        if data is not None:
            request.add_header("Content-Type", "application/x-www-form-urlencoded")
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                return json.load(response)
        except urllib.error.HTTPError as error:
            if error.code == 429:  # too many waiting polls on this credential
                error.retry_after = float(error.headers.get("Retry-After", "1"))
            raise


def serve(follower, port):
    """A protected resource of one route, to try the follower (and to test it)."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - http.server's naming
            if self.path == "/status":
                return self._answer(200, follower.status())
            if self.path != "/check":
                return self._answer(404, {"error": "not_found"})
            authorization, api_key = self.headers.get("Authorization", ""), self.headers.get("X-API-Key")
            try:
                if authorization.startswith("Bearer ") and api_key is None:
                    claims = follower.verify_bearer(authorization[len("Bearer "):])
                    self._answer(200, {"credential": "bearer", "agent_id": claims["sub"], "jti": claims["jti"]})
                elif api_key and not authorization:
                    identity = follower.verify_api_key(api_key)
                    self._answer(200, {"credential": "api_key", "agent_id": identity["agent_id"], "key_id": identity["key_id"],
                                       "cached": identity["cached"]})
                else:
                    raise Refused("send one credential")
            except Refused as refusal:
                error = "invalid_token" if refusal.status == 401 else "temporarily_unavailable"
                self._answer(refusal.status, {"error": error, "reason": refusal.reason})

        def _answer(self, status, body):
            payload = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    print(f"agentauth-follower listening on 127.0.0.1:{server.server_port} as verifier {follower.verifier_id}", flush=True)
    server.serve_forever()


def main():
    parser = argparse.ArgumentParser(description="AgentAuth reference verifier (docs/revocation-feed.md)")
    parser.add_argument("--auth-server", required=True, help="the auth server's base URL")
    parser.add_argument("--issuer", help="the tokens' iss (default: the auth server's URL)")
    parser.add_argument("--audience", default="agentauth", help="the aud this resource accepts")
    parser.add_argument("--name", help="verifier_name (default: the host name)")
    parser.add_argument("--bound-ms", type=int, default=15000, help="bound_ms: trust cached results this long without a feed answer")
    parser.add_argument("--wait", type=int, default=5, help="long-poll wait in seconds")
    parser.add_argument("--api-key-ttl", type=float, default=5, help="seconds a positive API-key introspection is cached")
    parser.add_argument("--port", type=int, default=8081)
    arguments = parser.parse_args()
    credential = os.environ.get("AGENTAUTH_CREDENTIAL")
    if not credential:  # from the environment: a secret on the command line shows in `ps`
        parser.error("set AGENTAUTH_CREDENTIAL to an API key (or access token) of scope introspect")
    follower = Follower(arguments.auth_server, credential, issuer=arguments.issuer, audience=arguments.audience,
                        name=arguments.name, bound_ms=arguments.bound_ms, wait=arguments.wait,
                        api_key_ttl=arguments.api_key_ttl)
    signal.signal(signal.SIGTERM, lambda *_: (follower.leave(), os._exit(0)))
    follower.start()  # fetches the JWKS after its first poll
    serve(follower, arguments.port)


if __name__ == "__main__":
    main()
