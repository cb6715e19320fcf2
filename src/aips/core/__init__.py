"""The core of the platform, below every app: the closed list of permissions and roles and the
access checks (`require`, `api_auth`'s helpers, `ensure_perm`), the `Actor` type and the tenant
base every queryset uses (`visible_to`), the one application error type and the API's JSON error
shape, the request context and middleware, the input rules (text, numbers, JSON depth, upload
size), keyset pagination, CSV exports, the shell templates and the project-wide commands
(`serve`, `worker`, `demo`, `org`, `db`). It imports no other AIPS app."""
