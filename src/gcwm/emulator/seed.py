"""The queues and flows a fresh emulated organisation starts with."""

from __future__ import annotations

import uuid

from gcwm.emulator.entities import Flow, Queue

QUEUE_NAMES = ("Support", "Sales", "Billing", "Technical Support", "Returns", "VIP")
MESSAGE_FLOW = "INBOUNDSHORTMESSAGE"
# Flows that let gcwm's checks fail on purpose: not published, and of the wrong type.
UNPUBLISHED_FLOW = "Draft Messaging Flow"
VOICE_FLOW = "Support Voice Flow"


def seed_queues(now: float) -> list[Queue]:
    return [Queue(str(uuid.uuid4()), name, now, f"{name} queue") for name in QUEUE_NAMES]


def seed_flows(now: float) -> list[Flow]:
    flows = [
        Flow(str(uuid.uuid4()), f"{name} Messaging Flow", MESSAGE_FLOW, now, description=f"Routes to {name}")
        for name in QUEUE_NAMES
    ]
    flows.append(Flow(str(uuid.uuid4()), UNPUBLISHED_FLOW, MESSAGE_FLOW, now, published=False))
    flows.append(Flow(str(uuid.uuid4()), VOICE_FLOW, "INBOUNDCALL", now))
    return flows
