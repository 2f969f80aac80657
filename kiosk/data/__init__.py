"""The data layer: named functions that take the db first and return dicts or scalars."""
