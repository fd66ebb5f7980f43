"""OAuth client credentials and the bearer checks on every API call."""

from __future__ import annotations

from collections.abc import Callable

import httpx

from tests.emulator.harness import Emulator

TOKEN = {"grant_type": "client_credentials"}


def test_client_credentials_grant_issues_a_bearer_token(emulator: Emulator) -> None:
    """Basic auth with the configured id and secret answers access_token, bearer, expires_in."""
    with httpx.Client(base_url=emulator.url) as http:
        response = http.post("/oauth/token", data=TOKEN, auth=("gcwm-local", "gcwm-local-secret"))
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"access_token", "token_type", "expires_in"}
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == 86400
    assert len(body["access_token"]) >= 32


def test_each_login_issues_a_different_token(emulator: Emulator) -> None:
    """Tokens are random opaque strings."""
    assert emulator.token() != emulator.token()


def test_wrong_secret_is_refused_with_an_oauth_error(emulator: Emulator) -> None:
    """Bad credentials answer 401 with an OAuth-style body (error, description), not ErrorBody."""
    with httpx.Client(base_url=emulator.url) as http:
        response = http.post("/oauth/token", data=TOKEN, auth=("gcwm-local", "wrong"))
        no_auth = http.post("/oauth/token", data=TOKEN)
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"
    assert response.json()["description"]
    assert no_auth.status_code == 401


def test_other_grant_types_are_refused(emulator: Emulator) -> None:
    """Only client_credentials is served: anything else is 400 unsupported_grant_type."""
    with httpx.Client(base_url=emulator.url) as http:
        response = http.post(
            "/oauth/token", data={"grant_type": "password"}, auth=("gcwm-local", "gcwm-local-secret")
        )
    assert response.status_code == 400
    assert response.json()["error"] == "unsupported_grant_type"


def test_credentials_may_come_as_form_fields(emulator: Emulator) -> None:
    """client_id and client_secret in the form body are accepted too (RFC 6749)."""
    form = {**TOKEN, "client_id": "gcwm-local", "client_secret": "gcwm-local-secret"}
    with httpx.Client(base_url=emulator.url) as http:
        assert http.post("/oauth/token", data=form).status_code == 200


def test_configured_credentials_and_token_lifetime_are_used(start_emulator: Callable[..., Emulator]) -> None:
    """client_id, client_secret and token_ttl_s come from the config."""
    emu = start_emulator(client_id="other", client_secret="s3cret", token_ttl_s=300)
    with httpx.Client(base_url=emu.url) as http:
        refused = http.post("/oauth/token", data=TOKEN, auth=("gcwm-local", "gcwm-local-secret"))
        accepted = http.post("/oauth/token", data=TOKEN, auth=("other", "s3cret"))
    assert refused.status_code == 401
    assert accepted.json()["expires_in"] == 300


def test_api_call_without_bearer_token_is_authentication_required(emulator: Emulator) -> None:
    """No Authorization header: 401 authentication.required, in an ErrorBody."""
    with httpx.Client(base_url=emulator.url) as http:
        response = http.get("/api/v2/tokens/me")
    assert response.status_code == 401
    body = response.json()
    assert body["code"] == "authentication.required"
    assert body["status"] == 401
    assert body["contextId"] == response.headers["ININ-Correlation-Id"]


def test_unknown_bearer_token_is_bad_credentials(emulator: Emulator) -> None:
    """A token the emulator never issued: 401 bad.credentials."""
    with emulator.client(token="not-a-token") as api:
        response = api.get("/api/v2/tokens/me")
    assert response.status_code == 401
    assert response.json()["code"] == "bad.credentials"


def test_expired_token_is_credentials_expired_until_a_new_login(emulator: Emulator) -> None:
    """POST /emulator/tokens/expire expires every token (401 credentials.expired with Genesys's
    message, [S10]); a new login works again."""
    with emulator.client() as api:
        assert api.get("/api/v2/tokens/me").status_code == 200
        assert emulator.admin("POST", "tokens/expire")["expired"] >= 1
        response = api.get("/api/v2/tokens/me")
    assert response.status_code == 401
    assert response.json()["code"] == "credentials.expired"
    assert response.json()["message"] == "The supplied credentials are expired and cannot be used."
    with emulator.client() as fresh:
        assert fresh.get("/api/v2/tokens/me").status_code == 200


def test_token_info_names_the_org_and_the_oauth_client(emulator: Emulator, api: httpx.Client) -> None:
    """GET /api/v2/tokens/me answers organization, homeOrganization and OAuthClient."""
    body = api.get("/api/v2/tokens/me").json()
    assert body["organization"]["name"] == "gcwm-emulated-org"
    assert body["organization"] == body["homeOrganization"]
    assert body["OAuthClient"]["id"] == emulator.config.client_id


def test_logins_are_counted_in_stats(emulator: Emulator) -> None:
    """Successful logins show in /emulator/stats."""
    emulator.token()
    emulator.token()
    assert emulator.admin("GET", "stats")["logins"] == 2
