"""Every rule of the spec model, one row each, with the exact problem it gives (location, message and
line), the values at each limit, the defaults, and what a spec hashes to (gcwm.spec; issue 25)."""

from __future__ import annotations

from typing import Any

import pydantic
import pytest

from gcwm.errors import SpecError
from gcwm.spec import ChannelSpec, channel_key, line_of, parse_spec, parse_spec_document

BASE = (
    "channels:\n  - name: web\n    routingQueue: Support\n    inboundMessageFlow: Flow\n"
    "    allowedDomains: [example.com]\n"
)
SECRET = "secretEnv: GCWM_ITSM_X"


def _problems(text: str) -> list[tuple[int | None, str, str]]:
    with pytest.raises(SpecError) as caught:
        parse_spec(text, source="s.yaml")
    return [(p.line, p.location, p.problem) for p in caught.value.problems]


def _channel(extra: str) -> ChannelSpec:
    (spec,) = parse_spec(BASE + extra + "\n")
    return spec


@pytest.mark.parametrize(
    ("extra", "location", "problem"),
    [
        ("routingQueue: {id: q, name: Support}", "routingQueue", "give exactly one of id or name"),
        ("inboundMessageFlow: {}", "inboundMessageFlow", "give exactly one of id or name"),
        ("inboundMessageFlow: {name: ' '}", "inboundMessageFlow", "name must not be empty"),
        (
            "messenger: {fileUpload: {enabled: true, fileTypes: [image/png], orgDefaultProfile: true}}",
            "messenger.fileUpload",
            "give fileTypes or orgDefaultProfile, not both",
        ),
        (
            "messenger: {fileUpload: {fileTypes: [image/png, IMAGE/PNG]}}",
            "messenger.fileUpload",
            "fileTypes lists a media type twice",
        ),
        (
            "messenger: {fileUpload: {fileTypes: []}}",
            "messenger.fileUpload.fileTypes",
            "List should have at least 1 item after validation, not 0",
        ),
        (
            "messenger: {fileUpload: {maxFileSizeKB: 0}}",
            "messenger.fileUpload.maxFileSizeKB",
            "Input should be greater than or equal to 1",
        ),
        (
            "messenger: {fileUpload: {maxFileSizeKB: 25601}}",
            "messenger.fileUpload.maxFileSizeKB",
            "Input should be less than or equal to 25600",
        ),
        (
            "messenger: {fileUpload: {fileTypes: [image]}}",
            "messenger.fileUpload.fileTypes[0]",
            "'image' is not a media type like image/png (type/subtype), or a wildcard like image/* or */*",
        ),
        ("messenger: {languages: [en-us, en-us]}", "messenger.languages", "languages lists a language twice"),
        (
            "messenger: {languages: [english]}",
            "messenger.languages[0]",
            "'english' is not a language tag like en-us",
        ),
        (
            "messenger: {languages: []}",
            "messenger.languages",
            "List should have at least 1 item after validation, not 0",
        ),
        (
            "messenger: {defaultLanguage: fr}",
            "messenger.defaultLanguage",
            "defaultLanguage 'fr' is not one of languages ['en-us']",
        ),
        (
            "messenger: {labels: {fr: {MessengerHomeHeaderTitle: x}, de: {MessengerHomeHeaderTitle: y}}}",
            "messenger.labels",
            "labels are given for de, fr, which languages does not list",
        ),
        (
            "messenger: {labels: {en-us: {Bogus: x}}}",
            "messenger.labels.en-us.Bogus",
            "'Bogus': Input should be 'MessengerHomeHeaderTitle', 'MessengerHomeHeaderSubTitle',"
            " 'PushNotificationTitle', 'PushNotificationBody' or 'MessengerLauncherButtonText'",
        ),
        (
            "messenger: {labels: {en-us: {MessengerHomeHeaderTitle: ''}}}",
            "messenger.labels.en-us.MessengerHomeHeaderTitle",
            "String should have at least 1 character",
        ),
        (
            f"messenger: {{labels: {{en-us: {{PushNotificationBody: {'x' * 1001}}}}}}}",
            "messenger.labels.en-us.PushNotificationBody",
            "String should have at most 1000 characters",
        ),
        (
            "messenger: {homeScreen: {logoUrl: ''}}",
            "messenger.homeScreen.logoUrl",
            "String should have at least 1 character",
        ),
        (
            f"messenger: {{bot: {{name: Ava, avatarUrl: 'https://{'x' * 2041}'}}}}",
            "messenger.bot.avatarUrl",
            "String should have at most 2048 characters",
        ),
        ("messenger: {bot: {avatarUrl: 'https://x'}}", "messenger.bot.name", "required key is missing"),
        (
            "messenger: {primaryColor: red}",
            "messenger.primaryColor",
            "'red' is not a hex colour like #FF4F1F",
        ),
        (
            "itsm: {type: jira, url: 'https://x.atlassian.net', secretEnv: X, serviceDeskId: 1}",
            "itsm",
            "a jira target needs serviceDeskId and requestTypeId",
        ),
        (
            "itsm: {type: jira, url: 'https://x.atlassian.net', secretEnv: X, requestTypeId: 1}",
            "itsm",
            "a jira target needs serviceDeskId and requestTypeId",
        ),
        (
            "itsm: {type: webhook, url: 'https://x', secretEnv: X, serviceDeskId: 1}",
            "itsm",
            "serviceDeskId and requestTypeId are for jira targets",
        ),
        (
            "itsm: {type: servicenow, url: 'https://x', secretEnv: X, requestTypeId: 1}",
            "itsm",
            "serviceDeskId and requestTypeId are for jira targets",
        ),
        (
            "itsm: {type: webhook, url: 'https://x', secretEnv: X, table: incident}",
            "itsm",
            "table is for servicenow targets",
        ),
        (
            "itsm: {type: webhook, url: 'https://x', secretEnv: X, auth: basic}",
            "itsm",
            "auth is for servicenow and jira targets (webhooks are signed with the secret)",
        ),
        (
            "itsm:"
            " {type: jira, url: 'https://x', secretEnv: X, auth: oauth, serviceDeskId: 1, requestTypeId: 2}",
            "itsm",
            "jira targets take auth basic or bearer",
        ),
        (
            "itsm: {type: webhook, url: 'https://x'}",
            "itsm",
            "secretEnv must name the variable that holds the secret",
        ),
        (
            "itsm: {type: webhook, url: 'https://x', table: incident}",
            "itsm",
            "table is for servicenow targets; secretEnv must name the variable that holds the secret",
        ),
        (
            "itsm: {type: jira, url: 'https://x', secretEnv: X, serviceDeskId: 0, requestTypeId: 1}",
            "itsm.serviceDeskId",
            "Input should be greater than or equal to 1",
        ),
        (
            "itsm: {type: webhook, url: 'https://x', secretEnv: X, events: [deleted]}",
            "itsm.events[0]",
            "'deleted': Input should be 'provisioned', 'failed', 'removed', 'drifted' or 'checkpoint'",
        ),
        ("maxConcurrentSessions: 0", "maxConcurrentSessions", "Input should be greater than or equal to 1"),
        (
            "maxConcurrentSessions: 100001",
            "maxConcurrentSessions",
            "Input should be less than or equal to 100000",
        ),
        (
            "description: 'see [GCWM channel=x job=y]'",
            "description",
            "must not contain '[gcwm ': gcwm appends that marker itself",
        ),
        ("security: {cspMode: wide}", "security.cspMode", "'wide': Input should be 'narrow' or 'template'"),
        (
            "messenger: {primary_color: '#000000'}",
            "messenger.primary_color",
            "unknown key; did you mean 'primaryColor'?",
        ),
        (
            "messenger: {PrimaryColor: '#000000'}",
            "messenger.PrimaryColor",
            "unknown key; did you mean 'primaryColor'?",
        ),
        (
            "messenger: {primary-color: '#000000'}",
            "messenger.primary-color",
            "unknown key; did you mean 'primaryColor'?",
        ),
        (
            "messenger: {primaryColr: '#000000'}",
            "messenger.primaryColr",
            "unknown key; did you mean 'primaryColor'?",
        ),
        (
            "messenger: {fileUpload: {max_file_size_kb: 1}}",
            "messenger.fileUpload.max_file_size_kb",
            "unknown key; did you mean 'maxFileSizeKB'?",
        ),
        ("messenger: {zzz: 1}", "messenger.zzz", "unknown key (check spelling; keys are camelCase)"),
    ],
)
def test_each_rule_gives_its_problem_at_its_field_and_line(extra: str, location: str, problem: str) -> None:
    """One problem, on the line of the field (line 6: the key the row adds; a key the base has
    already is found on its first line)."""
    line = {"routingQueue": 3, "inboundMessageFlow": 4}.get(location.split(".")[0], 6)
    assert _problems(f"{BASE}    {extra}\n") == [(line, f"channel 'web': {location}", problem)]


@pytest.mark.parametrize(
    "extra",
    [
        "messenger: {fileUpload: {maxFileSizeKB: 1}}",
        "messenger: {fileUpload: {maxFileSizeKB: 25600, fileTypes: [image/png, IMAGE/JPEG]}}",
        "messenger: {languages: [en-us, fr], defaultLanguage: fr,"
        " labels: {fr: {MessengerHomeHeaderSubTitle: s, PushNotificationTitle: t, PushNotificationBody: b,"
        " MessengerLauncherButtonText: l,"
        " MessengerHomeHeaderTitle: h}}}",
        f"messenger: {{labels: {{en-us: {{MessengerHomeHeaderTitle: {'x' * 1000}}}}}}}",
        f"messenger: {{homeScreen: {{enabled: true, logoUrl: 'https://{'x' * 2040}'}}, bot: {{name: A}}}}",
        "maxConcurrentSessions: 1",
        "maxConcurrentSessions: 100000",
        "description: Sales chat",
        "itsm: {type: servicenow, url: 'https://x.service-now.com', secretEnv: GCWM_ITSM_X, auth: oauth,"
        " table: incident}",
        "itsm: {type: jira, url: 'https://x.atlassian.net', secretEnv: GCWM_ITSM_X, auth: bearer,"
        " serviceDeskId: 1, requestTypeId: 1}",
        "itsm: {type: webhook, url: 'https://x', secretEnv: GCWM_ITSM_X,"
        " events: [provisioned, failed, removed, drifted, checkpoint]}",
        "security: {cspMode: template, sanitizeHtml: false}",
    ],
)
def test_values_at_each_limit_are_accepted(extra: str) -> None:
    """The edges the rules above refuse just past."""
    _channel(f"    {extra}")


def test_defaults_are_what_a_minimal_channel_gets() -> None:
    """Messenger on, orange, English; uploads off; no home screen, no bot; narrow CSP, HTML sanitised."""
    spec = _channel("")
    m = spec.messenger
    assert (m.enabled, m.primary_color, m.launcher_visibility, m.headless_mode) == (
        True,
        "#FF4F1F",
        "On",
        False,
    )
    assert (m.languages, m.default_language, m.labels, m.home_screen, m.bot) == (
        ["en-us"],
        "en-us",
        {},
        None,
        None,
    )
    upload = m.file_upload
    assert (upload.enabled, upload.file_types, upload.max_file_size_kb, upload.org_default_profile) == (
        False,
        None,
        10240,
        False,
    )
    assert (spec.security.allow_all_domains, spec.security.csp_mode, spec.security.sanitize_html) == (
        False,
        "narrow",
        True,
    )
    assert (spec.max_concurrent_sessions, spec.description, spec.itsm) == (100, None, None)
    assert (
        _channel("    messenger: {homeScreen: {logoUrl: 'https://x'}}").messenger.home_screen.enabled is False
    )  # type: ignore[union-attr]
    itsm = _channel(f"    itsm: {{type: webhook, url: 'https://x', {SECRET}}}").itsm
    assert itsm is not None and itsm.events == ["provisioned", "failed"]


def test_a_profiles_media_types_are_the_specs_lower_cased_else_messengers_images_and_pdf() -> None:
    """None for the org's default profile."""
    assert _channel("").messenger.file_upload.media_types == [
        "image/jpeg",
        "image/png",
        "image/gif",
        "application/pdf",
    ]
    typed = _channel("    messenger: {fileUpload: {enabled: true, fileTypes: [IMAGE/PNG, text/*]}}")
    assert typed.messenger.file_upload.media_types == ["image/png", "text/*"]
    kept = _channel("    messenger: {fileUpload: {enabled: true, orgDefaultProfile: true}}")
    assert kept.messenger.file_upload.media_types == []


def test_references_are_described_by_id_or_name() -> None:
    """What messages say of a queue or flow."""
    spec = _channel("    routingQueue: {id: q-1}")
    assert spec.routing_queue.describe() == "id q-1"
    assert spec.inbound_message_flow.describe() == "'Flow'"


def test_a_spec_is_a_frozen_value_identified_by_its_name_key_and_hashed_stably() -> None:
    """The hash is kept in the store: the same spec hashes the same on every gcwm."""
    spec = _channel("")
    with pytest.raises(pydantic.ValidationError):
        spec.name = "other"  # type: ignore[misc]
    assert _channel("").key == "web" and channel_key(" Web One ") == "web one"
    assert spec.spec_hash() == "28d3f9c49180356e06e0cdbdd892ade5ea0fd0b16aade99caee3d9c707045b85"
    assert _channel("    maxConcurrentSessions: 101").spec_hash() != spec.spec_hash()
    document = spec.to_document()
    assert document["routingQueue"] == {"id": None, "name": "Support"}
    assert document["messenger"]["fileUpload"]["maxFileSizeKB"] == 10240


def test_both_domain_rules_name_the_channel() -> None:
    """Domains with allow-all, or none without it: on the channel's line."""
    assert _problems(BASE + "    security: {allowAllDomains: true}\n") == [
        (2, "channel 'web'", "allowedDomains must be empty when security.allowAllDomains is true")
    ]
    assert _problems(
        "channels:\n  - name: web\n    routingQueue: Support\n    inboundMessageFlow: Flow\n"
    ) == [
        (2, "channel 'web'", "allowedDomains must list at least one domain (or set security.allowAllDomains)")
    ]


@pytest.mark.parametrize(
    ("text", "problems"),
    [
        ("- a", [(1, "", "expected a mapping with a top-level `channels:` list")]),
        (
            "channels: [",
            [(1, "column 12", "not valid YAML/JSON: expected the node content, but found '<stream end>'")],
        ),
        ("channels: []", [(1, "channels", "List should have at least 1 item after validation, not 0")]),
        (
            "\n\nother: 1",
            [
                (3, "channels", "required key is missing"),
                (3, "other", "unknown key (check spelling; keys are camelCase)"),
            ],
        ),
        (
            "channels:\n  - name: '-web'\n    routingQueue: S\n    inboundMessageFlow: F\n   "
            " allowedDomains: [a.com]\n",
            [
                (
                    2,
                    "channel '-web': name",
                    "'-web' is not a valid name (letters, digits, space, '.', '_', '-'; at most 100"
                    " characters)",
                )
            ],
        ),
    ],
)
def test_a_document_that_is_no_spec_says_so_where_it_can(
    text: str, problems: list[tuple[int, str, str]]
) -> None:
    """Not a mapping, not YAML, no channels, unknown top-level keys."""
    assert _problems(text) == problems


def test_names_of_100_characters_are_accepted_and_101_refused() -> None:
    """The name pattern's limit."""
    _channel("").model_copy()
    (spec,) = parse_spec(BASE.replace("name: web", "name: " + "w" * 100))
    assert spec.name == "w" * 100
    assert _problems(BASE.replace("name: web", "name: " + "w" * 101))[0][2].startswith(
        "'" + "w" * 101 + "' is not a valid name"
    )


def test_problems_come_in_file_order_and_a_duplicate_name_names_both_lines() -> None:
    """Whatever order pydantic found them in; the later name says where the first is."""
    second = (
        "  - name: Web\n    routingQueue: Support\n    inboundMessageFlow: Flow\n"
        "    allowedDomains: [example.com]\n    bogus: 1\n"
    )
    text = (
        BASE.replace(
            "allowedDomains: [example.com]", "allowedDomains: [example.com]\n    maxConcurrentSessions: 0"
        )
        + second
    )
    assert _problems(text) == [
        (6, "channel 'web': maxConcurrentSessions", "Input should be greater than or equal to 1"),
        (
            7,
            "channel 'Web': name",
            "the name 'Web' is given twice: also at line 2 (as 'web'); channel names compare"
            " case-insensitively, and each channel needs its own",
        ),
        (11, "channel 'Web': bogus", "unknown key (check spelling; keys are camelCase)"),
    ]


def _document_problems(data: Any) -> list[tuple[int | None, str, str]]:
    with pytest.raises(SpecError) as caught:
        parse_spec_document(data)
    return [(p.line, p.location, p.problem) for p in caught.value.problems]


def test_a_parsed_document_has_no_lines_and_names_channels_it_cannot_name_by_index() -> None:
    """The API's JSON body: a duplicate names the first by its index; a channel without a readable
    name is `channels[i]`."""
    channel = {"name": "web", "routingQueue": "S", "inboundMessageFlow": "F", "allowedDomains": ["a.com"]}
    assert _document_problems({"channels": [channel, {**channel, "name": "WEB"}]}) == [
        (
            None,
            "channel 'WEB': name",
            "the name 'WEB' is given twice: also at channels[0] (as 'web'); channel names compare"
            " case-insensitively, and each channel needs its own",
        )
    ]
    assert _document_problems({"channels": [{"routingQueue": "S"}]}) == [
        (None, "channels[0]: name", "required key is missing"),
        (None, "channels[0]: inboundMessageFlow", "required key is missing"),
    ]
    assert _document_problems({"channels": [{**channel, "name": " "}]})[0][1] == "channels[0]: name"
    assert _document_problems({"channels": "web"}) == [(None, "channels", "Input should be a valid list")]
    assert _document_problems([channel]) == [
        (None, "", "expected a mapping with a top-level `channels:` list")
    ]


def test_the_line_of_a_field_is_its_keys_or_the_nearest_enclosing_one() -> None:
    """Through lists and mappings; a key not there is its mapping's line; text that is not YAML: None."""
    text = BASE + "    itsm: {type: webhook,\n      url: 'https://x'}\n"
    assert line_of(text, ["channels", 0, "itsm", "url"]) == 7
    assert line_of(text, ["channels", 0, "itsm", "secretEnv"]) == 6
    assert line_of(text, ["channels", 0]) == 2
    assert line_of(text, ["channels", 5, "name"]) == 1
    assert line_of(text, []) == 1
    assert line_of("channels: [", ["channels"]) is None


def test_values_that_pass_their_checks_are_kept_as_written() -> None:
    """A field whose value a rule checks (the default language, labels, the description) holds that
    value after parsing: the rule vets it and hands it back unchanged."""
    spec = _channel(
        "    description: Sales chat\n"
        "    messenger:\n"
        "      languages: [en-us, fr]\n"
        "      defaultLanguage: fr\n"
        "      labels: {fr: {MessengerHomeHeaderTitle: Bonjour}}"
    )
    assert spec.description == "Sales chat"
    assert spec.messenger.default_language == "fr"
    assert spec.messenger.labels == {"fr": {"MessengerHomeHeaderTitle": "Bonjour"}}
