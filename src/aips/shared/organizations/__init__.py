"""Organizations, the tenants of AIPS (R67.4, R67.5): banks, microfinance and other financial
organizations and the center itself, with their profiles (BIN, names in kk/ru/en, contacts) and
status. Every tenant-owned row in the other apps points at one; the one center organization
sees across them. Part of the platform that both systems build on."""
