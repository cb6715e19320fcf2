"""Biometric identification (R57.9, R57.10, R57.11): a provider-neutral port. The platform starts
a session for a purpose (IIN binding at registration, the second factor at sign-in, a password
change), the provider's client checks liveness and matches the face against the IIN's record,
and the provider reports to a signed, replay-protected webhook. Every report is kept as an
immutable `BiometricCheck`; the platform decides (liveness and its own match threshold) and
refuses a purpose after three failed checks. A scripted fake provider serves tests and the demo;
real providers plug in behind `providers.BiometricProvider` by configuration. Part of the
platform."""
