"""The store: every card served and every feedback item on it, for repeats and the report.

``db`` holds the tables and opens the database (SQLite by default, PostgreSQL by URL) with its
migrations run; ``recorder`` writes served cards off the request path; ``feedback`` keeps what
clinicians answered; ``repeats`` uses it to decide a card's repeat; ``report`` reads it back for
the rules committee; ``retention`` removes what is older than the retention setting.
"""
