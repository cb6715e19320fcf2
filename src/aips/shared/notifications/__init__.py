"""How the platform tells people something: in-app notifications, e-mails through a
transactional outbox that the worker drains, and deadline reminders from the sources that
product apps register. A leaf of the platform: product apps call it with their own rules; it
does not import them."""
