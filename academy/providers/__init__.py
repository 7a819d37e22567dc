"""Training providers: the organisations that list courses."""
