"""The catalogue: courses, their cohorts and sessions, prerequisites and programmes."""
