"""Badges: layouts, QR codes, print views and PDFs."""
