"""People: accounts, logins and their throttling, the setup link, and assigning documents
to annotators."""
