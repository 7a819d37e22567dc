"""Site-wide pages: home and the escalator picture."""
