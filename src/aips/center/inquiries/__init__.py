"""Requests (R67.3.7, R67.11, R67.14, R67.15), part of the AIPS product: a formal appeal on IS
matters from an organization or the center to the center and/or other organizations, approved
by the sender's IS-unit head, with one thread per addressee that accepts, answers and is
answered on its own working-day clocks. "Request" in the UI, URLs and API; "inquiry" in the
code, so that it is never confused with an HTTP request."""
