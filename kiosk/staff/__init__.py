"""Staff: organiser and host accounts, and organisers' personal API tokens."""
