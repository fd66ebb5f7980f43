"""Keys and roles over real HTTP: no key or a revoked one is 401, a role too low is 403."""

from __future__ import annotations

import json

from tests.api.flows import assert_problem, document
from tests.support.service import RunningService


def test_a_request_without_a_key_is_401_with_a_bearer_challenge(service: RunningService) -> None:
    """Every /v1 route needs a key; the answer says how to send one."""
    with service.client(role=None) as http:
        answer = http.get("/v1/jobs")
        bad_scheme = http.get("/v1/jobs", headers={"Authorization": "Basic dXNlcjpwYXNz"})
    assert_problem(answer, 401)
    assert answer.headers["www-authenticate"].startswith("Bearer")
    assert_problem(bad_scheme, 401)


def test_an_unknown_or_revoked_key_is_401(service: RunningService) -> None:
    """A key works until `gcwm keys revoke`, then is refused at once."""
    token = service.create_key("viewer", "short-lived")
    headers = {"Authorization": f"Bearer {token}"}
    with service.client(role=None) as http:
        assert http.get("/v1/jobs", headers=headers).status_code == 200
        key_id = next(k["id"] for k in service.list_keys() if k["name"] == "short-lived")
        revoked = service.gcwm("keys", "revoke", key_id)
        assert revoked.returncode == 0, revoked.stderr
        after = http.get("/v1/jobs", headers=headers)
        unknown = http.get("/v1/jobs", headers={"Authorization": "Bearer gcwm_not-a-key"})
    assert_problem(after, 401)
    assert_problem(unknown, 401)
    assert token not in after.text


def test_a_viewer_reads_but_may_not_submit(service: RunningService) -> None:
    """viewer < operator: reading is allowed, submitting is 403 and queues nothing."""
    with service.client("viewer") as http:
        assert http.get("/v1/channels").status_code == 200
        refused = http.post("/v1/channels", json=document("viewer-tries"))
        jobs = http.get("/v1/jobs").json()["jobs"]
    body = assert_problem(refused, 403)
    assert body["required"] == "operator"
    assert jobs == []


def test_an_operator_may_not_delete_a_channel(service: RunningService) -> None:
    """operator < admin: DELETE /v1/channels/{name} is 403, whether or not the channel exists."""
    with service.client("operator") as http:
        refused = http.delete("/v1/channels/anything")
    assert assert_problem(refused, 403)["required"] == "admin"


def test_an_admin_lists_and_revokes_keys_an_operator_may_not(service: RunningService) -> None:
    """Keys are managed by admins: the list never shows a key, a revocation over HTTP takes effect at
    once and is audited with the admin's key id as the actor."""
    with service.client("operator") as http:
        assert assert_problem(http.get("/v1/keys"), 403)["required"] == "admin"
        assert_problem(http.post(f"/v1/keys/{service.key_id('viewer')}/revoke"), 403)
    viewer_id = service.key_id("viewer")
    with service.client("admin") as http:
        listed = http.get("/v1/keys")
        assert listed.status_code == 200
        assert {k["name"] for k in listed.json()["keys"]} == {"test-viewer", "test-operator", "test-admin"}
        assert not any(token in listed.text for token in service.keys.values())
        revoked = http.post(f"/v1/keys/{viewer_id}/revoke")
        assert revoked.status_code == 200 and revoked.json()["revokedAt"]
        assert_problem(http.post("/v1/keys/0000000000/revoke"), 404)
    with service.client("viewer") as http:
        assert_problem(http.get("/v1/jobs"), 401)
    shown = service.gcwm("audit", "show", "--output", "json")
    assert shown.returncode == 0, shown.stderr
    (entry,) = [e for e in json.loads(shown.stdout)["entries"] if e["action"] == "apikey.revoked"]
    assert entry["actor"] == service.key_id("admin")
    assert entry["summary"] == {"principal": viewer_id, "name": "test-viewer", "role": "viewer"}
