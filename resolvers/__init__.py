"""The service layer (docs/architecture.md)."""

# Every Notification row created in this process also goes out as a webhook event where its
# kind maps to one: importing resolvers/notify/events.py registers that hook (docs/webhooks.md).
from resolvers.notify import events as _webhook_events  # noqa: F401
