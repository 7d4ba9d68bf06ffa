"""Who may do what: the one policy table, scopes, accounts, passwords, browser sessions, masking and
the audit log."""
