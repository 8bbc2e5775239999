"""Background jobs run by RQ workers. Jobs take ids, never objects, and set up the app themselves."""
