"""An emulator of the part of the Genesys Cloud Platform API v2 that gcwm uses.

It stands in for the cloud, so it imports nothing from the rest of gcwm. It follows
shared/genesys/README.md (its "Corrections" first) and the official SDK's models: api-subset.json
(an exact copy of the shared file) plus api-supplement.json (the supported content operations and
models, extracted from the same SDK 269.0.0 by tests/emulator/sdk_extract.py) and field_rules.json
(list-item enums and ranges the Python SDK drops, with their sources), all read with
importlib.resources. `/emulator/*` is its own admin API (faults, tokens, stats, reset), which
Genesys does not have.

Emulator choices (where the README says "unconfirmed" or says nothing):

- OAuth: `POST /oauth/token` is served on the API's own origin. Wrong client credentials answer
  401 `{"error": "invalid_client", "description": ...}`; a grant other than client_credentials
  answers 400 `unsupported_grant_type`. Id and secret are also accepted as form fields.
  `expires_in` is exactly `token_ttl_s`. The login is neither rate-limited nor randomly faulted
  (targeted fault rules can still hit it).
- An expired token gets 401 `credentials.expired`, "The supplied credentials are expired and cannot
  be used." ([S10]); an unknown one `bad.credentials`.
- Rate limit: a fixed window per token, starting at its first request; 429 answers do not use
  budget; `Retry-After` is the whole seconds until the window resets, at least 1 and, like
  `inin-ratelimit-reset`, never more than the window. The `inin-ratelimit-*` headers also go on
  answers without a valid token (count 0).
- Random faults: transient errors are 502/503/504 (25/50/25 %); a random 429 starts a burst that
  also hits the token's next 2 requests, with `Retry-After: 1`. A 500 only comes from
  commit-then-fail. Codes: 500 `internal.server.error`, 502 `bad.gateway`, 503
  `service.unavailable`, 504 `request.timeout` (the last two per [S10]).
- `dependency_400s` (config, `--dependency-400s N`, and the `PUT /emulator/faults` knob of the
  same name; reset sets it to 0): Genesys can answer 400 to a write naming an object made seconds
  before, and its provider retries 400s for 30 s (README, Corrections). Each configuration's first
  N `POST .../versions/draft/publish` answer 400 `bad.request` ("Configuration {id} cannot be
  published yet; retry the request", `entityId` the configuration), and the first N
  `POST .../deployments` naming each published version answer 400 `bad.request` ("Version {v} of
  configuration {id} is not yet available to deployments; retry the request"), before anything is
  done; the wording is the emulator's. An unknown configuration is still 404 and a deployment
  naming the DRAFT still the usual 400 (neither is counted). `GET /emulator/stats` counts them as
  `dependency400s`.
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
  `supportedContent.id`, when given, an existing profile (the view shows it as `{id, name,
  selfUri}`); reference problems are 400 naming the field. `allowAllDomains` false or absent with no
  domains is 400. Domains must be bare host names (no scheme, path or port; a leading `*.` is
  accepted) and at most 50: both rules are the emulator's own invention.
- Configurations: `name` is required; `languages` and `defaultLanguage` when `messenger.enabled`
  is true; `defaultLanguage` must be one of `languages`.
- Bodies: unknown fields, wrong types, values outside an enum (also list items, e.g.
  `messenger.fileUpload.modes[0].fileTypes[1]` must be image/jpeg, image/gif or image/png; and
  cobrowse/video `channels[i]`) and numbers outside a range (`maxFileSizeKB` 0..10240) are 400
  `bad.request`, code `invalid.value`, with the field paths in `message` and `details[]`; JSON
  null means "absent"; read-only fields echoed back (id, version, status, dates, selfUri,
  snippet...) are ignored.
- Organisation limits broken on create: 400 `limit.exceeded` with `limit {key, namespace, value}`.
  Limits served: `web.deployments` (`deployments.max`, `configuration.max`, from the config;
  `/defaults` answers the emulator's defaults, 1000 each) and `web.messaging` (README values);
  any other namespace is 404.
- Listings: queues and flows page by number (pageSize 1..500, default 25); web deployment
  listings use an opaque `after`/`before` cursor with `nextUri`/`previousUri` only when such a
  page exists. Their pageSize defaults to 300 (the SDK's documented default) and is capped at 300
  (the emulator's choice: Genesys's maximum is unconfirmed). The configuration listing shows each
  configuration's draft ("View configuration drafts" in every SDK); `showOnlyPublished=true` only
  keeps the configurations with a published version, still as drafts (README, Corrections). The
  versions listing shows the draft, then "1", "2", ...: that is where published versions show.
  `expand=configuration` on the deployment listing embeds the whole version.
- Snippet: the README's form; the environment for a region host the README does not map is
  `prod-` plus the host's first label.
- Creates answer 200 (not 201).
- Supported content profiles (`/api/v2/conversations/messaging/supportedcontent`, profiles.py):
  GET list (numbered pages like queues), POST, GET/PATCH/DELETE by id, GET/PUT `/default`. The org
  starts with a default profile ([S15]: all inbound types `*/*`, outbound image/jpeg, image/png,
  image/gif), named "Default" with an id derived from the org id (emulator's choice); reset keeps
  only it, as seeded. `name` is required; each `mediaTypes.allow.{inbound,outbound}[i].type` must be
  `type/subtype`, `type/*` or `*/*` (RFC 6838 name characters; the emulator's check), else 400
  naming it. PATCH changes the fields given and adds 1 to `version` (starts at 1). DELETE is 204
  and immediate; deleting the default, or a profile a deployment (not being deleted) names, is 409
  `conflict` (unconfirmed). PUT `/default` with an unknown id is 400 naming `id`. No count limit.
  The SDK's MediaTypes has `allow` only, so no `block`.
- `server_defaults` (config, `--server-defaults`; off by default; defaults.py): on every
  configuration create and draft PUT the emulator fills, as Genesys does for the provider's
  Computed fields, what the request left out, with values of its own (Genesys publishes none):
  inside a given `messenger`: `enabled` false, `sessionPersistenceType` DomainOrSubdomainOnly,
  `apps.conversations` (made if absent) `enabled` true, `showAgentTypingIndicator` true,
  `showUserTypingIndicator` true, `autoStart`/`markdown`/`conversationClear` `{enabled: false}`;
  `homeScreen.enabled` and `fileUpload.enableAttachments` false when those objects are given;
  inside a given `cobrowse`: `enabled`, `allowAgentControl`, `allowAgentNavigation`, `allowDraw`
  false; inside a given `video`: `enabled` false. It lower-cases `messenger.styles.primaryColor`;
  on deployment create and PUT it lower-cases and sorts `allowedDomains`. Objects the request left
  out are not made up (but `apps.conversations`), and every filled field is one of the models'.
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
- State file (profiles and the default included; a file saved before profiles gets the seeded
  default): a JSON snapshot plus a journal beside it (`<state file>.journal`) that every
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
  `GET /webdeployments/v1/deployments/{id}/config.json` (messenger_config.py: every field
  Genesys's own client requires, DeploymentConfig.kt [S6]: `id` and `version` of the configuration
  version the deployment uses, its `languages` ([] if none) and `defaultLanguage` ("" if none),
  `apiEndpoint` = the emulator's origin as the request saw it, `messenger.enabled`,
  `messenger.apps.conversations.messagingEndpoint` = the same origin as ws:// or wss:// plus the
  conversation settings the client reads, `styles.primaryColor` (#ff4f1f if unset),
  `launcherButton.visibility` (On if unset), `fileUpload.modes` (maxFileSizeKB 10240 if unset) and
  `enableAttachments` (the version's, else true when the deployment names a supported content
  profile, since the client then takes its rules from the session), `journeyEvents.enabled`,
  `auth.enabled`/`allowSessionUpgrade` (from authenticationSettings, else false), `status` Active
  when the deployment is Active and Inactive otherwise; 404 ErrorBody for an unknown deployment;
  `Access-Control-Allow-Origin: *` on both, since the page fetches it cross-origin); and a WebSocket
  at `/v1?deploymentId=...` that sends one `{"type": "hello", "deploymentId", "connected": true,
  "allowedMedia": {"inbound": {"fileTypes": [{type}], "maxFileSizeKB"}}}` (the shape of the
  session answer the transport SDK reads: the inbound types of the deployment's profile, else the
  org default's, and 25600 KB, the 25 MB cap of [S15], or 0 when none is allowed) and stays open,
  reading and not answering what the client sends (an unknown deployment's handshake is refused:
  HTTP 403). Genesys's real messaging protocol is not emulated.
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
