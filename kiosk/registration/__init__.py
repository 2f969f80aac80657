"""Registration: the public sign-up page, personal links, the waiting list."""
