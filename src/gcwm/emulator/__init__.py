"""An emulator of the part of the Genesys Cloud Platform API v2 that gcwm uses.

It stands in for the cloud, so it imports nothing from the rest of gcwm. It follows
shared/genesys/README.md and the official SDK's models (api-subset.json, copied into this package
and read with importlib.resources). `/emulator/*` is its own admin API (faults, tokens, stats,
reset), which Genesys does not have.

Emulator choices (where the README says "unconfirmed" or says nothing):

- OAuth: `POST /oauth/token` is served on the API's own origin. Wrong client credentials answer
  401 `{"error": "invalid_client", "description": ...}`; a grant other than client_credentials
  answers 400 `unsupported_grant_type`. Id and secret are also accepted as form fields.
  `expires_in` is exactly `token_ttl_s`. The login is neither rate-limited nor randomly faulted
  (targeted fault rules can still hit it).
- An expired token gets 401 `credentials.expired`; an unknown one `bad.credentials`.
- Rate limit: a fixed window per token, starting at its first request; 429 answers do not use
  budget; `Retry-After` is the whole seconds until the window resets, at least 1 and, like
  `inin-ratelimit-reset`, never more than the window. The `inin-ratelimit-*` headers also go on
  answers without a valid token (count 0).
- Random faults: transient errors are 502/503/504 (25/50/25 %); a random 429 starts a burst that
  also hits the token's next 2 requests, with `Retry-After: 1`. A 500 only comes from
  commit-then-fail. Codes: 500 `internal.server.error`, 502 `bad.gateway`, 503
  `service.unavailable`, 504 `gateway.timeout`.
- Lifecycle: a configuration draft is Pending for `config_activation_delay_s` after each write, a
  deployment for `deployment_activation_delay_s` after create and each PUT; published versions
  are Active. DELETE answers 204 and the object reads back `Deleting` for `deletion_delay_s`,
  then 404; a second DELETE while Deleting is 204 again; writes to a Deleting object are 404.
  Objects being deleted do not count toward the limits. The read-after-write 404 window applies
  to GETs by id only, not to listings.
- Deleting a configuration that a deployment (not Deleting) uses is 409 `conflict`.
- Duplicate names are allowed for configurations and deployments.
- Deployments: `name`, `configuration.id`, `configuration.version` and `flow.id` are required; the
  version must be a published one (not DRAFT); the flow a published INBOUNDSHORTMESSAGE flow;
  reference problems are 400 naming the field. `allowAllDomains` false or absent with no
  domains is 400. Domains must be bare host names (no scheme, path or port; a leading `*.` is
  accepted) and at most 50: both rules are the emulator's own invention.
- Configurations: `name` is required; `languages` and `defaultLanguage` when `messenger.enabled`
  is true; `defaultLanguage` must be one of `languages`.
- Bodies: unknown fields, wrong types and values outside an enum are 400 `bad.request` with the
  field paths in `message` and `details[]`; JSON null means "absent"; read-only fields echoed
  back (id, version, status, dates, selfUri, snippet...) are ignored.
- Organisation limits broken on create: 400 `limit.exceeded` with `limit {key, namespace, value}`.
  Limits served: `web.deployments` (`deployments.max`, `configuration.max`, from the config;
  `/defaults` answers the emulator's defaults, 1000 each) and `web.messaging` (README values);
  any other namespace is 404.
- Listings: queues and flows page by number (pageSize 1..500, default 25); web deployment
  listings use an opaque `after`/`before` cursor with `nextUri`/`previousUri` only when such a
  page exists. Their pageSize defaults to 300 (the SDK's documented default) and is capped at 300
  (the emulator's choice: Genesys's maximum is unconfirmed). The configuration listing shows each
  configuration's draft, or with `showOnlyPublished=true` its latest published version. The
  versions listing shows the draft, then "1", "2", ... `expand=configuration` on the deployment
  listing embeds the whole version.
- Snippet: the README's form; the environment for a region host the README does not map is
  `prod-` plus the host's first label.
- Creates answer 200 (not 201).
- Fault rule `commit_then_delay` (its `latency_ms`): the handler runs, so the write is committed
  and journaled, then the answer is held back `latency_ms` before it is sent, as when Genesys made
  the object but its answer is slow to come back. Only writes (POST/PUT/DELETE/PATCH) answered
  2xx are held; a client that disconnects ends the hold early. `GET /emulator/stats` reports
  `heldAnswers` (held right now) and `committedThenHeld` (a running total). The `latency` rule,
  by contrast, waits before the handler, so a client killed meanwhile leaves nothing made; those
  requests are `delayedRequests`. `POST /emulator/faults/held/release` ends every hold and delay
  at once, so a test can keep a write in flight exactly as long as it needs.
- `POST /emulator/deployments/{id}/error` puts a deployment in status `Error` until it is deleted
  (Genesys's reasons for that status are unconfirmed; this only lets a client's handling be tested).
- Fault rule `malformed_answer`: the handler runs (so a write is committed and journaled, as with
  commit-then-fail), then a 2xx answer's body is replaced by an HTML page that is not JSON,
  `<html><body>502 Bad Gateway (upstream sent a page)</body></html>`, with `Content-Type:
  text/html` and the status kept (a 204 becomes a 200, to have a body): what a proxy or gateway
  in front of Genesys can send. It hits reads and writes alike, and the login (`POST /oauth/token`,
  whose token is issued but cannot be read); an answer that is not 2xx is left as it is (the rule
  is still used up).
- State file: a JSON snapshot plus a journal beside it (`<state file>.journal`) that every
  committed write is appended to before its answer; the snapshot is rewritten atomically (temp
  file and rename) when the journal grows as long as the state. No fsync: durable against the
  emulator stopping, not against a power cut.
- Messenger in the browser (a stand-in, not Genesys's code; routes/messenger.py, scripts in
  standin/): so that a page can embed a snippet against the emulator, it serves, outside /api/v2 and
  so without auth, rate limit or faults, `GET /genesys-bootstrap/genesys.min.js` (reads the
  snippet's queued `Genesys` command and its `environment` and `deploymentId`, then inserts one
  script, `/genesys-bootstrap/messenger-ui.js`, from the origin it was itself loaded from, by
  script, so a nonce + 'strict-dynamic' policy allows it), that `messenger-ui.js` (fetches
  config.json, opens the WebSocket, shows `#gcwm-messenger-standin` with `data-state` `loading`,
  `connected` after the socket's hello, `blocked` when the fetch or the socket fails, `failed` when
  config.json answers an error; no eval, no inline handlers, styles through the CSSOM only), both
  `application/javascript` and `Cache-Control: no-store`;
  `GET /webdeployments/v1/deployments/{id}/config.json` (`id` and `version` of the configuration
  version the deployment uses, its `languages` and `defaultLanguage`, `apiEndpoint` = the emulator's
  origin as the request saw it, `messenger.apps.conversations.messagingEndpoint` = the same origin
  as ws:// or wss://, `status` Active when the deployment is Active and Inactive otherwise; 404
  ErrorBody for an unknown deployment; `Access-Control-Allow-Origin: *` on both, since the page
  fetches it cross-origin); and a WebSocket at `/v1?deploymentId=...` that sends one
  `{"type": "hello", "deploymentId", "connected": true}` and stays open, reading and not answering
  what the client sends (an unknown deployment's handshake is refused: HTTP 403). Genesys's real
  messaging protocol is not emulated.
- `EmulatorConfig.self_hosted_messenger` (default off): snippets load the bootstrap from the
  emulator's own origin as each request saw it (scheme://host:port from its Host header) instead of
  `https://apps.{region_host}`, so the "region's hosts" of a site's CSP are the emulator's origin.
  The snippet's `environment` still follows `region_host`.
"""

from __future__ import annotations

from gcwm.emulator.app import create_app
from gcwm.emulator.config import EmulatorConfig, FaultRule
from gcwm.emulator.server import EmbeddedEmulator, serve

__all__ = ["EmbeddedEmulator", "EmulatorConfig", "FaultRule", "create_app", "serve"]
