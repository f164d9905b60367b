"""Account webhooks (docs/webhooks.md): endpoints, the events made from notifications, their
signed deliveries through the outbox (resolvers/outbox.py)."""
