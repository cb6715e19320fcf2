"""Second factors (R57.8, R57.11): TOTP authenticators (django-otp), WebAuthn security keys with
user verification, and single-use recovery codes; enrolment, verification and removal. Users
arrive as arguments (the `accounts.User` model, or the core `Person` protocol where a lookup by
id is all a function needs); the pages that use it are in `accounts`. Part of the platform."""
