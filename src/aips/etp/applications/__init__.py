"""The ETP's trading procedures, applications and deposits: the operator announces a procedure
for a published lot (schedule and deposit), participants apply with an EDS-signed application
before the deadline, the operator confirms their deposits and admits or refuses them
(docs/domains/etp.md, "Applications and deposits")."""
