"""Names of the durable steps of provisioning one channel, in order."""

from __future__ import annotations

DISCOVERED = "discovered"  # what the org already holds for this channel
QUEUE_RESOLVED = "queue_resolved"
FLOW_RESOLVED = "flow_resolved"
CONFIGURATION_CREATE_SENT = "configuration_create_sent"  # intent: a create may have happened
CONFIGURATION_CREATED = "configuration_created"
CONFIGURATION_PUBLISH_SENT = "configuration_publish_sent"  # intent: a publish may have happened
CONFIGURATION_PUBLISHED = "configuration_published"
DEPLOYMENT_CREATE_SENT = "deployment_create_sent"
DEPLOYMENT_CREATED = "deployment_created"
DEPLOYMENT_ACTIVE = "deployment_active"
ROLLED_BACK = "rolled_back"

# The steps a person sees (intent markers are bookkeeping, not progress).
VISIBLE_STEPS = (
    QUEUE_RESOLVED,
    FLOW_RESOLVED,
    CONFIGURATION_CREATED,
    CONFIGURATION_PUBLISHED,
    DEPLOYMENT_CREATED,
    DEPLOYMENT_ACTIVE,
)
