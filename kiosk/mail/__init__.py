"""E-mail: the outbox, building messages and the sender that delivers them."""
