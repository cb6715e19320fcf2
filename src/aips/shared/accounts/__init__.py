"""People and how they sign in (R67.6, R57.7, R57.8): the `User` (e-mail login, one role, one
organization), invitations, the organizations' requests for new accounts, personal API tokens,
the password-then-second-factor sign-in, sessions and their limits, re-authentication, lockout,
blocking and password change and reset, and the API's authentication (`api_auth`). Part of the
platform."""
