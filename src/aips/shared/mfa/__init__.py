"""Second factors (R57.8, R57.11): TOTP authenticators (django-otp), WebAuthn security keys with
user verification, and single-use recovery codes; enrolment, verification and removal. Users
arrive as arguments, so this app never imports `accounts`; the pages that use it are in
`accounts`. Part of the platform."""
