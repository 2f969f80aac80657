"""What every page shares: page-or-fragment rendering, security headers, language."""
